#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// How a thread waits for a queue to change: spin a little, then yield the core, then sleep
/// in short, growing naps.
///
/// `MPSCRing.push` uses it while the ring is full. It is public so that other queues (the
/// benchmark's mutex baseline, a consumer waiting on an empty ring) can wait in exactly the
/// same way. Call `reset()` once the queue made progress.
public struct Backoff {
    /// Retries before giving the core away: a consumer on another core often frees a slot
    /// within a few hundred nanoseconds, and a syscall costs more than that.
    @usableFromInline static let spinSteps = 16
    /// `sched_yield` rounds before sleeping. On a machine with fewer cores than threads the
    /// consumer may be runnable but not running; yielding lets it run.
    @usableFromInline static let yieldSteps = 32
    /// Longest nap, in microseconds: long enough to stop burning a core, short enough that a
    /// producer notices a drained ring within a fraction of a millisecond.
    @usableFromInline static let maxSleepMicros: UInt32 = 200

    @usableFromInline var step = 0

    @inlinable
    public init() {}

    /// Whether `wait()` has been called since the last `reset()`.
    @inlinable
    public var hasWaited: Bool { step > 0 }

    /// Waits once; each call waits a little longer than the one before, up to a short nap.
    @inlinable
    public mutating func wait() {
        defer { step &+= 1 }
        if step < Self.spinSteps {
            return
        }
        if step < Self.spinSteps + Self.yieldSteps {
            sched_yield()
            return
        }
        let naps = min(step - Self.spinSteps - Self.yieldSteps, 8)
        usleep(min(UInt32(1) << UInt32(naps), Self.maxSleepMicros))
    }

    @inlinable
    public mutating func reset() {
        step = 0
    }
}
