import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing
@testable import TollgateHTTP1
import TestSupport

/// The framer replaced NIO's `HTTPRequestDecoder` on the client side, so NIO's decoder is
/// the reference for what well-formed requests mean; and since a proxy that reads framing
/// differently from its client or its upstream is how requests get smuggled, the framer is
/// also held to refusing every ambiguity, and to forwarding only what reads one way.
@Suite struct HTTPRequestFramerTests {
    // MARK: Against NIO's decoder

    static let differentialConnections = 500

    /// Generated connections of one to three requests, read by the framer and by NIO's
    /// decoder: method, target, version, fields, keep-alive and body must agree.
    @Test func findsTheSameRequestsAsNIOsDecoder() throws {
        var generator = RequestGenerator(seed: 0x7011_6A7E_0E0E_5701)
        for connection in 0..<Self.differentialConnections {
            let requests = generator.connection()
            let wire = requests.flatMap(\.wire)
            let pieces = generator.split(wire)
            let context = Comment(rawValue: "connection \(connection), \(pieces.count) reads:\n\(HTTPResponseFramerTests.printable(wire))")
            let framed: [ObservedRequest]
            do {
                framed = try Self.frame(pieces)
            } catch {
                Issue.record("the framer threw \(error); \(context.rawValue)")
                continue
            }
            let decoded = try Self.decodeWithNIO([wire])
            #expect(framed == decoded, context)
            #expect(framed.map(\.body) == requests.map(\.body), context)
            #expect(framed.count == requests.count && framed.allSatisfy(\.ended), context)
        }
    }

    /// Mutated connections (bytes flipped, inserted, dropped; framing fields spliced in):
    /// whatever the framer accepts, the request it sends upstream must read, to NIO, as
    /// exactly the same requests, each framed by one content-length and nothing else.
    @Test func forwardsOnlyWhatReadsOneWay() throws {
        var generator = RequestGenerator(seed: 0x5EED_0F_5A7E_2026)
        var accepted = 0
        var refused = 0
        for connection in 0..<1500 {
            var wire = generator.connection().flatMap(\.wire)
            generator.mutate(&wire)
            let context = Comment(rawValue: "connection \(connection):\n\(HTTPResponseFramerTests.printable(wire))")
            let (requests, error) = Self.frameUntilError(generator.split(wire))
            if error != nil { refused += 1 }
            accepted += requests.count
            var forwarded: [UInt8] = []
            for request in requests {
                forwarded += UpstreamRequest.encode(request.head, target: request.head.target, host: "upstream.test",
                                                    body: ByteBuffer(bytes: request.body), allocator: ByteBufferAllocator()).readableBytesView
            }
            let decoded: [ObservedRequest]
            do {
                decoded = try Self.decodeWithNIO([forwarded])
            } catch {
                Issue.record("NIO cannot read what the framer forwarded (\(error)); \(context.rawValue)")
                continue
            }
            #expect(decoded.count == requests.count, context)
            for (sent, read) in zip(requests, decoded) {
                #expect(read.method == sent.head.method.rawValue && read.target == sent.head.target, context)
                #expect(read.body == sent.body, context)
                #expect(read.values(of: "content-length") == [String(sent.body.count)], context)
                #expect(read.values(of: "host") == ["upstream.test"], context)
                #expect(read.values(of: "transfer-encoding").isEmpty, context)
            }
        }
        // Both outcomes must have been exercised for the property to mean anything.
        #expect(accepted > 300 && refused > 300, "accepted \(accepted) requests, refused \(refused) connections")
    }

    private struct Framed {
        var head: HTTPRequestHeadBytes
        var body: [UInt8] = []
    }

    /// The requests completed before the framer refused something, and what it refused.
    private static func frameUntilError(_ pieces: [[UInt8]]) -> ([Framed], HTTPRequestFramingError?) {
        var framer = HTTPRequestFramer()
        var requests: [Framed] = []
        var open: Framed?
        do throws(HTTPRequestFramingError) {
            for piece in pieces {
                var input = ByteBuffer(bytes: piece)
                while let part = try framer.read(&input) {
                    switch part {
                    case .head(let head): open = Framed(head: head)
                    case .body(let payload): open?.body += payload.readableBytesView
                    case .end:
                        if let request = open, request.head.method != .CONNECT { requests.append(request) }
                        open = nil
                    }
                }
            }
        } catch {
            return (requests, error)
        }
        return (requests, nil)
    }

    /// Feeds `pieces` to one framer as the reads of one connection.
    private static func frame(_ pieces: [[UInt8]]) throws -> [ObservedRequest] {
        var framer = HTTPRequestFramer()
        var requests: [ObservedRequest] = []
        for piece in pieces {
            var input = ByteBuffer(bytes: piece)
            while let part = try framer.read(&input) {
                switch part {
                case .head(let head):
                    #expect(requests.last?.ended ?? true, "a head inside a request")
                    requests.append(ObservedRequest(head))
                case .body(let payload):
                    requests[requests.count - 1].body += payload.readableBytesView
                case .end:
                    requests[requests.count - 1].ended = true
                }
            }
        }
        return requests
    }

    private static func decodeWithNIO(_ pieces: [[UInt8]]) throws -> [ObservedRequest] {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes)))
        var requests: [ObservedRequest] = []
        for piece in pieces {
            try channel.writeInbound(ByteBuffer(bytes: piece))
            while let part = try channel.readInbound(as: HTTPServerRequestPart.self) {
                switch part {
                case .head(let head): requests.append(ObservedRequest(head))
                case .body(let payload): requests[requests.count - 1].body += payload.readableBytesView
                case .end: requests[requests.count - 1].ended = true
                }
            }
        }
        _ = try channel.finish()
        return requests
    }

    // MARK: Refusals

    static func error(reading text: String) -> HTTPRequestFramingError? {
        var framer = HTTPRequestFramer()
        var input = ByteBuffer(string: text)
        do throws(HTTPRequestFramingError) {
            while try framer.read(&input) != nil {}
        } catch {
            return error
        }
        return nil
    }

    static let host = "Host: api.test\r\n"

    /// Two ways to find where the body ends are one too many: each is refused.
    @Test func refusesAmbiguousBodyFraming() {
        let cases: [(String, HTTPRequestFramingError)] = [
            ("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", .unsupportedTransferEncoding),
            ("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", .unsupportedTransferEncoding),
            ("Content-Length: 5\r\nContent-Length: 5\r\n", .badContentLength),
            ("Content-Length: 5\r\nContent-Length: 6\r\n", .badContentLength),
            ("Content-Length: 5, 5\r\n", .badContentLength),
            ("Content-Length: +5\r\n", .badContentLength),
            ("Content-Length: -1\r\n", .badContentLength),
            ("Content-Length: 0x10\r\n", .badContentLength),
            ("Content-Length: \r\n", .badContentLength),
            ("Content-Length: 99999999999999999999\r\n", .badContentLength),
            ("Transfer-Encoding: gzip\r\n", .unsupportedTransferEncoding),
            ("Transfer-Encoding: gzip, chunked\r\n", .unsupportedTransferEncoding),
            ("Transfer-Encoding: chunked, chunked\r\n", .unsupportedTransferEncoding),
            ("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", .unsupportedTransferEncoding),
            ("Transfer-Encoding: xchunked\r\n", .unsupportedTransferEncoding),
        ]
        for (fields, expected) in cases {
            #expect(Self.error(reading: "POST /v1/x HTTP/1.1\r\n\(Self.host)\(fields)\r\n") == expected, "\(fields)")
        }
        #expect(Self.error(reading: "POST /v1/x HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n") == .unsupportedTransferEncoding)
    }

    @Test func refusesMalformedRequestLines() {
        let cases: [(String, HTTPRequestFramingError)] = [
            ("GET  / HTTP/1.1", .badRequestLine),
            ("GET / HTTP/1.1 ", .badRequestLine),
            ("GET /", .badRequestLine),
            ("GET / http/1.1", .badRequestLine),
            ("GET / HTTP/1.1x", .badRequestLine),
            ("G(T / HTTP/1.1", .unsupportedMethod),
            ("BREW / HTTP/1.1", .unsupportedMethod),
            ("get / HTTP/1.1", .unsupportedMethod),
            ("GET /a\u{1}b HTTP/1.1", .badRequestLine),
            ("GET /é HTTP/1.1", .badRequestLine),
            (" GET / HTTP/1.1", .badRequestLine),
            ("GET http:a//api.test/ HTTP/1.1", .badRequestLine),
            ("GET api.test/v1 HTTP/1.1", .badRequestLine),
            ("GET 1http://api.test/ HTTP/1.1", .badRequestLine),
            ("GET * HTTP/1.1", .badRequestLine),
            ("CONNECT /v1 HTTP/1.1", .badRequestLine),
            ("CONNECT api.test HTTP/1.1", .badRequestLine),
            ("GET / HTTP/2.0", .unsupportedVersion),
            ("GET / HTTP/0.9", .unsupportedVersion),
        ]
        for (line, expected) in cases {
            #expect(Self.error(reading: "\(line)\r\n\(Self.host)\r\n") == expected, "\(line)")
        }
        for line in ["OPTIONS * HTTP/1.1", "GET http://api.test HTTP/1.1", "GET svn+ssh://h/x HTTP/1.1", "CONNECT [::1]:443 HTTP/1.1"] {
            #expect(Self.error(reading: "\(line)\r\n\(Self.host)\r\n") == nil, "\(line)")
        }
    }

    @Test func refusesMalformedHeaderLines() {
        let cases: [(String, HTTPRequestFramingError)] = [
            ("X-A: 1\nX-B: 2\r\n", .bareLineFeed),
            ("X-A: 1\r\n folded\r\n", .badHeader),
            ("X-A : 1\r\n", .badHeader),
            ("X A: 1\r\n", .badHeader),
            (": 1\r\n", .badHeader),
            ("no colon\r\n", .badHeader),
            ("X-A: a\u{0}b\r\n", .badHeader),
            ("X-A: a\rb\r\n", .badHeader),
            ("X-A: a\u{7F}\r\n", .badHeader),
        ]
        for (fields, expected) in cases {
            #expect(Self.error(reading: "GET / HTTP/1.1\r\n\(Self.host)\(fields)\r\n") == expected, "\(fields)")
        }
        #expect(Self.error(reading: "GET / HTTP/1.1\n\(Self.host)\r\n") == .bareLineFeed)
    }

    @Test func anHTTP11RequestNamesExactlyOneHost() {
        #expect(Self.error(reading: "GET / HTTP/1.1\r\n\r\n") == .badHost)
        #expect(Self.error(reading: "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n") == .badHost)
        #expect(Self.error(reading: "GET / HTTP/1.0\r\n\r\n") == nil)
        #expect(Self.error(reading: "GET / HTTP/1.1\r\nHOST: a\r\n\r\n") == nil)
    }

    @Test func refusesMalformedChunkedBodies() {
        for body in ["zz\r\n", "\r\n", "1\r\nab\r\n", "10000000000000000\r\n", "1\r\na\r\r\n"] {
            #expect(Self.error(reading: "POST / HTTP/1.1\r\n\(Self.host)Transfer-Encoding: chunked\r\n\r\n\(body)") == .badChunk, "\(body)")
        }
    }

    @Test func refusesAHeadOverTheLimitHoweverItArrives() throws {
        let filler = "X-Filler: " + String(repeating: "a", count: HTTPRequestFramer.maxHeadBytes) + "\r\n"
        let request = "GET / HTTP/1.1\r\n\(Self.host)\(filler)\r\n"
        #expect(Self.error(reading: request) == .headTooLarge)
        // Arriving a kilobyte at a time, it is refused once the limit passes, not buffered on.
        var framer = HTTPRequestFramer()
        let bytes = Array(request.utf8)
        var refusedAt: Int?
        for start in stride(from: 0, to: bytes.count, by: 1024) {
            var input = ByteBuffer(bytes: bytes[start..<min(bytes.count, start + 1024)])
            do throws(HTTPRequestFramingError) {
                _ = try framer.read(&input)
            } catch {
                #expect(error == .headTooLarge)
                refusedAt = start
                break
            }
        }
        let at = try #require(refusedAt)
        #expect(at <= HTTPRequestFramer.maxHeadBytes + 1024)
    }

    // MARK: Reading

    @Test func readsFieldsAndFramingFromTheBytes() throws {
        let text = "POST /openai/v1/chat/completions?x=1 HTTP/1.1\r\nHost: api.test\r\nAuthorization:  Bearer sk-1 \t\r\n"
            + "X-Tollgate-Team: ml\r\nConnection: keep-alive, Upgrade\r\nContent-Length: 4\r\n\r\nbody"
        var input = ByteBuffer(string: text)
        var framer = HTTPRequestFramer()
        guard case .head(let head) = try framer.read(&input) else {
            Issue.record("no head")
            return
        }
        #expect(head.method == .POST)
        #expect(head.target == "/openai/v1/chat/completions?x=1")
        #expect(head.version == .http1_1)
        #expect(head.isKeepAlive)
        #expect(head.framing == .length(4))
        #expect(head.first(name: "authorization") == "Bearer sk-1")
        #expect(head.first(name: "x-tollgate-team") == "ml")
        #expect(head.first(name: "x-missing") == nil)
        guard case .body(let body) = try framer.read(&input), case .end = try framer.read(&input) else {
            Issue.record("no body and end")
            return
        }
        #expect(String(buffer: body) == "body")
    }

    @Test func keepAliveFollowsVersionAndConnection() throws {
        func keepAlive(_ version: String, _ connection: String?) throws -> Bool {
            var input = ByteBuffer(string: "GET / HTTP/\(version)\r\n\(Self.host)\(connection.map { "Connection: \($0)\r\n" } ?? "")\r\n")
            var framer = HTTPRequestFramer()
            guard case .head(let head) = try framer.read(&input) else { throw HTTPRequestFramingError.badRequestLine }
            return head.isKeepAlive
        }
        #expect(try keepAlive("1.1", nil))
        #expect(try !keepAlive("1.1", "close"))
        #expect(try !keepAlive("1.1", "Upgrade, Close"))
        #expect(try !keepAlive("1.0", nil))
        #expect(try keepAlive("1.0", "Keep-Alive"))
    }

    /// In a pipeline, a request's end comes out with the read that completes it: nothing
    /// more arrives to prompt it, so a waiting `.end` would hang the exchange.
    @Test func theDecoderDeliversARequestsEndWithItsLastBytes() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(HTTPRequestPartDecoder()))
        try channel.writeInbound(ByteBuffer(string: "GET /v1/models HTTP/1.1\r\nHost: api.test\r\n\r\n"))
        #expect(try channel.readInbound(as: HTTPRequestFramer.Part.self).map { if case .head = $0 { true } else { false } } == true)
        #expect(try channel.readInbound(as: HTTPRequestFramer.Part.self).map { if case .end = $0 { true } else { false } } == true)
        try channel.writeInbound(ByteBuffer(string: "POST /v1/x HTTP/1.1\r\nHost: api.test\r\nContent-Length: 2\r\n\r\n"))
        #expect(try channel.readInbound(as: HTTPRequestFramer.Part.self).map { if case .head = $0 { true } else { false } } == true)
        try channel.writeInbound(ByteBuffer(string: "{}"))
        #expect(try channel.readInbound(as: HTTPRequestFramer.Part.self).map { if case .body = $0 { true } else { false } } == true)
        #expect(try channel.readInbound(as: HTTPRequestFramer.Part.self).map { if case .end = $0 { true } else { false } } == true)
        _ = try channel.finish()
    }

    /// Bytes after a CONNECT are the tunnel's or TLS's, not a next request: the framer
    /// reports the CONNECT's end and then reads nothing more.
    @Test func readsNothingAfterACONNECT() throws {
        var framer = HTTPRequestFramer()
        var input = ByteBuffer(string: "CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\n\r\n\u{16}\u{3}\u{1}GET / HTTP/1.1\r\n\r\n")
        guard case .head(let head) = try framer.read(&input), case .end = try framer.read(&input) else {
            Issue.record("no CONNECT head and end")
            return
        }
        #expect(head.method == .CONNECT && head.target == "api.openai.com:443")
        #expect(try framer.read(&input) == nil)
        #expect(Array(input.readableBytesView) == [0x16, 0x03, 0x01] + Array("GET / HTTP/1.1\r\n\r\n".utf8))
    }

    @Test func skipsEmptyLinesBetweenRequests() throws {
        let requests = try Self.frame([Array("\r\n\r\nGET /a HTTP/1.1\r\n\(Self.host)\r\n\r\nGET /b HTTP/1.1\r\n\(Self.host)\r\n".utf8)])
        #expect(requests.map(\.target) == ["/a", "/b"])
    }
}

// MARK: - Observed requests

private struct ObservedRequest: Equatable {
    var method: String
    var target: String
    var version: String
    var keepAlive: Bool
    var fields: [[String]]
    var body: [UInt8] = []
    var ended = false

    func values(of name: String) -> [String] {
        fields.filter { $0[0].lowercased() == name }.map { $0[1] }
    }

    init(_ head: HTTPRequestHeadBytes) {
        func text(_ range: Range<Int>) -> String {
            head.bytes.getString(at: head.bytes.readerIndex + range.lowerBound, length: range.count) ?? "<out of range>"
        }
        method = head.method.rawValue
        target = head.target
        version = "\(head.version)"
        keepAlive = head.isKeepAlive
        fields = head.fields.map { [text($0.name), text($0.value)] }
    }

    init(_ head: HTTPRequestHead) {
        method = head.method.rawValue
        target = head.uri
        version = "\(head.version)"
        keepAlive = head.isKeepAlive
        fields = head.headers.map { [$0.name, $0.value.withoutTrailingWhitespace] }
    }
}

// MARK: - Generated requests

private struct GeneratedRequest {
    var wire: [UInt8]
    var body: [UInt8]
}

/// Requests of the kinds LLM SDKs send, in the spellings HTTP allows.
private struct RequestGenerator: HTTPWireGenerating {
    var rng: SplitMix64

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    mutating func connection() -> [GeneratedRequest] {
        let count = int(1...3)
        return (0..<count).map { request(isLast: $0 == count - 1) }
    }

    mutating func request(isLast: Bool) -> GeneratedRequest {
        let method = pick(["POST", "POST", "POST", "GET", "DELETE", "PUT", "PATCH"])
        let http10 = chance(0.15)
        let target = pick(["/openai/v1/chat/completions", "/v1/models?limit=5", "http://api.openai.com/v1/embeddings",
                           "/gemini/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse&key=AIza"])
        var fields: [String] = []
        if !http10 || chance(0.5) { fields.append(field("host", pick(["api.openai.com", "localhost:8787", "[::1]:8787"]))) }
        if !isLast && http10 {
            fields.append(field("connection", pick(["keep-alive", "Keep-Alive"])))
        } else if isLast && chance(0.4) {
            fields.append(field("connection", pick(["close", "Close", "keep-alive"])))
        }
        if chance(0.8) { fields.append(field("authorization", "Bearer sk-" + String(rng.next(), radix: 36))) }
        if chance(0.5) { fields.append(field("content-type", "application/json")) }
        if chance(0.4) { fields.append(field("user-agent", pick(["OpenAI/Python 1.54.0", "curl/7.88.1", "anthropic-typescript/0.30.1"]))) }
        if chance(0.3) { fields.append(field("x-tollgate-team", pick(["ml", "search", "ci"]))) }
        if chance(0.2) { fields.append(field("x-stainless-retry-count", "0")) }
        if chance(0.2) { fields.append(field("accept", "*/*")) }

        var payload: [UInt8] = []
        var body: [HTTPWirePart] = []
        if method != "GET" || chance(0.1) {
            payload = randomPayload()
            if !http10 && chance(0.3) {
                fields.append(field("transfer-encoding", pick(["chunked", "Chunked"])))
                body = chunked(payload)
            } else if !payload.isEmpty || chance(0.5) {
                fields.append(field("content-length", String(payload.count)))
                body = [.bytes(payload)]
            }
        }
        fields.shuffle(using: &rng)
        var parts: [HTTPWirePart] = chance(0.1) ? [.line("")] : []
        parts.append(.line("\(method) \(target) HTTP/1.\(http10 ? 0 : 1)"))
        parts += fields.map { .line($0) } + [.line("")] + body
        return GeneratedRequest(wire: parts.wire(lineEnding: "\r\n"), body: payload)
    }

    /// Damage of the kinds that confuse parsers: a framing byte flipped, one dropped or
    /// inserted, or a framing field spliced in at a line break.
    mutating func mutate(_ wire: inout [UInt8]) {
        let snippets = ["\r\nContent-Length: 3", "\r\nTransfer-Encoding: chunked", "\r\nContent-Length: 0", "\r\nHost: evil",
                        "\r\nTransfer-Encoding: gzip", "\n", "\r", " ", "\r\n\r\n", "0\r\n\r\n", "\r\n "]
        let bytes: [UInt8] = Array("\r\n :\t0,a;\u{0}".utf8) + [0x80]
        for _ in 0..<int(0...3) where !wire.isEmpty {
            let at = int(0...(wire.count - 1))
            switch int(0...3) {
            case 0: wire[at] = pick(bytes)
            case 1: wire.remove(at: at)
            case 2: wire.insert(pick(bytes), at: at)
            default:
                let lineBreak = wire[at...].firstIndex(of: UInt8(ascii: "\r")) ?? wire.count
                wire.insert(contentsOf: Array(pick(snippets).utf8), at: lineBreak)
            }
        }
    }
}
