import Foundation
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// What the proxy writes on the wire itself, now that responses are passed on as bytes
/// rather than re-encoded by NIO: pipelining, HTTP/1.0 clients, chunk framing, malformed
/// requests. Raw sockets, because URLSession hides exactly these details.
@Suite struct ProxyWireTests {
    static func chat(model: String, stream: Bool = false, version: String = "1.1", connection: String? = nil) -> String {
        let body = #"{"model":"\#(model)","stream":\#(stream),"max_tokens":20,"messages":[{"role":"user","content":"hello wire"}]}"#
        return "POST /openai/v1/chat/completions HTTP/\(version)\r\nHost: x\r\nAuthorization: Bearer sk-test-wire-0000000000\r\n"
            + "Content-Type: application/json\r\n" + (connection.map { "Connection: \($0)\r\n" } ?? "")
            + "Content-Length: \(body.utf8.count)\r\n\r\n" + body
    }

    static func meteredRequests(_ cluster: LocalCluster, atLeast count: Int) async throws -> Int {
        try await eventually(until: { $0 >= count }) { () -> Int in
            let json = try cluster.cli(["usage", "--since", "1h", "--by", "model", "--format", "json"])
            let rows = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] ?? []
            return rows.reduce(0) { $0 + ($1["requests"] as? Int ?? 0) }
        }
    }

    @Test func pipelinedRequestsAreAnsweredInOrderAndEachMetered() async throws {
        let cluster = try LocalCluster()
        defer { cluster.shutdown() }
        try await cluster.start()

        let answer = try RawHTTP.exchange(port: cluster.agentURL.port!,
                                          request: Self.chat(model: "gpt-4o-mini") + Self.chat(model: "gpt-4o", connection: "close"))
        let statusLines = answer.components(separatedBy: "HTTP/1.1 200 OK\r\n").count - 1
        #expect(statusLines == 2, "\(answer)")
        let first = try #require(answer.range(of: #""model":"gpt-4o-mini"#))
        let second = try #require(answer.range(of: #""model":"gpt-4o-2"#))
        #expect(first.lowerBound < second.lowerBound, "responses out of order: \(answer)")
        #expect(try await Self.meteredRequests(cluster, atLeast: 2) == 2)
    }

    /// curl asks before sending a body over 1 KB and otherwise waits a second for the
    /// answer; the agent takes any body (it forwards the request only once it has it all).
    @Test func aClientThatExpectsContinueIsToldToSendItsBody() async throws {
        let cluster = try LocalCluster()
        defer { cluster.shutdown() }
        try await cluster.start()

        let request = Self.chat(model: "gpt-4o-mini", connection: "close")
        let split = try #require(request.range(of: "\r\n\r\n"))
        let head = request[..<split.lowerBound] + "\r\nExpect: 100-continue\r\n\r\n"
        let continueLine = "HTTP/1.1 100 Continue\r\n\r\n"
        let (interim, rest) = try RawHTTP.exchangeAwaitingContinue(port: cluster.agentURL.port!, head: String(head),
                                                                   body: String(request[split.upperBound...]),
                                                                   interimBytes: continueLine.utf8.count)
        #expect(interim == continueLine)
        #expect(rest.hasPrefix("HTTP/1.1 200 OK\r\n") && rest.contains(#""model":"gpt-4o-mini"#), "\(rest)")
        #expect(try await Self.meteredRequests(cluster, atLeast: 1) == 1)
    }

    @Test func anHTTP10ClientGetsTheStreamUnchunkedUntilTheConnectionCloses() async throws {
        let cluster = try LocalCluster()
        defer { cluster.shutdown() }
        try await cluster.start()

        let answer = try RawHTTP.exchange(port: cluster.agentURL.port!, request: Self.chat(model: "gpt-4o-mini", stream: true, version: "1.0"))
        let parts = answer.components(separatedBy: "\r\n\r\n")
        let head = parts[0].lowercased()
        let body = parts.dropFirst().joined(separator: "\r\n\r\n")
        #expect(head.hasPrefix("http/1.0 200"), "\(answer)")
        #expect(!head.contains("transfer-encoding") && !head.contains("content-length"), "\(head)")
        #expect(head.contains("connection: close"))
        #expect(body.hasPrefix("data: {") && body.hasSuffix("data: [DONE]\n\n"), "\(body)")
        // The usage chunk the agent asked for on the client's behalf is not shown to it.
        #expect(!body.contains(#""choices":[]"#))
        #expect(try await Self.meteredRequests(cluster, atLeast: 1) == 1)
    }

    @Test func anHTTP10ClientThatAsksToKeepItsConnectionIsToldSo() async throws {
        let cluster = try LocalCluster()
        defer { cluster.shutdown() }
        try await cluster.start()

        let answer = try RawHTTP.exchange(port: cluster.agentURL.port!,
                                          request: Self.chat(model: "gpt-4o-mini", version: "1.0", connection: "keep-alive")
                                              + Self.chat(model: "gpt-4o", version: "1.0"))
        let heads = answer.components(separatedBy: "HTTP/1.0 200 OK\r\n").dropFirst().map { $0.lowercased() }
        #expect(heads.count == 2, "\(answer)")
        #expect(heads.first?.contains("connection: keep-alive\r\n") == true && heads.first?.contains("content-length: ") == true)
        #expect(heads.last?.contains("connection: close\r\n") == true)
        #expect(try await Self.meteredRequests(cluster, atLeast: 2) == 2)
    }

    @Test func aFilteredStreamIsChunkedAgainCorrectly() async throws {
        let cluster = try LocalCluster()
        defer { cluster.shutdown() }
        try await cluster.start()

        let answer = try RawHTTP.exchange(port: cluster.agentURL.port!, request: Self.chat(model: "gpt-4o-mini", stream: true, connection: "close"))
        let headEnd = try #require(answer.range(of: "\r\n\r\n"))
        let head = answer[..<headEnd.lowerBound].lowercased()
        #expect(head.contains("transfer-encoding: chunked") && !head.contains("content-length"), "\(head)")
        let body = try Self.dechunk(Array(answer[headEnd.upperBound...].utf8))
        #expect(body.hasPrefix("data: {") && body.hasSuffix("data: [DONE]\n\n"), "\(body)")
        #expect(!body.contains(#""choices":[]"#))
    }

    @Test func malformedRequestsGetA400AndAreCounted() async throws {
        let cluster = try LocalCluster()
        defer { cluster.shutdown() }
        try await cluster.start()

        let answer = try RawHTTP.exchange(port: cluster.agentURL.port!, request: "POST /openai/v1/chat/completions HTTP/1.1\r\nHost x\r\n\r\n")
        #expect(answer.hasPrefix("HTTP/1.1 400 Bad Request\r\n"), "\(answer)")
        #expect(answer.contains(#""code":"malformed_request""#))
        let (metrics, _) = try await URLSession.shared.data(from: cluster.adminURL.appendingPathComponent("metrics"))
        #expect(String(decoding: metrics, as: UTF8.self).contains("tollgate_agent_rejected_requests_total{reason=\"malformed_request\"} 1"))
    }

    /// Strict chunked decoding: every size line, every CRLF, and the final zero chunk.
    static func dechunk(_ bytes: [UInt8]) throws -> String {
        var payload: [UInt8] = []
        var index = 0
        func line() throws -> String {
            guard let end = bytes[index...].firstIndex(of: UInt8(ascii: "\r")), end + 1 < bytes.count, bytes[end + 1] == UInt8(ascii: "\n") else {
                throw ClusterError("unterminated chunk line at \(index)")
            }
            defer { index = end + 2 }
            return String(decoding: bytes[index..<end], as: UTF8.self)
        }
        while true {
            guard let size = Int(try line(), radix: 16) else { throw ClusterError("bad chunk size at \(index)") }
            if size == 0 { break }
            guard index + size + 2 <= bytes.count else { throw ClusterError("short chunk at \(index)") }
            payload += bytes[index..<index + size]
            index += size
            guard try line().isEmpty else { throw ClusterError("chunk data not followed by CRLF") }
        }
        guard try line().isEmpty, index == bytes.count else { throw ClusterError("bytes after the last chunk") }
        return String(decoding: payload, as: UTF8.self)
    }
}
