/// Splits a streamed top-level JSON array into its elements as each one closes.
///
/// Gemini's `:streamGenerateContent` without `alt=sse` sends its chunks this way: one
/// JSON array whose elements arrive over time (`[{…}\r\n,\r\n{…}\r\n]`). The splitter
/// tracks nesting depth, strings and escapes, so brackets and quotes inside strings do not
/// confuse it, and hands back each object or array element's bytes; it does not validate
/// them (the decoder does). Scalar elements are not expected and count as unexpected bytes.
///
/// Memory is bounded like `SSEParser`: an element over `maxElementBytes` is skipped as it
/// arrives and counted in `oversizedElements`.
public struct JSONArrayStreamSplitter: Sendable {
    public static let defaultMaxElementBytes = 4 * 1024 * 1024

    public let maxElementBytes: Int
    /// Elements dropped for exceeding `maxElementBytes`.
    public private(set) var oversizedElements = 0
    /// Runs of bytes between elements that a JSON array does not allow there, including
    /// an element before the opening `[` or after the closing `]`.
    public private(set) var unexpectedByteRuns = 0
    /// The opening `[` has arrived.
    public private(set) var isOpen = false
    /// The closing `]` has arrived.
    public private(set) var isClosed = false

    private var depth = 0
    private var inString = false
    private var escaped = false
    private var element: [UInt8] = []
    private var elementBytes = 0
    private var dropping = false
    private var inUnexpectedRun = false

    public init(maxElementBytes: Int = JSONArrayStreamSplitter.defaultMaxElementBytes) {
        self.maxElementBytes = maxElementBytes
    }

    /// The array was opened and closed, with no element left open.
    public var isComplete: Bool { isOpen && isClosed && depth == 0 }

    /// Bytes of an element that had not closed yet.
    public var hasPartialElement: Bool { depth > 0 }

    /// Splits the next chunk and returns the elements it completed.
    public mutating func feed(_ bytes: some Collection<UInt8>) -> [[UInt8]] {
        var elements: [[UInt8]] = []
        let done: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            for byte in buffer { step(byte, into: &elements) }
        }
        if done == nil {
            for byte in bytes { step(byte, into: &elements) }
        }
        return elements
    }

    private mutating func step(_ byte: UInt8, into elements: inout [[UInt8]]) {
        if depth > 0 {
            continueElement(byte, into: &elements)
            return
        }
        switch byte {
        case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
            inUnexpectedRun = false
        case UInt8(ascii: "[") where !isOpen && !isClosed:
            isOpen = true
            inUnexpectedRun = false
        case UInt8(ascii: "]") where isOpen && !isClosed:
            isClosed = true
            inUnexpectedRun = false
        case UInt8(ascii: ",") where isOpen && !isClosed:
            inUnexpectedRun = false
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            // Read an element even where none belongs: resynchronising on the next
            // object is how a meter survives a corrupted separator.
            if !isOpen || isClosed { noteUnexpected() }
            inUnexpectedRun = false
            depth = 1
            elementBytes = 0
            dropping = false
            append(byte)
        default:
            noteUnexpected()
        }
    }

    private mutating func noteUnexpected() {
        if !inUnexpectedRun { unexpectedByteRuns += 1 }
        inUnexpectedRun = true
    }

    private mutating func continueElement(_ byte: UInt8, into elements: inout [[UInt8]]) {
        append(byte)
        if inString {
            if escaped {
                escaped = false
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
            } else if byte == UInt8(ascii: "\"") {
                inString = false
            }
            return
        }
        switch byte {
        case UInt8(ascii: "\""):
            inString = true
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            depth += 1
        case UInt8(ascii: "}"), UInt8(ascii: "]"):
            depth -= 1
            if depth == 0 {
                if !dropping { elements.append(element) }
                element = []
            }
        default:
            break
        }
    }

    private mutating func append(_ byte: UInt8) {
        elementBytes += 1
        if dropping { return }
        if elementBytes > maxElementBytes {
            dropping = true
            oversizedElements += 1
            element = []
            return
        }
        element.append(byte)
    }
}
