import Foundation
import TollgateWire

/// Puts an agent's quota updates back together. In a large fleet the aggregator does not
/// broadcast every agent's watermark to every agent (5,000 agents each decoding 5,000
/// watermarks is what a fleet that size cannot afford): it sends each agent its own, on
/// its own topic, just before the broadcast delta of the same version. The two must apply
/// in one instant, or the agent would for a moment count its own spend twice (statuses
/// first) or not at all (watermark first); so the watermark is held here until its
/// broadcast arrives and goes in with it.
struct QuotaMessageAssembler {
    /// The companion waiting for its broadcast.
    private var held: QuotaUpdateMessage?

    enum Frame {
        case broadcast(QuotaUpdateMessage)
        /// On this agent's own topic: a snapshot, or the companion of a broadcast.
        case own(QuotaUpdateMessage)
    }

    /// The update to apply, if this frame completes one.
    mutating func receive(_ frame: Frame) -> QuotaUpdateMessage? {
        switch frame {
        case .own(let update) where update.isSnapshot:
            held = nil
            return update
        case .own(let companion):
            // One pending at most: a second companion means the first's broadcast was lost,
            // which the broadcast's version gap reports.
            held = companion
            return nil
        case .broadcast(var update):
            defer { held = nil }
            if let held, held.version == update.version {
                update.watermarks.merge(held.watermarks) { _, own in own }
            }
            return update
        }
    }
}
