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
public struct HTTPResponseFramer {
    /// A response head larger than this is refused (providers send well under 4 KB).
    public static let maxHeadBytes = 64 * 1024

    public enum Event {
        case head(HTTPResponseHeadBytes)
        /// Payload bytes (chunk framing removed), a view into the connection's buffer.
        case body(ByteBuffer)
        case end
    }

    public enum Framing: Equatable {
        case none
        case length(Int)
        case chunked
        /// No length and not chunked: the body ends when the provider closes.
        case untilClose
    }

    private enum State {
        case head
        case body
        case untilClose
        /// The body is complete; `.end` is reported next.
        case complete
        /// Only bytes of a next response may follow (none are expected while idle).
        case ended
    }

    private var state = State.head
    private var headReader = HTTPHeadReader(maxBytes: maxHeadBytes, bareLF: true)
    private var body = HTTPBodyReader(length: 0)

    public init() {}
    /// Set while the request in flight is a HEAD: its response has no body.
    public var expectsNoBody = false

    /// True between responses: an idle connection may be pooled.
    public var isIdle: Bool {
        switch state {
        case .head, .ended: !headReader.isMidHead
        default: false
        }
    }

    /// The next event from `input`, consuming what it used; nil once `input` is used up.
    public mutating func read(_ input: inout ByteBuffer) throws(HTTPResponseFramingError) -> Event? {
        while true {
            switch state {
            case .ended:
                state = .head
                continue
            case .complete:
                state = .ended
                return .end
            case .head:
                let bytes: ByteBuffer?
                do { bytes = try headReader.read(&input) } catch { throw .headTooLarge }
                guard let bytes else { return nil }
                if let event = try begin(HTTPResponseHeadBytes(parsing: bytes)) { return event }
            case .body:
                let event: HTTPBodyReader.Event?
                do { event = try body.read(&input) } catch { throw .badChunk }
                switch event {
                case nil: return nil
                case .payload(let payload): return .body(payload)
                case .end:
                    state = .ended
                    return .end
                }
            case .untilClose:
                guard input.readableBytes > 0 else { return nil }
                return .body(input.readSlice(length: input.readableBytes)!)
            }
        }
    }

    /// The provider closed the connection: the end of a close-delimited body, else (mid
    /// response) a truncated one.
    public mutating func readEndOfInput() throws(HTTPResponseFramingError) -> Event? {
        switch state {
        case .untilClose, .complete:
            state = .ended
            return .end
        case .head where !headReader.isMidHead, .ended:
            return nil
        default:
            throw .truncated
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
        switch framing {
        case .none, .length(0): state = .complete
        case .length(let length):
            body = HTTPBodyReader(length: length)
            state = .body
        case .chunked:
            body = HTTPBodyReader()
            state = .body
        case .untilClose: state = .untilClose
        }
        return .head(head)
    }
}

public enum HTTPResponseFramingError: Error, Equatable, CustomStringConvertible {
    case headTooLarge
    case badStatusLine
    case badHeader
    case badContentLength
    case badChunk
    case unsupportedUpgrade
    case truncated

    public var description: String {
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
