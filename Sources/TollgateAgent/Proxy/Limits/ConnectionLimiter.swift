import NIOCore
import Prometheus
import Synchronization

/// Counts the proxy's open client connections (base URL, HTTP_PROXY, intercepted and
/// tunnelled alike: they are all one accepted socket) against `limits.max_connections`, so
/// a client that opens connections faster than they finish cannot exhaust the agent's
/// file descriptors and memory for everyone else on the host.
final class ConnectionLimiter: Sendable {
    let maxConnections: Int
    private let open = Atomic<Int>(0)
    private let gauge: Gauge?

    init(maxConnections: Int, gauge: Gauge? = nil) {
        self.maxConnections = maxConnections
        self.gauge = gauge
    }

    /// Counts `channel` as open until it closes; false (and not counted) when the cap is
    /// reached, and then the caller refuses it.
    func admit(_ channel: Channel) -> Bool {
        guard open.add(1, ordering: .relaxed).newValue <= maxConnections else {
            open.subtract(1, ordering: .relaxed)
            return false
        }
        gauge?.increment()
        channel.closeFuture.whenComplete { [self] _ in
            open.subtract(1, ordering: .relaxed)
            gauge?.decrement()
        }
        return true
    }

    var current: Int { open.load(ordering: .relaxed) }
}
