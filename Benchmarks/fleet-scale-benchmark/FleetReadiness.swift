import CNIOLinux
import CZeroMQ
import Foundation

/// Readiness for thousands of sockets at O(ready) per wait. `zmq_poll` over 2,500 sockets
/// makes two `zmq_getsockopt` calls per socket on every call (ZMQ_FD, then ZMQ_EVENTS,
/// which checks the socket's mailbox with a syscall of its own), and even a plain `poll(2)`
/// walks all 2,500 descriptors each time: a worker waiting for 2,500 updates spent its CPU
/// polling rather than decoding, and the benchmark measured the simulator as much as the
/// aggregator. libzmq 4.3's `zmq_poller` (epoll) is a draft API Debian's build does not export.
///
/// Each socket's `ZMQ_FD` (the eventfd of its command mailbox) goes into one epoll set. It
/// says only that libzmq has commands for the socket, so a ready socket must be drained until
/// `EAGAIN` (which processes them and re-arms the signal); a socket the caller also sends on
/// may have had its signal taken by the send, so callers try a receive after sending. Sockets
/// done with are removed; a plain descriptor (the worker's stdin) can be watched too.
struct FleetReadiness {
    private let epoll: Int32
    /// Socket index → its ZMQ_FD, for removal.
    private var registered: [Int: Int32] = [:]
    private var events = [epoll_event](repeating: epoll_event(), count: 1_024)
    private static let plainTag = UInt64.max
    /// Whether the plain descriptor was readable at the last `wait`.
    private(set) var plainReady = false

    init(_ sockets: [FleetSocket], indices: [Int], alsoDescriptor plain: Int32? = nil) throws {
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epoll >= 0 else { throw ZMQFailure("epoll_create1", code: errno) }
        for index in indices {
            var fd: Int32 = -1
            var size = MemoryLayout<Int32>.size
            guard zmq_getsockopt(sockets[index].handle, ZMQ_FD, &fd, &size) == 0 else { throw ZMQFailure("ZMQ_FD") }
            try watch(fd, tag: UInt64(index))
            registered[index] = fd
        }
        if let plain { try watch(plain, tag: Self.plainTag) }
    }

    private func watch(_ fd: Int32, tag: UInt64) throws {
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.u64 = tag
        guard epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) == 0 else { throw ZMQFailure("epoll_ctl", code: errno) }
    }

    var isEmpty: Bool { registered.isEmpty }

    /// The socket indices whose descriptor fired within `milliseconds` (drain each to EAGAIN).
    mutating func wait(milliseconds: Int) throws -> [Int] {
        plainReady = false
        let count = events.withUnsafeMutableBufferPointer { epoll_wait(epoll, $0.baseAddress, Int32($0.count), Int32(milliseconds)) }
        if count < 0 {
            if errno == EINTR { return [] }
            throw ZMQFailure("epoll_wait", code: errno)
        }
        var ready: [Int] = []
        ready.reserveCapacity(Int(count))
        for event in events.prefix(Int(count)) {
            if event.data.u64 == Self.plainTag { plainReady = true } else { ready.append(Int(event.data.u64)) }
        }
        return ready
    }

    mutating func remove(_ done: [Int]) {
        for index in done {
            guard let fd = registered.removeValue(forKey: index) else { continue }
            var unused = epoll_event()
            epoll_ctl(epoll, EPOLL_CTL_DEL, fd, &unused)
        }
    }

    /// Ends the epoll set (the sockets stay open).
    func close() { _ = Glibc.close(epoll) }
}

/// This process's CPU time (user + system, every thread: libzmq's I/O thread decrypts), ns.
func processCPUNanoseconds() -> UInt64 {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func ns(_ time: timeval) -> UInt64 { UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_usec) * 1_000 }
    return ns(usage.ru_utime) + ns(usage.ru_stime)
}
