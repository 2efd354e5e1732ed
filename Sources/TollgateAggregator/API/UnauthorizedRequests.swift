import Logging
import NIOConcurrencyHelpers
import NIOHTTP1
import Prometheus
import TollgateCore

/// API requests refused for a missing or wrong bearer token: counted by reason, and logged
/// at most once per interval with how many were refused since, so someone probing the API
/// can neither go unseen nor flood the log.
final class UnauthorizedRequests: Sendable {
    enum Reason: String, CaseIterable {
        case missing, wrong
        /// The read-only token, on a request that changes something (403).
        case readOnly = "read_only"
    }

    private let counters: CounterFamily
    private let logger: Logger
    private let clock: ServiceClock
    private let interval: Duration
    private struct Window {
        var lastLog: ServiceClock.Instant?
        var suppressed = 0
    }
    private let window = NIOLockedValueBox(Window())

    init(counters: CounterFamily, logger: Logger, clock: ServiceClock, interval: Duration = .seconds(10)) {
        self.counters = counters
        self.logger = logger
        self.clock = clock
        self.interval = interval
    }

    func record(_ reason: Reason, method: HTTPMethod, path: String) {
        counters(reason.rawValue).increment()
        let now = clock.now
        let suppressed: Int? = window.withLockedValue { window in
            if let last = window.lastLog, last.duration(to: now) < interval {
                window.suppressed += 1
                return nil
            }
            defer { window = Window(lastLog: now, suppressed: 0) }
            return window.suppressed
        }
        guard let suppressed else { return }
        let others = suppressed > 0 ? " (and \(suppressed) more refused since the last such line)" : ""
        let what = switch reason {
        case .missing: "no bearer token"
        case .wrong: "a wrong bearer token"
        case .readOnly: "the read-only token, which cannot change anything"
        }
        logger.warning("refused \(method) \(path): \(what)\(others); tollgate_api_unauthorized_total counts every refusal")
    }
}
