import Foundation
import NIOConcurrencyHelpers
import TollgateCore

/// The one clock tests move by hand: a Swift `Clock` whose sleepers wake only when the
/// test advances it past their deadline, plus a calendar date that moves with it.
/// `serviceClock` hands it to the code under test.
public final class ManualClock: Clock, Sendable {
    public struct Instant: InstantProtocol, Sendable {
        public var offset: Duration

        public func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        public func duration(to other: Instant) -> Duration { other.offset - offset }
        public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private struct Sleeper {
        var deadline: Instant
        var wake: CheckedContinuation<Void, Error>
    }

    private struct State {
        var now = Instant(offset: .zero)
        var nextSleeper = 0
        var sleepers: [Int: Sleeper] = [:]
    }

    private let state = NIOLockedValueBox(State())
    private let startDate: Date

    /// Starts at `date` on the calendar (2026-01-01T00:00:00Z unless told).
    public init(date: Date = Date(timeIntervalSince1970: 1_767_225_600)) {
        startDate = date
    }

    /// Starts at `unixSeconds` on the calendar.
    public convenience init(unixSeconds: Int64) {
        self.init(date: Date(timeIntervalSince1970: TimeInterval(unixSeconds)))
    }

    public var now: Instant { state.withLockedValue { $0.now } }
    public var minimumResolution: Duration { .nanoseconds(1) }

    /// The calendar date, `startDate` plus however far the clock was advanced.
    public var date: Date {
        let offset = now.offset.components
        return startDate.addingTimeInterval(TimeInterval(offset.seconds) + TimeInterval(offset.attoseconds) / 1e18)
    }

    /// For the code under test.
    public var serviceClock: ServiceClock { ServiceClock(self, date: { [self] in date }) }

    /// Moves time forward and wakes every sleeper whose deadline it reached.
    public func advance(by duration: Duration) {
        precondition(duration >= .zero, "a clock only moves forward")
        let due = state.withLockedValue { state in
            state.now = state.now.advanced(by: duration)
            let now = state.now
            let due = state.sleepers.filter { $0.value.deadline <= now }
            for id in due.keys { state.sleepers[id] = nil }
            return due.values.map(\.wake)
        }
        for wake in due { wake.resume() }
    }

    /// Moves the calendar to `unixSeconds` (forward only), and monotonic time with it.
    public func advance(toUnixSeconds unixSeconds: Int64) {
        let target = Date(timeIntervalSince1970: TimeInterval(unixSeconds))
        advance(by: .milliseconds(Int64((target.timeIntervalSince(date) * 1000).rounded())))
    }

    /// How many tasks are sleeping on this clock, so a test can wait for one to start.
    public var sleeperCount: Int { state.withLockedValue { $0.sleepers.count } }

    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        let id = state.withLockedValue { state in
            defer { state.nextSleeper += 1 }
            return state.nextSleeper
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (wake: CheckedContinuation<Void, Error>) in
                let resumeNow: Error?? = state.withLockedValue { state in
                    if Task.isCancelled { return .some(CancellationError()) }
                    if deadline <= state.now { return .some(nil) }
                    state.sleepers[id] = Sleeper(deadline: deadline, wake: wake)
                    return .none
                }
                switch resumeNow {
                case .some(.some(let error)): wake.resume(throwing: error)
                case .some(.none): wake.resume()
                case .none: break
                }
            }
        } onCancel: {
            let sleeper = state.withLockedValue { $0.sleepers.removeValue(forKey: id) }
            sleeper?.wake.resume(throwing: CancellationError())
        }
    }
}
