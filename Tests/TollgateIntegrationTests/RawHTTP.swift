import Foundation

/// A bare TCP client for what URLSession cannot do on purpose: send exact bytes, read the
/// answer as bytes, hang up mid-response.
enum RawHTTP {
    /// Sends `request` and returns what arrives before `readBytes` bytes or the close.
    static func sendAndHangUp(port: Int, request: String, readBytes: Int) throws -> String {
        let fd = try connected(to: port)
        defer { close(fd) }
        try send(request, on: fd)
        return String(decoding: try receive(on: fd, upTo: readBytes), as: UTF8.self)
    }

    /// Sends `request` and returns everything until the agent closes the connection (at
    /// most 10 s).
    static func exchange(port: Int, request: String) throws -> String {
        let fd = try connected(to: port)
        defer { close(fd) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        try send(request, on: fd)
        return String(decoding: try receive(on: fd, upTo: .max), as: UTF8.self)
    }

    /// Sends `head`, returns what arrives first (at most `interimBytes`, waiting at most
    /// 3 s), then sends `body` and returns the rest until the agent closes: how curl sends
    /// a large body, asking for a 100 Continue first.
    static func exchangeAwaitingContinue(port: Int, head: String, body: String, interimBytes: Int) throws -> (interim: String, rest: String) {
        let fd = try connected(to: port)
        defer { close(fd) }
        var timeout = timeval(tv_sec: 3, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        try send(head, on: fd)
        let interim = try receive(on: fd, upTo: interimBytes)
        try send(body, on: fd)
        return (String(decoding: interim, as: UTF8.self), String(decoding: try receive(on: fd, upTo: .max), as: UTF8.self))
    }

    /// Sends `request` and returns its socket once the first `firstBytes` of the answer
    /// arrived (so the request is surely being served), with those bytes.
    static func begin(port: Int, request: String, firstBytes: Int) throws -> (socket: Int32, first: String) {
        let fd = try connected(to: port)
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        try send(request, on: fd)
        return (fd, String(decoding: try receive(on: fd, upTo: firstBytes), as: UTF8.self))
    }

    /// The rest of an answer `begin` started, until the agent closes (at most 30 s); closes the socket.
    static func finish(_ fd: Int32) throws -> String {
        defer { close(fd) }
        return String(decoding: try receive(on: fd, upTo: .max), as: UTF8.self)
    }

    /// Whether something accepts a TCP connection on the port (the connection is closed at once).
    static func accepts(port: Int) -> Bool {
        guard let fd = try? connected(to: port) else { return false }
        close(fd)
        return true
    }

    static func connected(to port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ClusterError("socket failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(fd)
            throw ClusterError("connect to \(port) failed")
        }
        return fd
    }

    private static func send(_ request: String, on fd: Int32) throws {
        let bytes = Array(request.utf8)
        guard write(fd, bytes, bytes.count) == bytes.count else { throw ClusterError("write failed") }
    }

    static func receive(on fd: Int32, upTo limit: Int) throws -> [UInt8] {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while received.count < limit {
            let count = read(fd, &buffer, buffer.count)
            guard count > 0 else { break }
            received.append(contentsOf: buffer[..<count])
        }
        return received
    }
}
