import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing
@testable import TollgateHTTP1
import TestSupport

/// The framer stands in for NIO's HTTP decoder on the upstream side, so NIO's decoder is the
/// reference: over the same bytes, split however the network splits them, both must find the
/// same responses, and the framer must refuse what a proxy cannot safely pass on.
@Suite struct HTTPResponseFramerTests {
    // MARK: Against NIO's decoder

    static let differentialConnections = 500

    /// Generated connections, each of one to three responses, read by the framer and by
    /// NIO's `HTTPResponseDecoder`: status, fields, keep-alive, body and count must agree.
    @Test func findsTheSameResponsesAsNIOsDecoder() {
        var generator = ResponseGenerator(seed: 0x7011_6A7E_F4A3_E001)
        for connection in 0..<Self.differentialConnections {
            let responses = generator.connection()
            let lineEnding = generator.chance(0.15) ? "\n" : "\r\n"
            let wire = responses.flatMap { $0.wire(lineEnding: lineEnding) }
            let pieces = generator.split(wire)
            // llhttp insists on CRLF, so NIO reads the same responses with CRLF line endings.
            let nioPieces = lineEnding == "\r\n" ? pieces : [responses.flatMap { $0.wire(lineEnding: "\r\n") }]
            let context = Comment(rawValue: "connection \(connection), \(pieces.count) reads:\n\(Self.printable(wire))")
            let framed: [ObservedResponse]
            let decoded: [ObservedResponse]
            do {
                framed = try Self.frame(pieces, headRequests: responses.map { $0.method == .HEAD })
            } catch {
                Issue.record("the framer threw \(error); \(context.rawValue)")
                continue
            }
            do {
                decoded = try Self.decodeWithNIO(nioPieces, methods: responses.map(\.method))
            } catch {
                Issue.record("NIO threw \(error); \(context.rawValue)")
                continue
            }
            #expect(framed == decoded, context)
            #expect(framed.count == responses.count, context)
            #expect(framed.map(\.status) == responses.map(\.status), context)
            #expect(framed.map(\.body) == responses.map(\.expectedBody), context)
            #expect(framed.allSatisfy { $0.ended }, context)
        }
    }

    /// Feeds `pieces` to one framer as the reads of one connection, then its end.
    private static func frame(_ pieces: [[UInt8]], headRequests: [Bool]) throws -> [ObservedResponse] {
        var framer = HTTPResponseFramer()
        var responses: [ObservedResponse] = []
        func take(_ event: HTTPResponseFramer.Event) {
            switch event {
            case .head(let head):
                #expect(responses.last?.ended ?? true, "a head inside a response")
                responses.append(ObservedResponse(head))
            case .body(let payload):
                guard let last = responses.indices.last, !responses[last].ended else {
                    Issue.record("body outside a response")
                    return
                }
                responses[last].body += payload.readableBytesView
            case .end:
                guard let last = responses.indices.last, !responses[last].ended else {
                    Issue.record("end outside a response")
                    return
                }
                responses[last].ended = true
            }
            #expect(framer.isIdle == (responses.last?.ended ?? true), "isIdle after \(event)")
        }
        for piece in pieces {
            var input = ByteBuffer(bytes: piece)
            while true {
                // The caller knows which request the next head answers: the one after those ended.
                let next = responses.filter(\.ended).count
                framer.expectsNoBody = next < headRequests.count && headRequests[next]
                guard let event = try framer.read(&input) else { break }
                take(event)
            }
            #expect(input.readableBytes == 0, "read returned nil with input left")
        }
        if let event = try framer.readEndOfInput() { take(event) }
        return responses
    }

    /// The same reads through NIO's client pipeline, after writing a request of each method
    /// so the decoder knows which responses answer a HEAD.
    private static func decodeWithNIO(_ pieces: [[UInt8]], methods: [HTTPMethod]) throws -> [ObservedResponse] {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(HTTPRequestEncoder())
        try channel.pipeline.syncOperations.addHandler(
            ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .forwardBytes))
        )
        for method in methods {
            try channel.writeOutbound(HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: method, uri: "/v1/responses")))
            try channel.writeOutbound(HTTPClientRequestPart.end(nil))
        }
        var responses: [ObservedResponse] = []
        func drain() throws {
            while let part = try channel.readInbound(as: HTTPClientResponsePart.self) {
                switch part {
                case .head(let head):
                    // Interim responses are not responses to compare (the framer skips them).
                    guard !(100..<200).contains(head.status.code) else { continue }
                    responses.append(ObservedResponse(head))
                case .body(let payload):
                    responses[responses.count - 1].body += payload.readableBytesView
                case .end:
                    responses[responses.count - 1].ended = true
                }
            }
        }
        for piece in pieces {
            try channel.writeInbound(ByteBuffer(bytes: piece))
            try drain()
        }
        try channel.close().wait()  // the provider's close: ends a close-delimited body
        try drain()
        return responses
    }

    /// Bytes as text for a failure message, control bytes escaped.
    static func printable(_ bytes: [UInt8]) -> String {
        let limit = 1500
        var text = ""
        for byte in bytes.prefix(limit) {
            switch byte {
            case UInt8(ascii: "\r"): text += "\\r"
            case UInt8(ascii: "\n"): text += "\\n\n"
            case 0x20..<0x7F: text.unicodeScalars.append(Unicode.Scalar(byte))
            default: text += "\\x" + String(byte, radix: 16)
            }
        }
        return bytes.count > limit ? text + "… (\(bytes.count) bytes)" : text
    }

    // MARK: HEAD

    /// A HEAD response announces the GET's length without sending it: reading 1234 body bytes
    /// would swallow the next response on the connection.
    @Test func aResponseToHEADHasNoBodyWhateverItsLength() throws {
        var framer = HTTPResponseFramer()
        framer.expectsNoBody = true
        var input = ByteBuffer(string: "HTTP/1.1 200 OK\r\ncontent-length: 1234\r\n\r\n"
            + "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello")
        let head = try #require(try framer.read(&input))
        guard case .head(let headBytes) = head else {
            Issue.record("expected a head, got \(head)")
            return
        }
        #expect(headBytes.status == 200)
        #expect(headBytes.framing == .none)
        #expect(headBytes.keepAlive)
        #expect(try Self.next(&framer, &input) == .end)
        #expect(framer.isIdle)

        framer.expectsNoBody = false
        #expect(try Self.drain(&framer, &input) == [.head(200), .body("hello"), .end])
    }

    // MARK: Malformed responses

    /// A proxy that guessed at a malformed head could frame the body differently from the
    /// client, so each kind of malformed line is refused.
    @Test func refusesMalformedStatusLines() {
        for statusLine in ["HTTP/2 200 OK", "HTTP/1.1 20", "HTTP/1.1 20 OK", "HTTP/1.1 2000 OK", "HTTP/1.2 200 OK",
                           "HTTP/1.1 099 Odd", "http/1.1 200 OK", "garbage", "HTTP/1.1200 OK"] {
            #expect(Self.error(reading: [statusLine + "\r\ncontent-length: 0\r\n\r\n"]) == .badStatusLine, "\(statusLine)")
        }
    }

    @Test func refusesMalformedHeaderLines() {
        let lines = [
            "content-length 5",  // no colon
            "content-length : 5",  // space before the colon
            ": 5",  // no name
            "x-bad\u{1}name: 1",
            "x-control: a\u{1}b",
        ]
        for line in lines {
            #expect(Self.error(reading: ["HTTP/1.1 200 OK\r\n\(line)\r\n\r\nhello"]) == .badHeader, "\(line)")
        }
        // An obs-fold continuation line.
        #expect(Self.error(reading: ["HTTP/1.1 200 OK\r\nx-note: a\r\n  folded\r\ncontent-length: 0\r\n\r\n"]) == .badHeader)
        #expect(Self.error(reading: ["HTTP/1.1 200 OK\r\nx-note: a\r\n\tfolded\r\ncontent-length: 0\r\n\r\n"]) == .badHeader)
    }

    @Test func refusesConflictingOrNonNumericContentLengths() {
        #expect(Self.error(reading: ["HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\nhello!"]) == .badContentLength)
        for value in ["five", "-5", "+5", "0x10", "5 5", "5,5", "", "1234567890123456789"] {
            #expect(Self.error(reading: ["HTTP/1.1 200 OK\r\ncontent-length: \(value)\r\n\r\nhello"]) == .badContentLength, "\(value)")
        }
    }

    /// Repeats of one length are harmless (RFC 9110 §8.6 lets a recipient accept them).
    @Test func acceptsRepeatedEqualContentLengths() throws {
        var framer = HTTPResponseFramer()
        var input = ByteBuffer(string: "HTTP/1.1 200 OK\r\ncontent-length: 5\r\nContent-Length: 5\r\n\r\nhello")
        #expect(try Self.drain(&framer, &input) == [.head(200), .body("hello"), .end])
    }

    @Test func refusesMalformedChunkFraming() {
        let head = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
        #expect(Self.error(reading: [head + "zz\r\nhello\r\n0\r\n\r\n"]) == .badChunk)
        #expect(Self.error(reading: [head + ";ext\r\nhello\r\n0\r\n\r\n"]) == .badChunk)  // no size
        #expect(Self.error(reading: [head + "\r\nhello\r\n0\r\n\r\n"]) == .badChunk)
        #expect(Self.error(reading: [head + "5\rhello\r\n0\r\n\r\n"]) == .badChunk)  // CR without LF
        #expect(Self.error(reading: [head + "5\r\nhelloX\r\n0\r\n\r\n"]) == .badChunk)  // data overruns its size
        #expect(Self.error(reading: [head + "5\r\nhello\r\r\n0\r\n\r\n"]) == .badChunk)
        #expect(Self.error(reading: [head + "1000000000000000\r\n"]) == .badChunk)  // 16 hex digits
        // The same, a byte per read.
        #expect(Self.error(reading: Self.pieces(head + "5\r\nhelloX\r\n0\r\n\r\n", of: 1)) == .badChunk)
    }

    /// Extensions and trailers are skipped, not kept, so only a bounded amount of them is.
    @Test func refusesRunawayChunkMetadata() {
        let head = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
        let tooMuch = String(repeating: "a", count: HTTPBodyReader.maxMetadataBytes + 1)
        #expect(Self.error(reading: [head + "5;\(tooMuch)\r\nhello\r\n0\r\n\r\n"]) == .badChunk)
        #expect(Self.error(reading: [head + "0\r\nx-trailer: \(tooMuch)\r\n\r\n"]) == .badChunk)
        let underLimit = String(repeating: "a", count: HTTPBodyReader.maxMetadataBytes / 2)
        #expect(Self.error(reading: [head + "5;\(underLimit)\r\nhello\r\n0\r\n\r\n"]) == nil)
    }

    /// A head of exactly `size` bytes (through its blank line), padded with one long field.
    static func head(ofSize size: Int) -> String {
        let start = "HTTP/1.1 200 OK\r\nx-padding: "
        let end = "\r\ncontent-length: 0\r\n\r\n"
        let head = start + String(repeating: "a", count: size - start.utf8.count - end.utf8.count) + end
        precondition(head.utf8.count == size)
        return head
    }

    /// `text` in reads of `size` bytes.
    static func pieces(_ text: String, of size: Int) -> [String] {
        let bytes = Array(text.utf8)
        return stride(from: 0, to: bytes.count, by: size).map {
            String(decoding: bytes[$0..<min($0 + size, bytes.count)], as: UTF8.self)
        }
    }

    /// The limit holds however the head arrives: in one read, in two, or in many small ones
    /// (where the read that completes the head is the one that crosses the limit).
    @Test func refusesAHeadOverTheLimitHoweverItArrives() {
        let limit = HTTPResponseFramer.maxHeadBytes
        let over = Self.head(ofSize: limit + 1)
        #expect(Self.error(reading: [over]) == .headTooLarge)
        #expect(Self.error(reading: Self.pieces(over, of: limit / 2 + 1)) == .headTooLarge)
        #expect(Self.error(reading: Self.pieces(over, of: 1000)) == .headTooLarge)
        #expect(Self.error(reading: Self.pieces(over + "HTTP/1.1 200 OK\r\n\r\n", of: 4096)) == .headTooLarge)
        // One without an end in sight is refused before it all arrives.
        let endless = "HTTP/1.1 200 OK\r\nx-padding: " + String(repeating: "a", count: 2 * limit)
        #expect(Self.error(reading: [endless]) == .headTooLarge)
        #expect(Self.error(reading: Self.pieces(endless, of: 1000)) == .headTooLarge)
    }

    @Test func acceptsAHeadAtTheLimitHoweverItArrives() throws {
        let atLimit = Self.head(ofSize: HTTPResponseFramer.maxHeadBytes)
        for size in [atLimit.utf8.count, HTTPResponseFramer.maxHeadBytes / 2 + 1, 1000] {
            var framer = HTTPResponseFramer()
            var seen: [Seen] = []
            for piece in Self.pieces(atLimit, of: size) {
                var input = ByteBuffer(string: piece)
                seen += try Self.drain(&framer, &input)
            }
            #expect(seen == [.head(200), .end], "reads of \(size)")
        }
    }

    /// The proxy relays HTTP only; a switch to another protocol is refused, not relayed.
    @Test func refusesSwitchingProtocols() {
        let upgrade = "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n"
        #expect(Self.error(reading: [upgrade]) == .unsupportedUpgrade)
    }

    @Test func skipsInterimResponses() throws {
        var framer = HTTPResponseFramer()
        var input = ByteBuffer(string: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n"
            + "HTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\nok")
        #expect(try Self.drain(&framer, &input) == [.head(201), .body("ok"), .end])
    }

    /// A close before the response's end must not pass for its end: the client would take a
    /// cut-off body for a whole one.
    @Test func endOfInputMidResponseIsTruncation() {
        let cases = [
            "HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhello",
            "HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n",
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhel",
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n",
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0\r\nx-trailer: 1\r\n",
            "HTTP/1.1 200 OK\r\ncontent-le",
            "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n",
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200",
        ]
        for text in cases {
            #expect(Self.error(reading: [text]) == .truncated, "\(Self.printable(Array(text.utf8)))")
        }
    }

    @Test func endOfInputEndsACloseDelimitedBody() throws {
        var framer = HTTPResponseFramer()
        var input = ByteBuffer(string: "HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nhello")
        #expect(try Self.drain(&framer, &input) == [.head(200), .body("hello")])
        #expect(try framer.readEndOfInput().map(Seen.init) == .end)
        #expect(try framer.readEndOfInput() == nil)
        // Between responses a close is no truncation.
        var idle = HTTPResponseFramer()
        var whole = ByteBuffer(string: "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
        _ = try Self.drain(&idle, &whole)
        #expect(try idle.readEndOfInput() == nil)
    }

    // MARK: The head's fields

    /// The proxy copies fields by their ranges, so a range off by one byte, or counted from
    /// the wrong place, corrupts what the client receives.
    @Test func fieldRangesGiveBackTheExactNamesAndValues() throws {
        let headText = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Request-Id:  \t req-42 \t\r\n"
            + "x-empty:\r\nx-inner:a  b\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\n"
        let expected = [
            ("Content-Type", "application/json"), ("X-Request-Id", "req-42"), ("x-empty", ""),
            ("x-inner", "a  b"), ("content-type", "text/plain"), ("content-length", "2"),
        ]

        var framer = HTTPResponseFramer()
        var input = ByteBuffer(string: headText + "{}")
        guard case .head(let framed) = try framer.read(&input) else {
            Issue.record("expected a head")
            return
        }
        // The same head parsed from a buffer whose readable bytes do not start at index 0.
        var offsetBuffer = ByteBuffer(string: "the tail of a previous read")
        let skipped = offsetBuffer.readableBytes
        offsetBuffer.writeString(headText)
        offsetBuffer.moveReaderIndex(forwardBy: skipped)
        let offset = try HTTPResponseHeadBytes(parsing: offsetBuffer)

        for head in [framed, offset] {
            func text(_ range: Range<Int>) -> String? {
                head.bytes.getString(at: head.bytes.readerIndex + range.lowerBound, length: range.count)
            }
            #expect(head.status == 200)
            #expect(text(head.statusText) == "200 OK")
            #expect(head.fields.map { text($0.name) } == expected.map(\.0))
            #expect(head.fields.map { text($0.value) } == expected.map(\.1))
            #expect(head.value(of: "content-type") == "application/json")  // the first, by any case
            #expect(head.value(of: "x-request-id") == "req-42")
            #expect(head.value(of: "x-empty") == "")
            #expect(head.value(of: "x-missing") == nil)
            #expect(head.framing == .length(2))
        }
    }

    @Test func keepAliveFollowsVersionConnectionAndFraming() throws {
        let cases: [(String, Bool)] = [
            ("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n", true),
            ("HTTP/1.1 200 OK\r\nConnection: Close\r\ncontent-length: 0\r\n\r\n", false),
            ("HTTP/1.1 200 OK\r\nconnection: te, close\r\ncontent-length: 0\r\n\r\n", false),
            ("HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n", false),
            ("HTTP/1.0 200 OK\r\nconnection: keep-alive\r\ncontent-length: 0\r\n\r\n", true),
            ("HTTP/1.1 200 OK\r\n\r\n", false),  // the body runs to the close
            ("HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\n", false),
            ("HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\n", true),
            ("HTTP/1.1 204 No Content\r\n\r\n", true),
        ]
        for (text, keepAlive) in cases {
            var framer = HTTPResponseFramer()
            var input = ByteBuffer(string: text)
            guard case .head(let head) = try framer.read(&input) else {
                Issue.record("expected a head: \(text)")
                continue
            }
            #expect(head.keepAlive == keepAlive, "\(text)")
        }
    }

    // MARK: Idle

    /// The pool reuses a connection only while it is idle: between a response's end and the
    /// next head, never with part of a response still to come.
    @Test func isIdleOnlyBetweenResponses() throws {
        var framer = HTTPResponseFramer()
        #expect(framer.isIdle)

        var input = ByteBuffer(string: "HTTP/1.1 200 OK\r\ncontent-le")
        #expect(try framer.read(&input) == nil)
        #expect(!framer.isIdle, "mid-head")

        input = ByteBuffer(string: "ngth: 10\r\n\r\nhello")
        #expect(try Self.drain(&framer, &input) == [.head(200), .body("hello")])
        #expect(!framer.isIdle, "mid-body")

        input = ByteBuffer(string: "world")
        #expect(try Self.next(&framer, &input) == .body("world"))
        #expect(try Self.next(&framer, &input) == .end)
        #expect(framer.isIdle, "after the end")

        input = ByteBuffer(string: "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n")
        #expect(try Self.drain(&framer, &input) == [.head(200), .body("hello")])
        #expect(!framer.isIdle, "between chunks")
        input = ByteBuffer(string: "0\r\n\r\n")
        #expect(try Self.drain(&framer, &input) == [.end])
        #expect(framer.isIdle, "after the last chunk")

        input = ByteBuffer(string: "HTTP/1.1 200 OK\r\n\r\nstreamed")
        #expect(try Self.drain(&framer, &input) == [.head(200), .body("streamed")])
        #expect(!framer.isIdle, "mid close-delimited body")
        #expect(try framer.readEndOfInput().map(Seen.init) == .end)
        #expect(framer.isIdle, "after the close")
    }

    // MARK: Helpers

    /// An event as tests compare it.
    enum Seen: Equatable {
        case head(Int)
        case body(String)
        case end

        init(_ event: HTTPResponseFramer.Event) {
            switch event {
            case .head(let head): self = .head(head.status)
            case .body(let payload): self = .body(String(buffer: payload))
            case .end: self = .end
            }
        }
    }

    /// The next event `input` holds.
    static func next(_ framer: inout HTTPResponseFramer, _ input: inout ByteBuffer) throws -> Seen? {
        try framer.read(&input).map(Seen.init)
    }

    /// Every event `input` holds.
    static func drain(_ framer: inout HTTPResponseFramer, _ input: inout ByteBuffer) throws -> [Seen] {
        var seen: [Seen] = []
        while let event = try framer.read(&input) { seen.append(Seen(event)) }
        return seen
    }

    /// The error a framer throws reading `pieces` as one connection's reads and then its end.
    static func error(reading pieces: [String]) -> HTTPResponseFramingError? {
        var framer = HTTPResponseFramer()
        do throws(HTTPResponseFramingError) {
            for piece in pieces {
                var input = ByteBuffer(string: piece)
                while try framer.read(&input) != nil {}
            }
            _ = try framer.readEndOfInput()
        } catch {
            return error
        }
        return nil
    }
}

// MARK: - Observed responses

private struct HeaderField: Equatable {
    var name: String
    var value: String
}

/// One response as a reader of the connection saw it.
private struct ObservedResponse: Equatable {
    var status: Int
    var keepAlive: Bool
    var fields: [HeaderField]
    var body: [UInt8] = []
    var ended = false

    init(_ head: HTTPResponseHeadBytes) {
        func text(_ range: Range<Int>) -> String {
            head.bytes.getString(at: head.bytes.readerIndex + range.lowerBound, length: range.count) ?? "<out of range>"
        }
        status = head.status
        keepAlive = head.keepAlive
        fields = head.fields.map { HeaderField(name: text($0.name), value: text($0.value)) }
    }

    init(_ head: HTTPResponseHead) {
        status = Int(head.status.code)
        keepAlive = head.isKeepAlive
        fields = head.headers.map { HeaderField(name: $0.name, value: $0.value.withoutTrailingWhitespace) }
    }
}

// MARK: - Generated responses

/// A response as lines and raw bytes, so it can be written with either line ending.
private struct GeneratedResponse {
    typealias Part = HTTPWirePart

    var method: HTTPMethod
    var status: Int
    var parts: [Part] = []
    /// What a reader should deliver as the body.
    var expectedBody: [UInt8] = []

    func wire(lineEnding: String) -> [UInt8] { parts.wire(lineEnding: lineEnding) }
}

/// Responses of the kinds providers send, in the spellings HTTP allows.
private struct ResponseGenerator: HTTPWireGenerating {
    var rng: SplitMix64

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    /// One to three responses; all but the last leave the connection open for the next.
    mutating func connection() -> [GeneratedResponse] {
        let count = int(1...3)
        return (0..<count).map { response(isLast: $0 == count - 1) }
    }

    enum BodyFraming { case none, length, chunked, untilClose }

    mutating func response(isLast: Bool) -> GeneratedResponse {
        let method: HTTPMethod = chance(0.1) ? .HEAD : pick([.GET, .POST])
        let http10 = chance(0.2)
        let status = pick([200, 200, 200, 201, 204, 304, 404, 429, 500])
        var response = GeneratedResponse(method: method, status: status)

        if !http10 && chance(0.15) {
            if chance(0.7) {
                response.parts.append(.line("HTTP/1.1 100 Continue"))
            } else {
                response.parts += [.line("HTTP/1.1 103 Early Hints"), .line(field("link", "</style.css>; rel=preload"))]
            }
            response.parts.append(.line(""))
        }
        response.parts.append(.line(statusLine(status, http10: http10)))

        var fields: [String] = []
        let framing: BodyFraming
        if status == 204 || status == 304 {
            framing = .none
            if status == 304 && chance(0.5) { fields.append(field("content-length", String(int(1...5000)))) }
            if status == 204 && chance(0.3) { fields.append(field("content-length", "0")) }
        } else if method == .HEAD {
            // A HEAD response always states the length here: NIO's decoder calls one without a
            // length not reusable, which is not so (there is no body to run to the close).
            framing = .none
            if http10 || chance(0.7) {
                fields.append(field("content-length", String(int(0...5000))))
            } else {
                fields.append(field("transfer-encoding", "chunked"))
            }
        } else {
            var choices: [BodyFraming] = [.length, .length]
            if !http10 { choices += [.chunked, .chunked] }
            if isLast { choices.append(.untilClose) }
            framing = pick(choices)
        }

        if !isLast {
            if http10 || chance(0.3) { fields.append(field("connection", pick(["keep-alive", "Keep-Alive"]))) }
        } else if chance(0.5) {
            fields.append(field("connection", pick(["close", "Close", "keep-alive", "Keep-Alive"])))
        }
        if chance(0.7) { fields.append(field("content-type", pick(["application/json", "text/event-stream", "application/json; charset=utf-8"]))) }
        if chance(0.5) { fields.append(field("x-request-id", "req_" + String(rng.next(), radix: 16))) }
        if chance(0.3) { fields.append(field("openai-processing-ms", String(int(1...9999)))) }
        if chance(0.2) { fields.append(field("date", "Tue, 14 Oct 2025 09:00:00 GMT")) }

        let payload = framing == .none ? [] : randomPayload()
        var body: [HTTPWirePart] = []
        switch framing {
        case .none:
            break
        case .length:
            fields.append(field("content-length", String(payload.count)))
            body = [.bytes(payload)]
        case .chunked:
            fields.append(field("transfer-encoding", pick(["chunked", "chunked", "Chunked", "gzip, chunked"])))
            body = chunked(payload)
        case .untilClose:
            if !http10 && chance(0.2) { fields.append(field("transfer-encoding", "gzip")) }
            body = [.bytes(payload)]
        }
        fields.shuffle(using: &rng)
        response.parts += fields.map { .line($0) } + [.line("")] + body
        response.expectedBody = payload
        return response
    }

    mutating func statusLine(_ status: Int, http10: Bool) -> String {
        let reasons = [200: "OK", 201: "Created", 204: "No Content", 304: "Not Modified", 404: "Not Found",
                       429: "Too Many Requests", 500: "Internal Server Error"]
        let reason = chance(0.1) ? "" : " " + reasons[status]!
        return "HTTP/1.\(http10 ? 0 : 1) \(status)\(reason)"
    }
}
