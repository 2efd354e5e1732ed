import CZeroMQ
import Foundation

/// Interrupts a thread waiting in a ZeroMQ poll, from any other thread, so a stop takes
/// effect at once instead of at the poll's next timeout. A pipe the poll watches beside
/// its sockets, not a ZeroMQ socket: a socket belongs to one thread, and one still open
/// elsewhere would keep the loop's context from terminating.
public final class ZMQWakeup: Sendable {
    private let readEnd: Int32
    private let writeEnd: Int32

    public init() throws {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { throw ZMQError("pipe", code: errno) }
        for end in ends { _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK) }
        readEnd = ends[0]
        writeEnd = ends[1]
    }

    deinit {
        close(readEnd)
        close(writeEnd)
    }

    /// Makes the loop's current or next poll return.
    public func wake() {
        var byte: UInt8 = 1
        _ = write(writeEnd, &byte, 1)  // a full pipe already holds a wake-up
    }

    var pollItem: zmq_pollitem_t {
        zmq_pollitem_t(socket: nil, fd: readEnd, events: Int16(ZMQ_POLLIN), revents: 0)
    }

    /// Consumes the pending wake-ups, so the next poll waits again.
    func drain() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(readEnd, &buffer, buffer.count) > 0 {}
    }
}
