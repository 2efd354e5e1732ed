import TollgateWire

/// How the shipper, which owns the usage socket, carries leases for the quota book: each
/// turn of its loop it sends what `outgoing` returns (lease requests travel on the usage
/// channel, where the aggregator knows who is speaking), and hands every answer to `received`.
struct LeaseExchange: Sendable {
    var outgoing: @Sendable () -> [LeaseRequestMessage]
    var received: @Sendable (LeaseGrantMessage) -> Void

    /// The exchange for `book`, counting what goes by in `metrics`.
    static func of(_ book: QuotaBook, metrics: AgentMetrics) -> LeaseExchange {
        LeaseExchange(
            outgoing: {
                let requests = book.leaseRequests()
                for request in requests { metrics.leaseMessages(request.release ? "released" : "requested").increment() }
                return requests
            },
            received: { grant in
                metrics.leaseMessages(grant.refused == nil ? "granted" : "refused").increment()
                book.received(grant)
                metrics.leaseGranted(grant.budgetID).set(to: Double(book.leases.live[grant.budgetID]?.granted ?? 0))
            })
    }
}
