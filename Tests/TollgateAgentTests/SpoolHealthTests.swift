@testable import TollgateAgent
import Testing

@Suite struct SpoolHealthTests {
    @Test func aFailureDegradesUntilTheSameOperationSucceeds() {
        var health = SpoolHealth()
        #expect(!health.degraded && health.reason == nil)
        health.failed(.batch, "No space left on device")
        health.failed(.append, "No space left on device")
        #expect(!health.writable && health.degraded)
        health.succeeded(.append)
        #expect(health.degraded, "the batch write still fails")
        #expect(health.reason == "spool not writable: batch: No space left on device")
        health.succeeded(.batch)
        #expect(!health.degraded)
    }

    @Test func usageHeldInMemoryKeepsItDegradedOnceWritesWorkAgain() {
        var health = SpoolHealth()
        health.heldBytes = 640
        #expect(health.writable && health.degraded)
        #expect(health.reason?.contains("640 bytes of usage held in memory") == true)
        health.heldBytes = 0
        #expect(!health.degraded)
    }
}
