import CZeroMQ
import Foundation
import TollgateWire

/// The libzmq calls a simulated fleet needs, straight on CZeroMQ. `TollgateWire.ZMQContext`
/// has no knob for ZMQ_MAX_SOCKETS (libzmq's default, 1,023, is far below the 2 × 2,500
/// sockets one worker holds); polling thousands of sockets is `FleetReadiness`'s.
final class FleetContext {
    let handle: UnsafeMutableRawPointer

    init(maxSockets: Int) {
        handle = zmq_ctx_new()
        // Must be set before the first socket: libzmq sizes its socket table then.
        zmq_ctx_set(handle, ZMQ_MAX_SOCKETS, Int32(maxSockets))
    }

    deinit { zmq_ctx_term(handle) }
}

/// A CurveZMQ client socket (DEALER or SUB) of one simulated agent.
final class FleetSocket {
    let handle: UnsafeMutableRawPointer

    /// A SUB subscribes to `topics` (an agent's: the broadcasts and its own, `QuotaTopic`).
    init(_ context: FleetContext, type: Int32, keyPair: CurveKeyPair, serverKey: String, endpoint: String, topics: [Data] = []) throws {
        guard let handle = zmq_socket(context.handle, type) else { throw ZMQFailure("zmq_socket") }
        self.handle = handle
        var linger: Int32 = 0
        zmq_setsockopt(handle, ZMQ_LINGER, &linger, 4)
        try setText(ZMQ_CURVE_SERVERKEY, serverKey)
        try setText(ZMQ_CURVE_PUBLICKEY, keyPair.publicKey)
        try setText(ZMQ_CURVE_SECRETKEY, keyPair.secretKey)
        for topic in topics {
            let result = topic.withUnsafeBytes { zmq_setsockopt(handle, ZMQ_SUBSCRIBE, $0.baseAddress, topic.count) }
            guard result == 0 else { throw ZMQFailure("subscribe") }
        }
        guard zmq_connect(handle, endpoint) == 0 else { throw ZMQFailure("connect \(endpoint)") }
    }

    deinit { zmq_close(handle) }

    private func setText(_ option: Int32, _ z85: String) throws {
        var bytes = Array(z85.utf8)
        bytes.append(0)
        guard bytes.withUnsafeBytes({ zmq_setsockopt(handle, option, $0.baseAddress, $0.count) }) == 0 else {
            throw ZMQFailure("zmq_setsockopt(\(option))")
        }
    }

    /// Blocks until libzmq queued the message (a DEALER queues even before its handshake ends).
    func send(_ frames: [Data]) throws {
        for (index, frame) in frames.enumerated() {
            let flags: Int32 = index < frames.count - 1 ? ZMQ_SNDMORE : 0
            let result = frame.withUnsafeBytes { zmq_send(handle, $0.baseAddress, frame.count, flags) }
            guard result >= 0 else { throw ZMQFailure("zmq_send") }
        }
    }

    /// One whole message without blocking; nil when none is waiting.
    func receive() throws -> [Data]? {
        var frames: [Data] = []
        while true {
            var message = zmq_msg_t()
            zmq_msg_init(&message)
            defer { zmq_msg_close(&message) }
            if zmq_msg_recv(&message, handle, ZMQ_DONTWAIT) < 0 {
                let code = zmq_errno()
                if (code == EAGAIN || code == EINTR) && frames.isEmpty { return nil }
                throw ZMQFailure("zmq_msg_recv", code: code)
            }
            frames.append(Data(bytes: zmq_msg_data(&message), count: zmq_msg_size(&message)))
            if zmq_msg_more(&message) == 0 { return frames }
        }
    }
}

struct ZMQFailure: Error, CustomStringConvertible {
    let description: String
    init(_ operation: String, code: Int32 = zmq_errno()) {
        description = "\(operation): \(String(cString: zmq_strerror(code)))"
    }
}

/// CLOCK_MONOTONIC in nanoseconds: one clock for every process on the machine, so a
/// worker's "saw the cap" and the coordinator's "sent the batch" compare directly.
func monotonicNanoseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

/// Raises this process's open-file limit to its hard limit; returns the limit now in force.
@discardableResult
func raiseOpenFileLimit() -> UInt64 {
    var limit = rlimit()
    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    limit.rlim_cur = limit.rlim_max
    setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    return UInt64(limit.rlim_cur)
}
