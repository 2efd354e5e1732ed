import TestSupport
import Testing
import TollgateCore
@testable import TollgateAgent

/// Shutdown's wait for requests in flight, on a manual clock: it ends when the last
/// request does, with the clock standing still, so no poll tick is involved.
@Suite struct InFlightRequestsTests {
    /// Until the drain's timer sleeps on `clock`, i.e. the drain is registered.
    func waitForTimer(on clock: ManualClock) async throws {
        while clock.sleeperCount == 0 { try await Task.sleep(for: .milliseconds(1)) }
    }

    @Test func nothingInFlightDrainsAtOnce() async {
        let clock = ManualClock()
        #expect(await InFlightRequests().drained(within: .seconds(10), clock: clock.serviceClock))
        #expect(clock.sleeperCount == 0)
    }

    @Test func theDrainEndsWhenTheLastRequestDoes() async throws {
        let clock = ManualClock()
        let inFlight = InFlightRequests()
        inFlight.begin()
        inFlight.begin()
        async let drained = inFlight.drained(within: .seconds(10), clock: clock.serviceClock)
        try await waitForTimer(on: clock)
        inFlight.end()
        #expect(clock.sleeperCount == 1, "one request is still in flight")
        inFlight.end()
        #expect(await drained, "the clock never moved: only the last end() can have woken it")
        #expect(clock.sleeperCount == 0, "the timeout's timer is cancelled with it")
    }

    @Test func theDrainGivesUpAtTheTimeoutOnItsClock() async throws {
        let clock = ManualClock()
        let inFlight = InFlightRequests()
        inFlight.begin()
        async let drained = inFlight.drained(within: .seconds(10), clock: clock.serviceClock)
        try await waitForTimer(on: clock)
        clock.advance(by: .seconds(9))
        #expect(clock.sleeperCount == 1)
        clock.advance(by: .seconds(1))
        #expect(await drained == false)
        inFlight.end()  // ends late: nobody is waiting any more
        #expect(inFlight.current == 0)
    }
}
