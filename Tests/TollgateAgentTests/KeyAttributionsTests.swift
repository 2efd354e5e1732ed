import Testing
import TollgateCore
import TollgateHTTP1
import TollgateWire
@testable import TollgateAgent

/// A labelled key's team and project fill a request's attribution unless its headers name them.
@Suite struct KeyAttributionsTests {
    static let key = String(repeating: "a", count: 32)

    static func update(version: UInt64, snapshot: Bool, labels: [KeyLabel], removed: [String] = []) -> QuotaUpdateMessage {
        QuotaUpdateMessage(version: version, isSnapshot: snapshot, budgets: [], issuedAtMilliseconds: 0, keyLabels: labels, removedKeyLabelIDs: removed)
    }

    @Test func theKeysLabelFillsWhatTheHeadersLeaveOutAndBeatsTheHostDefault() throws {
        let attributions = KeyAttributions()
        attributions.apply(Self.update(version: 1, snapshot: true, labels: [KeyLabel(keyID: Self.key, team: "ml", project: "evals")]))
        var hostDefaults = Attribution()
        hostDefaults.team = "ci"
        var plain = hostDefaults
        attributions.fill(&plain, keyID: Self.key, headers: try .post([:]))
        #expect(plain.team == "ml" && plain.project == "evals")

        var tagged = hostDefaults
        tagged.team = "web"
        attributions.fill(&tagged, keyID: Self.key, headers: try .post(["X-Tollgate-Team": "web"]))
        #expect(tagged.team == "web" && tagged.project == "evals")

        var other = hostDefaults
        attributions.fill(&other, keyID: String(repeating: "b", count: 32), headers: try .post([:]))
        #expect(other == hostDefaults)
    }

    @Test func deltasChangeAndRemoveLabelsAndASnapshotReplacesThem() throws {
        let attributions = KeyAttributions()
        let other = String(repeating: "b", count: 32)
        attributions.apply(Self.update(version: 1, snapshot: true, labels: [KeyLabel(keyID: Self.key, team: "ml")]))
        attributions.apply(Self.update(version: 2, snapshot: false, labels: [KeyLabel(keyID: other, team: "web")]))
        #expect(attributions.count == 2)
        attributions.apply(Self.update(version: 3, snapshot: false, labels: [], removed: [Self.key]))
        var attribution = Attribution()
        attributions.fill(&attribution, keyID: Self.key, headers: try .post([:]))
        #expect(attribution.team == "" && attributions.count == 1)
        // A budget-only delta leaves labels alone; a snapshot without labels clears them.
        attributions.apply(Self.update(version: 4, snapshot: false, labels: []))
        #expect(attributions.count == 1)
        attributions.apply(Self.update(version: 5, snapshot: true, labels: []))
        #expect(attributions.count == 0)
    }
}
