import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// HTTP from inside one host of the fleet test bed, the way a client on that host talks to
/// its agent at 127.0.0.1:8787. Each request runs on a thread of its own that first joins
/// the host's network namespace with setns(2): a socket belongs to the namespace it was
/// made in, and a thread's namespace dies with the thread, so nothing else ever runs there.
/// (Spawning `ip netns exec … curl` per request would also work, at ~50 ms a request; the
/// enforcement tests time refusals to well under a second.)
enum NamespaceHTTP {
    struct Reply: Sendable {
        var status: Int
        /// Field names lowercased.
        var headers: [String: String]
        var body: String
    }

    static func request(in namespace: String, port: Int, method: String = "GET", path: String,
                        headers: [String: String] = [:], body: String = "", timeoutSeconds: Int = 10) async throws -> Reply {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result {
                    try exchange(namespace: namespace, port: port, method: method, path: path, headers: headers, body: body, timeoutSeconds: timeoutSeconds)
                })
            }
            thread.start()
        }
    }

    private static func exchange(namespace: String, port: Int, method: String, path: String,
                                 headers: [String: String], body: String, timeoutSeconds: Int) throws -> Reply {
        try joinNetworkNamespace(namespace)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ClusterError("socket() in \(namespace): errno \(errno)") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else { throw ClusterError("connect to 127.0.0.1:\(port) in \(namespace): errno \(errno)") }

        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\nContent-Length: \(body.utf8.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        let bytes = Array((head + "\r\n" + body).utf8)
        var sent = 0
        while sent < bytes.count {
            let written = bytes[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard written > 0 else { throw ClusterError("write to 127.0.0.1:\(port) in \(namespace): errno \(errno)") }
            sent += written
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count == 0 { break }
            guard count > 0 else { throw ClusterError("read from 127.0.0.1:\(port) in \(namespace): errno \(errno) after \(received.count) bytes") }
            received += buffer[0..<count]
            if let reply = complete(received) { return reply }
        }
        guard let reply = parse(received, requireComplete: false) else {
            throw ClusterError("no HTTP response from 127.0.0.1:\(port) in \(namespace): \(String(decoding: received, as: UTF8.self))")
        }
        return reply
    }

    /// The reply once its body is complete by its content-length or final chunk.
    private static func complete(_ bytes: [UInt8]) -> Reply? { parse(bytes, requireComplete: true) }

    private static func parse(_ bytes: [UInt8], requireComplete: Bool) -> Reply? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let end = text.range(of: "\r\n\r\n") else { return nil }
        let lines = text[..<end.lowerBound].components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { return nil }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let body = String(text[end.upperBound...])
        if requireComplete {
            if let length = headers["content-length"].flatMap(Int.init) {
                guard body.utf8.count >= length else { return nil }
            } else if headers["transfer-encoding"]?.lowercased() == "chunked" {
                guard body.hasSuffix("0\r\n\r\n") else { return nil }
            } else {
                return nil  // read to the close
            }
        }
        return Reply(status: status, headers: headers, body: body)
    }

    /// setns(2) is looked up at run time: Glibc's module does not export it to Swift.
    private static func joinNetworkNamespace(_ namespace: String) throws {
        typealias SetNamespace = @convention(c) (Int32, Int32) -> Int32
        guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "setns") else {
            throw ClusterError("setns(2) is not available in this C library")
        }
        let setns = unsafeBitCast(symbol, to: SetNamespace.self)
        let path = "/run/netns/\(namespace)"
        let nsfd = open(path, O_RDONLY | O_CLOEXEC)
        guard nsfd >= 0 else { throw ClusterError("cannot open \(path) (errno \(errno)): is the fleet test bed up?") }
        defer { close(nsfd) }
        let cloneNewNet: Int32 = 0x4000_0000
        guard setns(nsfd, cloneNewNet) == 0 else { throw ClusterError("setns(\(path)) failed: errno \(errno) (needs root)") }
    }
}
