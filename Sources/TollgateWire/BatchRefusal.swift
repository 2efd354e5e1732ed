/// Why the aggregator refused a batch for good, as `Nack.code` carries it: the agent
/// cannot fix these by resending, only by changing what it sends (or an operator by
/// changing the agent's key or state). A gap is not one of them: it is a plain nack with
/// `expected_seq`, fixed by resending.
public enum BatchRefusal: String, Sendable, CaseIterable {
    /// The batch names an agent id bound to another CurveZMQ key: one agent may not ship,
    /// or erase by numbering, another's usage.
    case identity
    /// The seq is further past the aggregator's last applied one than any honest agent
    /// gets (`UsageStore.maxSeqAdvance`); accepting it would make every later honest
    /// batch look like a duplicate.
    case seqTooFar = "seq_too_far"
    /// The aggregator has applied a seq the agent has never numbered (`high_seq` below the
    /// aggregator's last): the agent's state directory went back in time (a restored
    /// backup, a copied state directory). Its batches at or below `last_applied_seq`
    /// would be taken for duplicates and silently dropped.
    case stateBehind = "state_behind"

    /// The metric label (`tollgate_ingest_rejected_total{reason}`).
    public var metricReason: String { rawValue }
}
