import Foundation
import Testing
import TollgateCore
import TollgateWire

/// A stop reaches a thread waiting in a ZeroMQ poll at once, not at the poll's timeout.
@Suite struct ZMQWakeupTests {
    func idleSocket() throws -> ZMQSocket {
        let socket = try ZMQSocket(ZMQContext(), .pair)
        try socket.bind("inproc://wakeup-test-\(UUID().uuidString)")
        return socket
    }

    @Test func aWakeUpFromAnotherThreadEndsAWaitingPoll() throws {
        let socket = try idleSocket()
        let wakeup = try ZMQWakeup()
        let waker = WorkerThread(name: "waker") {
            Thread.sleep(forTimeInterval: 0.1)
            wakeup.wake()
        }
        var ready = true
        let elapsed = try ContinuousClock().measure { ready = try socket.waitForInput(milliseconds: 30_000, wakeup: wakeup) }
        waker.join()
        #expect(!ready, "no message arrived: the wake-up ended the poll")
        #expect(elapsed < .seconds(10))
    }

    @Test func aWakeUpIsConsumedByThePollItEnds() throws {
        let socket = try idleSocket()
        let wakeup = try ZMQWakeup()
        wakeup.wake()
        wakeup.wake()
        let first = try ContinuousClock().measure { _ = try socket.waitForInput(milliseconds: 30_000, wakeup: wakeup) }
        #expect(first < .seconds(10))
        let second = try ContinuousClock().measure { _ = try socket.waitForInput(milliseconds: 50, wakeup: wakeup) }
        #expect(second >= .milliseconds(40), "the next poll waits its timeout again")
    }
}
