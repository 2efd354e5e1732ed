import NIOCore

/// Reads a provider's HTTP/1.1 responses straight from the connection's bytes: each head,
/// then the body's payload as it arrives, then where it ends. The proxy forwards those
/// bytes itself instead of decoding every response into parts and encoding it again, which
/// was half of what a proxied request cost.
///
/// Handles content-length, chunked and close-delimited bodies, responses that have no body
/// (to HEAD, 204, 304), and skips interim 1xx responses. Anything else malformed is a
/// `HTTPResponseFramingError`: the proxy answers 502 (or cuts the client connection when
/// the response had begun) and never reuses that upstream connection.
struct HTTPResponseFramer {
    /// A response head larger than this is refused (providers send well under 4 KB).
    static let maxHeadBytes = 64 * 1024
    /// Chunk extensions and trailers are skipped; more than this of them is refused.
    static let maxChunkMetadataBytes = 16 * 1024

    enum Event {
        case head(HTTPResponseHeadBytes)
        /// Payload bytes (chunk framing removed), a view into the connection's buffer.
        case body(ByteBuffer)
        case end
    }

    enum Framing: Equatable {
        case none
        case length(Int)
        case chunked
        /// No length and not chunked: the body ends when the provider closes.
        case untilClose
    }

    private enum State {
        case head
        case fixed(remaining: Int)
        case chunkSize(value: Int, digits: Int)
        case chunkExtension(value: Int)
        case chunkSizeLF(value: Int)
        case chunkData(remaining: Int)
        case chunkDataEnd(sawCR: Bool)
        case trailer(lineLength: Int)
        case untilClose
        /// The body is complete; `.end` is reported next.
        case complete
        /// Only bytes of a next response may follow (none are expected while idle).
        case ended
    }

    private var state = State.head
    /// A head split over reads, kept until its blank line arrives.
    private var partialHead: ByteBuffer?
    private var metadataBytes = 0
    /// Set while the request in flight is a HEAD: its response has no body.
    var expectsNoBody = false

    /// True between responses: an idle connection may be pooled.
    var isIdle: Bool {
        switch state {
        case .head, .ended: partialHead == nil
        default: false
        }
    }

    /// The next event from `input`, consuming what it used; nil once `input` is used up.
    mutating func read(_ input: inout ByteBuffer) throws(HTTPResponseFramingError) -> Event? {
        while true {
            switch state {
            case .ended:
                state = .head
                continue
            case .complete:
                state = .ended
                return .end
            case .head:
                guard let head = try readHead(&input) else { return nil }
                if let event = try begin(head) { return event }
            case .fixed(let remaining):
                guard input.readableBytes > 0 else { return nil }
                let take = min(remaining, input.readableBytes)
                let payload = input.readSlice(length: take)!
                state = take == remaining ? .complete : .fixed(remaining: remaining - take)
                return .body(payload)
            case .untilClose:
                guard input.readableBytes > 0 else { return nil }
                return .body(input.readSlice(length: input.readableBytes)!)
            case .chunkData(let remaining):
                guard input.readableBytes > 0 else { return nil }
                let take = min(remaining, input.readableBytes)
                let payload = input.readSlice(length: take)!
                state = take == remaining ? .chunkDataEnd(sawCR: false) : .chunkData(remaining: remaining - take)
                return .body(payload)
            case .chunkSize, .chunkExtension, .chunkSizeLF, .chunkDataEnd, .trailer:
                guard let byte = input.readInteger(as: UInt8.self) else { return nil }
                if try advanceChunkFraming(byte) { return .end }
            }
        }
    }

    /// The provider closed the connection: the end of a close-delimited body, else (mid
    /// response) a truncated one.
    mutating func readEndOfInput() throws(HTTPResponseFramingError) -> Event? {
        switch state {
        case .untilClose, .complete:
            state = .ended
            return .end
        case .head where partialHead == nil, .ended:
            return nil
        default:
            throw .truncated
        }
    }

    // MARK: Head

    private mutating func readHead(_ input: inout ByteBuffer) throws(HTTPResponseFramingError) -> HTTPResponseHeadBytes? {
        if var partial = partialHead {
            partialHead = nil
            let searchFrom = max(0, partial.readableBytes - 3)
            partial.writeBuffer(&input)
            guard let end = Self.endOfHead(in: partial, from: searchFrom) else {
                guard partial.readableBytes <= Self.maxHeadBytes else { throw .headTooLarge }
                partialHead = partial
                return nil
            }
            guard end <= Self.maxHeadBytes else { throw .headTooLarge }
            let headBytes = partial.readSlice(length: end)!
            input = partial  // what followed the head
            return try HTTPResponseHeadBytes(parsing: headBytes)
        }
        guard input.readableBytes > 0 else { return nil }
        guard let end = Self.endOfHead(in: input, from: 0) else {
            guard input.readableBytes <= Self.maxHeadBytes else { throw .headTooLarge }
            partialHead = input.readSlice(length: input.readableBytes)
            return nil
        }
        guard end <= Self.maxHeadBytes else { throw .headTooLarge }
        return try HTTPResponseHeadBytes(parsing: input.readSlice(length: end)!)
    }

    /// The length up to and including the blank line that ends a head (CRLF CRLF, or bare
    /// LFs), searching from `offset` of the readable bytes.
    private static func endOfHead(in buffer: ByteBuffer, from offset: Int) -> Int? {
        buffer.withUnsafeReadableBytes { bytes -> Int? in
            var index = offset
            while index < bytes.count {
                guard let newline = bytes[index...].firstIndex(of: UInt8(ascii: "\n")) else { return nil }
                // A line is blank when the previous line ended right before it.
                if newline >= 1 && bytes[newline - 1] == UInt8(ascii: "\n") { return newline + 1 }
                if newline >= 2 && bytes[newline - 1] == UInt8(ascii: "\r") && bytes[newline - 2] == UInt8(ascii: "\n") { return newline + 1 }
                index = newline + 1
            }
            return nil
        }
    }

    /// Starts the body the head announced; returns the event to report, or nil to skip an
    /// interim response and read the next head.
    private mutating func begin(_ head: HTTPResponseHeadBytes) throws(HTTPResponseFramingError) -> Event? {
        if (100..<200).contains(head.status) {
            guard head.status != 101 else { throw .unsupportedUpgrade }
            return nil
        }
        let framing = expectsNoBody || head.status == 204 || head.status == 304 ? .none : head.framing
        var head = head
        head.framing = framing
        metadataBytes = 0
        switch framing {
        case .none, .length(0): state = .complete
        case .length(let length): state = .fixed(remaining: length)
        case .chunked: state = .chunkSize(value: 0, digits: 0)
        case .untilClose: state = .untilClose
        }
        return .head(head)
    }

    // MARK: Chunked

    /// Steps the chunk-framing state machine by one byte; true when the body has ended.
    private mutating func advanceChunkFraming(_ byte: UInt8) throws(HTTPResponseFramingError) -> Bool {
        switch state {
        case .chunkSize(let value, let digits):
            if let digit = Self.hexValue(byte) {
                guard digits < 15 else { throw .badChunk }
                state = .chunkSize(value: value << 4 | digit, digits: digits + 1)
            } else if digits > 0 && (byte == UInt8(ascii: ";") || byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")) {
                state = .chunkExtension(value: value)
            } else if digits > 0 && byte == UInt8(ascii: "\r") {
                state = .chunkSizeLF(value: value)
            } else if digits > 0 && byte == UInt8(ascii: "\n") {
                startChunk(value)
            } else {
                throw .badChunk
            }
        case .chunkExtension(let value):
            try countMetadata()
            if byte == UInt8(ascii: "\n") { startChunk(value) }
        case .chunkSizeLF(let value):
            guard byte == UInt8(ascii: "\n") else { throw .badChunk }
            startChunk(value)
        case .chunkDataEnd(let sawCR):
            if byte == UInt8(ascii: "\r") && !sawCR {
                state = .chunkDataEnd(sawCR: true)
            } else if byte == UInt8(ascii: "\n") {
                state = .chunkSize(value: 0, digits: 0)
            } else {
                throw .badChunk
            }
        case .trailer(let lineLength):
            try countMetadata()
            if byte == UInt8(ascii: "\n") {
                if lineLength == 0 {
                    state = .ended
                    return true
                }
                state = .trailer(lineLength: 0)
            } else if byte != UInt8(ascii: "\r") {
                state = .trailer(lineLength: lineLength + 1)
            }
        default:
            preconditionFailure("not in chunk framing")
        }
        return false
    }

    private mutating func startChunk(_ size: Int) {
        state = size == 0 ? .trailer(lineLength: 0) : .chunkData(remaining: size)
    }

    private mutating func countMetadata() throws(HTTPResponseFramingError) {
        metadataBytes += 1
        guard metadataBytes <= Self.maxChunkMetadataBytes else { throw .badChunk }
    }

    private static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): Int(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): Int(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }
}

enum HTTPResponseFramingError: Error, Equatable, CustomStringConvertible {
    case headTooLarge
    case badStatusLine
    case badHeader
    case badContentLength
    case badChunk
    case unsupportedUpgrade
    case truncated

    var description: String {
        switch self {
        case .headTooLarge: "the provider's response head exceeds \(HTTPResponseFramer.maxHeadBytes) bytes"
        case .badStatusLine: "the provider sent a malformed status line"
        case .badHeader: "the provider sent a malformed header line"
        case .badContentLength: "the provider sent an invalid or conflicting content-length"
        case .badChunk: "the provider sent malformed chunked framing"
        case .unsupportedUpgrade: "the provider tried to switch protocols"
        case .truncated: "the provider closed the connection before the response ended"
        }
    }
}
