import Foundation
import TollgateCore

/// One thread that processes items in the order they were submitted, behind a bounded
/// queue: the second stage of the ingest pipeline, so batches commit (WAL write, fsync,
/// memtable) while the next ones are decoded and encoded on the socket thread.
///
/// `process` gets everything queued at that moment, oldest first, so the commit thread
/// can make one group of all the batches that arrived during the previous fsync. A full
/// queue makes `submit` wait, so a slow disk slows the receiver instead of piling batches
/// up in memory.
public final class SerialStage<Item: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    /// Guarded by `condition`.
    private var queue: [Item] = []
    private var closed = false
    private let capacity: Int
    private var worker: WorkerThread!

    public init(name: String, capacity: Int, process: @escaping @Sendable ([Item]) -> Void) {
        self.capacity = max(1, capacity)
        worker = WorkerThread(name: name) { [self] in
            while let items = next() { process(items) }
        }
    }

    /// Queues `item`, waiting while the queue is full. Not after `finish`.
    public func submit(_ item: Item) {
        condition.lock()
        defer { condition.unlock() }
        precondition(!closed, "submit after finish")
        while queue.count >= capacity { condition.wait() }
        queue.append(item)
        condition.broadcast()
    }

    /// Processes everything already submitted, then stops the thread; returns when it has.
    public func finish() {
        condition.withLock {
            closed = true
            condition.broadcast()
        }
        worker.join()
    }

    /// Everything queued, once there is something; nil once finished and drained.
    private func next() -> [Item]? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty && !closed { condition.wait() }
        guard !queue.isEmpty else { return nil }
        let items = queue
        queue.removeAll(keepingCapacity: true)
        condition.broadcast()
        return items
    }
}
