import Foundation
import Logging
import TestSupport
import Testing
import TollgateCore
import TollgateWire
@testable import TollgateAggregator

/// Named keys: sightings kept at ingest, labels stored and pushed, hints resolved.
@Suite struct KeyLabelTests {
    static let keyA = String(repeating: "a", count: 32)
    static let keyB = String(repeating: "b", count: 32)
    static let keyC = "ab" + String(repeating: "c", count: 30)

    static func cell(key: String, hint: String, minute: Int64, cost: Int64 = 1_000) -> Cell {
        var cell = BudgetStoreTests.cell(minute: minute, team: "", cost: cost)
        cell.key.dimensions.keyID = key
        cell.key.dimensions.keyHint = hint
        return cell
    }

    @Test func sightingsKeepTheFirstAndLastMinuteAcrossBatchesAndRestarts() throws {
        try withTemporaryDirectory { directory in
            do {
                let store = try UsageStore(directory: directory)
                _ = try store.apply(BudgetStoreTests.batch(1, [Self.cell(key: Self.keyA, hint: "openai:sk-…0001", minute: 100),
                                                              Self.cell(key: Self.keyA, hint: "openai:sk-…0001", minute: 90),
                                                              Self.cell(key: Self.keyB, hint: "anthropic:sk-ant-…0002", minute: 95)]))
                _ = try store.apply(BudgetStoreTests.batch(2, [Self.cell(key: Self.keyA, hint: "openai:sk-…0001", minute: 120)]))
                // A duplicate moves nothing.
                _ = try store.apply(BudgetStoreTests.batch(2, [Self.cell(key: Self.keyA, hint: "openai:sk-…0001", minute: 500)]))
                store.close()
            }
            let store = try UsageStore(directory: directory)
            defer { store.close() }
            let seen = try store.keySightings().sorted { $0.keyID < $1.keyID }
            #expect(seen == [KeySighting(keyID: Self.keyA, hint: "openai:sk-…0001", firstMinute: 90, lastMinute: 120),
                             KeySighting(keyID: Self.keyB, hint: "anthropic:sk-ant-…0002", firstMinute: 95, lastMinute: 95)])
            // After the restart the cache is empty: a later batch still widens from what is on disk.
            _ = try store.apply(BudgetStoreTests.batch(3, [Self.cell(key: Self.keyB, hint: "anthropic:sk-ant-…0002", minute: 80)]))
            #expect(try store.keySightings().first { $0.keyID == Self.keyB }?.firstMinute == 80)
        }
    }

    /// Hundreds of keys interleaved in one batch (each cell a different key from the last):
    /// every key found again in the table, none lost or merged.
    @Test func manyInterleavedKeysInOneBatchAreEachSeenOnce() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            defer { store.close() }
            let ids = (0..<300).map { String(format: "%032x", $0 * 7_919) }
            let cells = (0..<1_200).map { Self.cell(key: ids[$0 % 300], hint: "h\($0 % 300)", minute: 100 + Int64($0 / 300)) }
            _ = try store.apply(BudgetStoreTests.batch(1, cells))
            let seen = try store.keySightings()
            #expect(seen.count == 300)
            #expect(seen.allSatisfy { $0.firstMinute == 100 && $0.lastMinute == 103 })
            #expect(Set(seen.map(\.keyID)) == Set(ids))
        }
    }

    static let keys = [KeySighting(keyID: keyA, hint: "openai:sk-…0001", firstMinute: 0, lastMinute: 0),
                       KeySighting(keyID: keyB, hint: "anthropic:sk-ant-…0001", firstMinute: 0, lastMinute: 0),
                       KeySighting(keyID: keyC, hint: "openai:sk-proj-…7777", firstMinute: 0, lastMinute: 0)]

    @Test(arguments: [(keyA, keyA), ("aaaaaaaa", keyA), ("openai:sk-…0001", keyA), ("sk-ant-…0001", keyB), ("…7777", keyC), ("abcccc", keyC)])
    func aReferenceFindsOneKey(_ reference: String, _ expected: String) {
        #expect(KeyLookup.resolve(reference, among: Self.keys) == .found(Self.keys.first { $0.keyID == expected }!))
    }

    @Test func anAmbiguousOrUnknownReferenceIsAnErrorThatSaysWhatToGive() throws {
        let ambiguous = KeyLookup.resolve("0001", among: Self.keys)
        guard case .ambiguous(_, let matches) = ambiguous else { Issue.record("\(ambiguous)"); return }
        #expect(matches.map(\.keyID) == [Self.keyA, Self.keyB])
        let message = try #require(KeyLookup.problem(ambiguous))
        #expect(message.contains(Self.keyA) && message.contains("anthropic:sk-ant-…0001") && message.contains("give the key id"))
        let none = try #require(KeyLookup.problem(KeyLookup.resolve("sk-…9999", among: Self.keys)))
        #expect(none.contains("no key this aggregator has seen matches 'sk-…9999'") && none.contains("tollgate keys list"))
        // Too short to be a prefix or a tail: never matches everything.
        #expect(KeyLookup.resolve("a", among: Self.keys) == .none("a"))
    }

    @Test func labelsAreValidated() {
        #expect(throws: KeyLabelError.self) { try KeyLabel(keyID: "sk-…0001", team: "ml").validate() }
        #expect(throws: KeyLabelError.self) { try KeyLabel(keyID: Self.keyA, team: "m\nl").validate() }
        #expect(throws: KeyLabelError.self) { try KeyLabel(keyID: Self.keyA, name: String(repeating: "x", count: 129)).validate() }
        #expect(throws: Never.self) { try KeyLabel(keyID: Self.keyA, name: "evals", team: "ml").validate() }
    }

    @Test func theMirrorPushesLabelChangesAsDeltasAndEveryLabelInSnapshots() throws {
        var mirror = QuotaMirror()
        _ = mirror.refresh(statuses: [], watermarks: [:], issuedAt: 0)
        let ml = KeyLabel(keyID: Self.keyA, team: "ml", project: "evals")
        let published = mirror.publishKeyLabels([ml], issuedAt: 1)
        let first = try #require(published)
        #expect(first.keyLabels == [ml] && first.removedKeyLabelIDs.isEmpty && !first.isSnapshot && first.version == 2)
        let again = mirror.publishKeyLabels([ml], issuedAt: 2)
        #expect(again == nil)
        #expect(mirror.snapshot(for: "agent", issuedAt: 3).keyLabels == [ml])
        let removed = mirror.publishKeyLabels([], issuedAt: 4)
        let removal = try #require(removed)
        #expect(removal.removedKeyLabelIDs == [Self.keyA] && removal.version == 3)
        // And over the wire.
        var message = first
        message.removedKeyLabelIDs = [Self.keyB]
        let decoded = try QuotaUpdateCodec.decode(try QuotaUpdateCodec.encode(message))
        #expect(decoded.keyLabels == [ml] && decoded.removedKeyLabelIDs == [Self.keyB])
    }
}
