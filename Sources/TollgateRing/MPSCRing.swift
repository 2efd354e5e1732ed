import Atomics

/// A bounded, lock-free queue for many producer threads and **exactly one consumer thread**.
///
/// This is Dmitry Vyukov's bounded MPMC queue with the consumer side simplified for a
/// single consumer: every slot carries a sequence number that says whose turn it is.
/// For the slot of position `pos` (slot index `pos & mask`):
///
/// - `sequence == pos`: the slot is empty and free for the producer that claims `pos`;
/// - `sequence == pos + 1`: the producer of `pos` has written it; the consumer may take it;
/// - `sequence == pos + capacity`: the consumer emptied it; it is free for the next lap.
///
/// Producers claim positions with a CAS on `tail`; the consumer owns `head` alone.
///
/// - Important: Only one thread may call `pop()` or `drain(max:_:)` at a time, and in
///   practice it should always be the same thread. Any number of threads may push.
///
/// One consequence of the per-slot design: if a producer is preempted between claiming a
/// position and writing its slot, the consumer sees the ring as empty at that position
/// (even if later producers already finished) until the slow producer finishes. Nothing is
/// lost or reordered; it is only delayed.
public final class MPSCRing<Element> {
    /// The number of elements the ring holds: the requested capacity rounded up to a power
    /// of two, at least 2.
    public let capacity: Int

    @usableFromInline let mask: Int
    @usableFromInline let slots: UnsafeMutablePointer<Element>
    @usableFromInline let sequences: UnsafeMutablePointer<AtomicInt.Storage>
    @usableFromInline let counters: PaddedCounters

    /// Creates an empty ring. `capacity` is rounded up to a power of two (at least 2) so that
    /// a position maps to its slot with a mask instead of a division.
    public init(capacity: Int) {
        precondition(capacity > 0, "MPSCRing capacity must be positive, got \(capacity)")
        precondition(capacity <= 1 << 40, "MPSCRing capacity \(capacity) is unreasonably large")
        var rounded = 2
        while rounded < capacity { rounded <<= 1 }
        self.capacity = rounded
        self.mask = rounded - 1
        self.slots = .allocate(capacity: rounded)
        self.sequences = .allocate(capacity: rounded)
        for index in 0..<rounded {
            (sequences + index).initialize(to: AtomicInt.Storage(index))
        }
        self.counters = PaddedCounters()
    }

    deinit {
        // Every push holds a reference to the ring, so none can be between claiming and
        // writing a slot now: every position in head..<tail holds an initialized element.
        // Checking the sequence anyway keeps a broken invariant from freeing garbage.
        let head = counters.head.load(ordering: .relaxed)
        let tail = counters.tail.load(ordering: .relaxed)
        var position = head
        while position != tail {
            if sequence(position).load(ordering: .acquiring) == position &+ 1 {
                (slots + (position & mask)).deinitialize(count: 1)
            }
            position &+= 1
        }
        for index in 0..<capacity {
            _ = (sequences + index).pointee.dispose()
        }
        sequences.deinitialize(count: capacity)
        sequences.deallocate()
        slots.deallocate()
        counters.deallocate()
    }

    @inlinable
    func sequence(_ position: Int) -> UnsafeAtomic<Int> {
        UnsafeAtomic(at: sequences + (position & mask))
    }

    // MARK: Producers (any thread)

    /// Appends `element` if there is room. Lock-free; returns `false` when the ring is full.
    @inlinable
    public func tryPush(_ element: Element) -> Bool {
        // Relaxed is enough for tail: it only hands out positions. What a producer may
        // touch is decided by the slot's sequence, which is read with acquire below.
        var position = counters.tail.load(ordering: .relaxed)
        while true {
            // Acquire pairs with the consumer's release after it moved the previous lap's
            // element out, so our write below cannot race with that read.
            let sequence = self.sequence(position).load(ordering: .acquiring)
            let difference = sequence &- position
            if difference == 0 {
                // The slot is free for `position`. Whoever wins this CAS owns the slot; a
                // stale winner is impossible because `position` only ever grows and the
                // sequence must equal it exactly (so there is no ABA on wrapped indices).
                let (won, current) = counters.tail.weakCompareExchange(
                    expected: position, desired: position &+ 1, ordering: .relaxed
                )
                if won { break }
                position = current
            } else if difference < 0 {
                // The slot still holds the element from one lap ago: the ring is full.
                return false
            } else {
                // Another producer claimed `position` after we read tail; catch up.
                position = counters.tail.load(ordering: .relaxed)
            }
        }
        (slots + (position & mask)).initialize(to: element)
        // Release publishes the element to the consumer's acquiring load of this sequence.
        sequence(position).store(position &+ 1, ordering: .releasing)
        return true
    }

    /// Appends `element`, waiting for room if the ring is full. Never drops.
    ///
    /// While full it backs off (spins, then yields, then naps briefly; see `Backoff`) and
    /// counts one `fullWaits` for the call.
    @inlinable
    public func push(_ element: Element) {
        if tryPush(element) { return }
        counters.fullWaits.wrappingIncrement(ordering: .relaxed)
        var backoff = Backoff()
        repeat {
            backoff.wait()
        } while !tryPush(element)
    }

    /// How many `push` calls found the ring full and had to wait. Export it as a counter: a
    /// rising rate means the consumer cannot keep up.
    public var fullWaits: Int {
        counters.fullWaits.load(ordering: .relaxed)
    }

    /// The number of elements in the ring, for a gauge. Exact only when no thread is pushing
    /// or popping; otherwise somewhere between the counts before and after those calls.
    public var approximateCount: Int {
        let head = counters.head.load(ordering: .relaxed)
        let tail = counters.tail.load(ordering: .relaxed)
        return min(max(tail &- head, 0), capacity)
    }

    // MARK: The consumer (one thread only)

    /// Removes and returns the oldest element, or `nil` if there is none ready.
    ///
    /// - Important: Only the single consumer thread may call this.
    @inlinable
    public func pop() -> Element? {
        // Only this thread writes head; other threads read it just for `approximateCount`,
        // which is why it is an atomic (relaxed, no read-modify-write) rather than a plain Int.
        let position = counters.head.load(ordering: .relaxed)
        let slot = sequence(position)
        // Acquire pairs with the producer's release: the element is fully written.
        guard slot.load(ordering: .acquiring) == position &+ 1 else {
            // With one consumer the sequence can only be `position` (empty, or claimed but
            // not yet written): never ahead of us.
            return nil
        }
        let element = (slots + (position & mask)).move()
        counters.head.store(position &+ 1, ordering: .relaxed)
        // Release: the move above is done before a producer of the next lap may overwrite.
        slot.store(position &+ capacity, ordering: .releasing)
        return element
    }

    /// Pops up to `max` elements, oldest first, handing each to `body`; returns how many.
    ///
    /// Each slot is freed before `body` sees its element, so producers are not held up by a
    /// slow `body`, and `body` may itself call `pop()`.
    ///
    /// - Important: Only the single consumer thread may call this.
    @inlinable
    @discardableResult
    public func drain(max: Int, _ body: (Element) -> Void) -> Int {
        var count = 0
        while count < max, let element = pop() {
            count += 1
            body(element)
        }
        return count
    }
}

extension MPSCRing: @unchecked Sendable where Element: Sendable {}

/// Spelled through `UnsafeAtomic` because `Int.AtomicRepresentation` is ambiguous wherever
/// the standard library's `Synchronization` module is visible too.
@usableFromInline typealias AtomicInt = UnsafeAtomic<Int>

/// The ring's three counters, each on its own 128-byte block so that producers bumping
/// `tail`, the consumer bumping `head` and the metric do not invalidate one another's cache
/// lines (128 covers the adjacent-line prefetcher on x86 and Apple's 128-byte lines).
@usableFromInline
struct PaddedCounters {
    @usableFromInline static let stride = 128

    @usableFromInline let tail: UnsafeAtomic<Int>
    @usableFromInline let head: UnsafeAtomic<Int>
    @usableFromInline let fullWaits: UnsafeAtomic<Int>
    let base: UnsafeMutableRawPointer

    init() {
        let base = UnsafeMutableRawPointer.allocate(byteCount: 3 * Self.stride, alignment: Self.stride)
        func counter(_ index: Int) -> UnsafeAtomic<Int> {
            let storage = (base + index * Self.stride).bindMemory(to: AtomicInt.Storage.self, capacity: 1)
            storage.initialize(to: AtomicInt.Storage(0))
            return UnsafeAtomic(at: storage)
        }
        self.base = base
        tail = counter(0)
        head = counter(1)
        fullWaits = counter(2)
    }

    func deallocate() {
        base.deallocate()
    }
}
