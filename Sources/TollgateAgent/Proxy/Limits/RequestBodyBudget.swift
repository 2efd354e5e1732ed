import Prometheus
import Synchronization

/// The request body bytes every proxy connection holds together, capped at
/// `limits.max_buffered_bytes`. The proxy collects a whole body before forwarding it (it is
/// classified and gated first), so without a shared cap a few clients that each send most
/// of a large body and then stall pin that much memory each.
///
/// One atomic add per body read; a body that would go over the cap is refused (503, retry
/// later) and what it held is given back. Bytes are held by the `ProxyExchange` that
/// buffers them and given back when it drops its body or is gone, however its request ended.
final class RequestBodyBudget: Sendable {
    let maxBytes: Int
    private let held = Atomic<Int>(0)
    private let gauge: Gauge?

    init(maxBytes: Int, gauge: Gauge? = nil) {
        self.maxBytes = maxBytes
        self.gauge = gauge
    }

    /// Takes `bytes` from the budget; false (and nothing taken) when they do not fit.
    func reserve(_ bytes: Int) -> Bool {
        let total = held.add(bytes, ordering: .relaxed).newValue
        guard total <= maxBytes else {
            held.subtract(bytes, ordering: .relaxed)
            return false
        }
        gauge?.increment(by: Double(bytes))
        return true
    }

    func release(_ bytes: Int) {
        guard bytes > 0 else { return }
        held.subtract(bytes, ordering: .relaxed)
        gauge?.decrement(by: Double(bytes))
    }

    /// Bytes held right now.
    var current: Int { held.load(ordering: .relaxed) }
}
