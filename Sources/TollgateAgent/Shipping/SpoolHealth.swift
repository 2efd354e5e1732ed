import Foundation

/// Whether the spool takes writes, and why not: a value the shipper thread feeds with the
/// outcome of every disk operation, read by `/status`, `/healthz`, the gauge and the gate
/// that refuses requests under `spool.on_full: deny`.
///
/// A failed operation marks the spool unwritable until the same operation succeeds again;
/// usage held in memory keeps it degraded until it too is on disk, so "writable" means a
/// `kill -9` now would lose nothing recorded.
struct SpoolHealth: Equatable {
    enum Operation: String, CaseIterable, Sendable {
        /// An event record appended to the event log (by an event loop or the meter).
        case append
        /// A batch appended and fsynced to a segment.
        case batch
        /// The next epoch's event log created at a cut.
        case rotate
        /// `agent.json` replaced after a cut.
        case identity
    }

    private(set) var failing: [Operation: String] = [:]
    /// Estimated bytes of usage only memory holds.
    var heldBytes = 0

    var writable: Bool { failing.isEmpty }
    var degraded: Bool { !failing.isEmpty || heldBytes > 0 }

    mutating func failed(_ operation: Operation, _ error: String) { failing[operation] = error }
    mutating func succeeded(_ operation: Operation) { failing[operation] = nil }

    /// What an operator reads at `/status` and `/healthz`; nil when all is well.
    var reason: String? {
        guard degraded else { return nil }
        var parts = Operation.allCases.compactMap { operation in failing[operation].map { "\(operation.rawValue): \($0)" } }
        if heldBytes > 0 { parts.append("\(heldBytes) bytes of usage held in memory until the spool takes writes") }
        return "spool not writable: " + parts.joined(separator: "; ")
    }

    /// Memory one held cell is reckoned to take: the ring's slot size plus the dictionary
    /// entry and its strings. An estimate for the bound, not an accounting.
    static let bytesPerHeldCell = 320
}
