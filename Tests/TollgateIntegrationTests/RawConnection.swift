import Foundation

/// One client socket held open across a test's steps, for clients that misbehave on
/// purpose: a head then a trickle of body, a body left unfinished, a connection parked.
final class RawConnection {
    let fd: Int32
    private var closed = false

    init(port: Int) throws {
        fd = try RawHTTP.connected(to: port)
    }

    deinit { close() }

    /// Writes all of `bytes`; false once the agent has closed the connection (no SIGPIPE).
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Foundation.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { return false }
            offset += written
        }
        return true
    }

    @discardableResult
    func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// What arrives within `timeout`, until the agent closes or `limit` bytes came; ""
    /// when nothing did.
    func receive(timeout: Duration, limit: Int = .max) -> String {
        var wait = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: Int(timeout.components.attoseconds / 1_000_000_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        return String(decoding: (try? RawHTTP.receive(on: fd, upTo: limit)) ?? [], as: UTF8.self)
    }

    func close() {
        guard !closed else { return }
        closed = true
        Foundation.close(fd)
    }
}
