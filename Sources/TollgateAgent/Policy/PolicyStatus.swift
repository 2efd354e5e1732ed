import TollgateCore
import TollgateWire

/// The spend policies in `/status`: which are in force, which this agent refused to apply
/// and why, and what each did here since the start, so a routed or refused request can be
/// explained from the host itself.
struct PolicyStatus: Encodable {
    var count: Int
    /// As the agent enforces them (models resolved to its catalog's ids).
    var policies: [Policy]
    var rejected: [PolicyRejection]
    var hits: [PolicyHitCounts]

    init(book: PolicyBook) {
        policies = book.set.policies
        count = policies.count
        rejected = book.rejections
        hits = book.hits
    }
}
