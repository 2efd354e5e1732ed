import NIOCore
import Testing
@testable import TollgateAgent

/// The upload's two clocks, driven with explicit times.
@Suite struct RequestDeadlinesTests {
    static func at(_ milliseconds: Int64) -> NIODeadline { .uptimeNanoseconds(UInt64(milliseconds) * 1_000_000) }

    @Test func aBodyThatStopsArrivingExpiresOneIdleTimeoutAfterItsLastBytes() {
        var deadlines = RequestDeadlines(bodyIdle: .milliseconds(1_000), request: .milliseconds(60_000))
        #expect(!deadlines.isArmed && deadlines.nextCheck == nil)
        #expect(deadlines.progressed(at: Self.at(10_000)) == Self.at(11_000), "arming asks for a check")
        #expect(deadlines.progressed(at: Self.at(10_800)) == nil, "later progress does not ask again")
        #expect(deadlines.expired(at: Self.at(11_000)) == nil, "bytes came at 10.8 s")
        #expect(deadlines.nextCheck == Self.at(11_800))
        #expect(deadlines.expired(at: Self.at(11_799)) == nil)
        #expect(deadlines.expired(at: Self.at(11_800)) == .bodyIdle)
    }

    @Test func aTrickleFasterThanTheIdleTimeoutStillMeetsTheRequestDeadline() {
        var deadlines = RequestDeadlines(bodyIdle: .milliseconds(1_000), request: .milliseconds(3_000))
        _ = deadlines.progressed(at: Self.at(0))
        for milliseconds in stride(from: Int64(500), through: 2_500, by: 500) {
            _ = deadlines.progressed(at: Self.at(milliseconds))
            #expect(deadlines.expired(at: Self.at(milliseconds)) == nil)
        }
        #expect(deadlines.nextCheck == Self.at(3_000), "the request's deadline comes before the next idle one")
        #expect(deadlines.expired(at: Self.at(3_000)) == .request)
    }

    @Test func aCompletedRequestIsNoLongerTimedAndTheNextStartsAfresh() {
        var deadlines = RequestDeadlines(bodyIdle: .milliseconds(1_000), request: .milliseconds(3_000))
        _ = deadlines.progressed(at: Self.at(0))
        deadlines.disarm()
        #expect(deadlines.expired(at: Self.at(100_000)) == nil && deadlines.nextCheck == nil)
        #expect(deadlines.progressed(at: Self.at(50_000)) == Self.at(51_000))
        #expect(deadlines.expired(at: Self.at(52_500)) == .bodyIdle)
    }
}
