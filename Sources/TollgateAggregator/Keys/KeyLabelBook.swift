import NIOConcurrencyHelpers
import TollgateCore

/// Every key label, in memory (read by each usage report and each quota snapshot), backed by
/// the store. Observers hear the whole set after each change: the quota publisher diffs it
/// against what agents hold, so a change reaches every agent as a delta.
///
/// `@unchecked Sendable`: labels and observers are behind their own locks.
public final class KeyLabelBook: @unchecked Sendable {
    private let store: UsageStore
    private let labels: NIOLockedValueBox<[String: KeyLabel]>
    private let observers = NIOLockedValueBox<[@Sendable ([KeyLabel]) -> Void]>([])
    /// Serialises changes so observers hear them in the order they were stored.
    private let changing = NIOLock()

    init(store: UsageStore) throws {
        self.store = store
        labels = NIOLockedValueBox(Dictionary(try store.loadKeyLabels().map { ($0.keyID, $0) }, uniquingKeysWith: { $1 }))
    }

    public func label(keyID: String) -> KeyLabel? { labels.withLockedValue { $0[keyID] } }

    /// Every label, by key id.
    public func all() -> [KeyLabel] { labels.withLockedValue { Array($0.values) }.sorted { $0.keyID < $1.keyID } }

    /// What agents need: the labels that name a team or a project, with only those.
    public func attributions() -> [KeyLabel] {
        all().compactMap { label in
            guard !label.team.isEmpty || !label.project.isEmpty else { return nil }
            return KeyLabel(keyID: label.keyID, team: label.team, project: label.project)
        }
    }

    /// Stores `label` (an empty one removes the key's label); returns the label before.
    @discardableResult
    func set(_ label: KeyLabel) throws -> KeyLabel? {
        try label.validate()
        let before: KeyLabel? = try changing.withLock {
            let before = self.label(keyID: label.keyID)
            guard before != label, !(before == nil && label.isEmpty) else { return before }
            try store.saveKeyLabel(label)
            labels.withLockedValue { $0[label.keyID] = label.isEmpty ? nil : label }
            let everything = attributions()
            for observer in observers.withLockedValue({ $0 }) { observer(everything) }
            return before
        }
        return before
    }

    /// Calls `observer` with `attributions()` now and after every change.
    func addObserver(_ observer: @escaping @Sendable ([KeyLabel]) -> Void) {
        changing.withLock {
            observers.withLockedValue { $0.append(observer) }
            observer(attributions())
        }
    }
}
