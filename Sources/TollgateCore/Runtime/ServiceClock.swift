import Foundation

/// The time a Tollgate service reads wherever time decides what it does: flush intervals,
/// resend backoff, drain and staleness timeouts (monotonic `Instant`s), and wire
/// timestamps and budget windows (`date`, the calendar).
///
/// A `Clock` in its own right, over any other `Clock`: components take a `ServiceClock`
/// instead of becoming generic over the clock's type, and a test hands them one made from
/// `ManualClock` (TestSupport), which moves both readings together.
public struct ServiceClock: Clock {
    /// Monotonic time since the clock was made: compare it only with instants of the same
    /// clock (`system` is one clock for the whole process).
    public struct Instant: InstantProtocol, Sendable {
        fileprivate let sinceOrigin: Duration

        public func advanced(by duration: Duration) -> Instant { Instant(sinceOrigin: sinceOrigin + duration) }
        public func duration(to other: Instant) -> Duration { other.sinceOrigin - sinceOrigin }
        public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.sinceOrigin < rhs.sinceOrigin }
    }

    private let elapsed: @Sendable () -> Duration
    private let sleeper: @Sendable (Duration) async throws -> Void
    private let calendar: @Sendable () -> Date

    /// Reads monotonic time from `clock` and the calendar from `date`.
    public init<C: Clock>(_ clock: C, date: @escaping @Sendable () -> Date) where C.Duration == Duration {
        let origin = clock.now
        elapsed = { origin.duration(to: clock.now) }
        sleeper = { try await clock.sleep(for: $0) }
        calendar = date
    }

    /// The process's own time: `ContinuousClock` and the system's calendar.
    public static let system = ServiceClock(ContinuousClock(), date: { Date() })

    public var now: Instant { Instant(sinceOrigin: elapsed()) }
    public var minimumResolution: Duration { .nanoseconds(1) }

    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        try await sleeper(now.duration(to: deadline))
    }

    /// The calendar: timestamps on the wire, budget windows.
    public var date: Date { calendar() }

    /// Whole milliseconds since 1970, for the `…_ms` timestamps on the wire.
    public var unixMilliseconds: Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded(.down)) }

    /// Whole seconds since 1970, for budget windows.
    public var unixSeconds: Int64 { Int64(date.timeIntervalSince1970.rounded(.down)) }
}

extension Duration {
    /// Whole milliseconds, rounded down: for ZeroMQ's integer timeouts and for logs.
    public var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000 + attoseconds / 1_000_000_000_000_000
    }
}
