import TestSupport
import Testing
@testable import TollgateAggregator
import TollgateWire

/// A refused agent resends forever; the log names the problem a few times a minute, not
/// once per resend, and one kind of refusal does not silence another.
@Suite struct RefusalLogLimiterTests {
    @Test func atMostFiveLinesAMinutePerKind() {
        let clock = ManualClock()
        let limiter = RefusalLogLimiter(clock: clock.serviceClock)
        let allowed = (0..<100).filter { _ in limiter.allow(.identity) }.count
        #expect(allowed == RefusalLogLimiter.perMinute)
        #expect(limiter.allow(.stateBehind), "another kind has its own allowance")
        clock.advance(by: .seconds(59))
        #expect(!limiter.allow(.identity))
        clock.advance(by: .seconds(1))
        #expect(limiter.allow(.identity), "a new minute, a new allowance")
    }
}
