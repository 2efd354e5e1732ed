import NIOCore

/// Reads one message body as its bytes arrive, for requests and responses alike: a fixed
/// length, or chunked (RFC 9112 §7.1) with the coding taken off. Payload comes out as
/// views into the input; chunk extensions and trailers are skipped (up to
/// `maxMetadataBytes` of them), and malformed chunk framing is `Malformed`.
struct HTTPBodyReader {
    static let maxMetadataBytes = 16 * 1024

    enum Event {
        case payload(ByteBuffer)
        case end
    }

    struct Malformed: Error {}

    private enum State {
        case fixed(remaining: Int)
        case size(value: Int, digits: Int)
        case sizeExtension(value: Int)
        case sizeLF(value: Int)
        case data(remaining: Int)
        case dataEnd(sawCR: Bool)
        case trailer(lineLength: Int)
        case ended
    }

    private var state: State
    private var metadataBytes = 0

    /// A body of `length` bytes.
    init(length: Int) {
        state = .fixed(remaining: length)
    }

    /// A chunked body.
    init() {
        state = .size(value: 0, digits: 0)
    }

    /// The next event from `input`, consuming what it used; nil once `input` is used up.
    mutating func read(_ input: inout ByteBuffer) throws(Malformed) -> Event? {
        while true {
            switch state {
            case .ended:
                return nil
            case .fixed(0):
                state = .ended
                return .end
            case .fixed(let remaining):
                guard input.readableBytes > 0 else { return nil }
                let take = min(remaining, input.readableBytes)
                state = .fixed(remaining: remaining - take)
                return .payload(input.readSlice(length: take)!)
            case .data(let remaining):
                guard input.readableBytes > 0 else { return nil }
                let take = min(remaining, input.readableBytes)
                let payload = input.readSlice(length: take)!
                state = take == remaining ? .dataEnd(sawCR: false) : .data(remaining: remaining - take)
                return .payload(payload)
            default:
                guard let byte = input.readInteger(as: UInt8.self) else { return nil }
                if try advance(byte) { return .end }
            }
        }
    }

    /// Steps the framing by one byte; true when the body has ended.
    private mutating func advance(_ byte: UInt8) throws(Malformed) -> Bool {
        switch state {
        case .size(let value, let digits):
            if let digit = Self.hexValue(byte) {
                guard digits < 15 else { throw Malformed() }
                state = .size(value: value << 4 | digit, digits: digits + 1)
            } else if digits > 0 && (byte == UInt8(ascii: ";") || byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")) {
                state = .sizeExtension(value: value)
            } else if digits > 0 && byte == UInt8(ascii: "\r") {
                state = .sizeLF(value: value)
            } else if digits > 0 && byte == UInt8(ascii: "\n") {
                startChunk(value)
            } else {
                throw Malformed()
            }
        case .sizeExtension(let value):
            try countMetadata()
            if byte == UInt8(ascii: "\n") { startChunk(value) }
        case .sizeLF(let value):
            guard byte == UInt8(ascii: "\n") else { throw Malformed() }
            startChunk(value)
        case .dataEnd(let sawCR):
            if byte == UInt8(ascii: "\r") && !sawCR {
                state = .dataEnd(sawCR: true)
            } else if byte == UInt8(ascii: "\n") {
                state = .size(value: 0, digits: 0)
            } else {
                throw Malformed()
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
        case .fixed, .data, .ended:
            preconditionFailure("not reading framing bytes")
        }
        return false
    }

    private mutating func startChunk(_ size: Int) {
        state = size == 0 ? .trailer(lineLength: 0) : .data(remaining: size)
    }

    private mutating func countMetadata() throws(Malformed) {
        metadataBytes += 1
        guard metadataBytes <= Self.maxMetadataBytes else { throw Malformed() }
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
