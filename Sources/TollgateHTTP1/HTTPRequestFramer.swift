import NIOCore

/// Reads a client's HTTP/1.1 requests straight from the connection's bytes: each head
/// (`HTTPRequestHeadBytes`, checked strictly), then the body's payload as it arrives, then
/// its end. It replaces NIO's `HTTPRequestDecoder`, which turned every field into a `String`
/// in an `HTTPHeaders` the proxy then searched again and again; here the proxy looks fields
/// up in the bytes they arrived in and copies them on to the provider.
///
/// After a CONNECT nothing more is read: what follows belongs to the tunnel or the TLS
/// connection the proxy sets up once it has answered 200, which is when clients send it.
public struct HTTPRequestFramer {
    /// NIO's decoder allowed 80 KiB; real SDKs send under 2 KB.
    public static let maxHeadBytes = 64 * 1024

    public enum Part {
        case head(HTTPRequestHeadBytes)
        /// Payload bytes (chunk framing removed), a view into the connection's buffer.
        case body(ByteBuffer)
        case end
    }

    private enum State {
        case head
        case body
        /// The head said there is no body; `.end` is reported next.
        case complete
        /// A CONNECT head was read; its `.end` is reported next, and then nothing.
        case connecting
        /// The bytes after a CONNECT are not HTTP.
        case connected
    }

    private var state = State.head
    private var headReader = HTTPHeadReader(maxBytes: maxHeadBytes, bareLF: false)
    private var body = HTTPBodyReader(length: 0)

    public init() {}

    /// The next part from `input`, consuming what it used; nil once it needs more input.
    public mutating func read(_ input: inout ByteBuffer) throws(HTTPRequestFramingError) -> Part? {
        switch state {
        case .connected:
            return nil
        case .connecting:
            state = .connected
            return .end
        case .complete:
            state = .head
            return .end
        case .head:
            if !headReader.isMidHead { Self.skipEmptyLines(&input) }
            let bytes: ByteBuffer?
            do { bytes = try headReader.read(&input) } catch { throw .headTooLarge }
            guard let bytes else { return nil }
            let head = try HTTPRequestHeadBytes(parsing: bytes)
            switch head.framing {
            case .none: state = head.method == .CONNECT ? .connecting : .complete
            case .length(let length):
                body = HTTPBodyReader(length: length)
                state = .body
            case .chunked:
                body = HTTPBodyReader()
                state = .body
            }
            return .head(head)
        case .body:
            let event: HTTPBodyReader.Event?
            do { event = try body.read(&input) } catch { throw .badChunk }
            switch event {
            case nil: return nil
            case .payload(let payload): return .body(payload)
            case .end:
                state = .head
                return .end
            }
        }
    }

    /// RFC 9112 §2.2: a server should ignore empty lines before a request line (some
    /// clients send a CRLF after a body).
    private static func skipEmptyLines(_ input: inout ByteBuffer) {
        while let byte = input.getInteger(at: input.readerIndex, as: UInt8.self), byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n") {
            input.moveReaderIndex(forwardBy: 1)
        }
    }
}

/// The framer in a channel pipeline: bytes in, `HTTPRequestFramer.Part`s out.
public struct HTTPRequestPartDecoder: ByteToMessageDecoder {
    public typealias InboundOut = HTTPRequestFramer.Part

    private var framer = HTTPRequestFramer()

    public init() {}

    /// Everything the bytes complete goes out at once: an `.end` needs no bytes of its own,
    /// and the handler calls again only when more arrive.
    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        while let part = try framer.read(&buffer) {
            context.fireChannelRead(wrapInboundOut(part))
        }
        return .needMoreData
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A connection that ends mid-request is simply gone; there is no one to answer.
        try decode(context: context, buffer: &buffer)
    }
}
