/// An incremental Server-Sent Events parser (the WHATWG `text/event-stream` format).
///
/// Feed it the bytes of a response as they arrive, in chunks of any size split anywhere
/// (between the CR and LF of a line ending too); it returns each event once the blank
/// line that ends it has arrived. Line endings may be LF, CR or CRLF (Gemini sends CRLF),
/// `:` lines are comments, a leading UTF-8 BOM is skipped, and `id:`/`retry:` are ignored
/// because a meter never reconnects.
///
/// Memory is bounded: an event whose lines exceed `maxEventBytes` is dropped as its bytes
/// arrive and counted in `oversizedEvents`. Text that is not UTF-8 is decoded lossily and
/// counted in `invalidUTF8Events`.
public struct SSEParser: Sendable {
    public static let defaultMaxEventBytes = 4 * 1024 * 1024

    public let maxEventBytes: Int
    /// Events dropped for exceeding `maxEventBytes`.
    public private(set) var oversizedEvents = 0
    /// Events whose name or data was not valid UTF-8.
    public private(set) var invalidUTF8Events = 0

    private enum Start: Sendable {
        /// Still matching a leading byte-order mark; `matched` bytes of it seen.
        case checkingBOM(matched: Int)
        case streaming
    }

    private static let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
    private static let lf = UInt8(ascii: "\n")
    private static let cr = UInt8(ascii: "\r")
    private static let colon = UInt8(ascii: ":")
    private static let space = UInt8(ascii: " ")

    private var start = Start.checkingBOM(matched: 0)
    /// The previous byte was a CR, so an LF now completes that line ending, not a new one.
    private var afterCR = false
    private var line: [UInt8] = []
    private var lineHasBytes = false
    private var eventName: [UInt8]?
    private var data: [UInt8] = []
    private var hasData = false
    private var eventBytes = 0
    /// The current event went over the bound; skip to its blank line.
    private var dropping = false

    public init(maxEventBytes: Int = SSEParser.defaultMaxEventBytes) {
        self.maxEventBytes = maxEventBytes
    }

    /// Parses the next chunk and returns the events it completed.
    public mutating func feed(_ bytes: some Collection<UInt8>) -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        let done: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            feed(buffer, into: &events)
        }
        if done == nil {
            Array(bytes).withUnsafeBufferPointer { feed($0, into: &events) }
        }
        return events
    }

    /// Line endings byte by byte; everything between them as one run, which is what makes
    /// a tap cheap next to the proxying (a stream is mostly long `data:` lines).
    private mutating func feed(_ buffer: UnsafeBufferPointer<UInt8>, into events: inout [ServerSentEvent]) {
        var index = 0
        while index < buffer.count {
            let byte = buffer[index]
            if case .checkingBOM = start {
                step(byte, into: &events)
                index += 1
            } else if byte == Self.lf || byte == Self.cr {
                process(byte, into: &events)
                index += 1
            } else {
                var end = index + 1
                while end < buffer.count, buffer[end] != Self.lf, buffer[end] != Self.cr { end += 1 }
                afterCR = false
                append(UnsafeBufferPointer(rebasing: buffer[index..<end]))
                index = end
            }
        }
    }

    /// Ends the stream. A last event that is complete but for its closing blank line is
    /// still returned: the spec discards it, but a meter would rather read a final usage
    /// event whose connection closed a moment early (a cut inside its JSON fails to
    /// decode downstream anyway).
    public mutating func finish() -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        if case .checkingBOM(let matched) = start {
            start = .streaming
            for byte in Self.bom.prefix(matched) { process(byte, into: &events) }
        }
        if lineHasBytes { endLine(into: &events) }
        if !dropping { dispatch(into: &events) }
        resetEvent()
        dropping = false
        afterCR = false
        return events
    }

    private mutating func step(_ byte: UInt8, into events: inout [ServerSentEvent]) {
        if case .checkingBOM(let matched) = start {
            if byte == Self.bom[matched] {
                start = matched + 1 == Self.bom.count ? .streaming : .checkingBOM(matched: matched + 1)
                return
            }
            start = .streaming
            for earlier in Self.bom.prefix(matched) { process(earlier, into: &events) }
        }
        process(byte, into: &events)
    }

    private mutating func process(_ byte: UInt8, into events: inout [ServerSentEvent]) {
        switch byte {
        case Self.lf:
            if afterCR {
                afterCR = false
            } else {
                endLine(into: &events)
            }
        case Self.cr:
            afterCR = true
            endLine(into: &events)
        default:
            afterCR = false
            append(byte)
        }
    }

    private mutating func append(_ byte: UInt8) {
        withUnsafePointer(to: byte) { append(UnsafeBufferPointer(start: $0, count: 1)) }
    }

    private mutating func append(_ run: UnsafeBufferPointer<UInt8>) {
        eventBytes += run.count
        lineHasBytes = true
        if dropping { return }
        if eventBytes > maxEventBytes {
            dropping = true
            oversizedEvents += 1
            line = []
            data = []
            eventName = nil
            hasData = false
            return
        }
        line.append(contentsOf: run)
    }

    private mutating func endLine(into events: inout [ServerSentEvent]) {
        defer {
            // Keep a small line's storage for the next one, but never pin a huge one.
            if line.count > 64 * 1024 { line = [] } else { line.removeAll(keepingCapacity: true) }
            lineHasBytes = false
        }
        guard lineHasBytes else {
            if dropping { dropping = false } else { dispatch(into: &events) }
            resetEvent()
            return
        }
        if !dropping { processField() }
    }

    private mutating func processField() {
        if line.first == Self.colon { return }
        let colonIndex = line.firstIndex(of: Self.colon)
        let name = line[..<(colonIndex ?? line.endIndex)]
        var value = colonIndex.map { line[($0 + 1)...] } ?? []
        if value.first == Self.space { value = value.dropFirst() }
        if name.elementsEqual("data".utf8) {
            if hasData { data.append(Self.lf) }
            data.append(contentsOf: value)
            hasData = true
        } else if name.elementsEqual("event".utf8) {
            eventName = Array(value)
        }
    }

    private mutating func dispatch(into events: inout [ServerSentEvent]) {
        guard hasData else { return }
        var invalid = false
        let name = eventName.map { Self.text($0, invalid: &invalid) }
        let text = Self.text(data, invalid: &invalid)
        if invalid { invalidUTF8Events += 1 }
        events.append(ServerSentEvent(event: name?.isEmpty == false ? name : nil, data: text))
    }

    private mutating func resetEvent() {
        if data.count > 64 * 1024 { data = [] } else { data.removeAll(keepingCapacity: true) }
        eventName = nil
        hasData = false
        eventBytes = 0
    }

    private static func text(_ bytes: [UInt8], invalid: inout Bool) -> String {
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        invalid = true
        return String(decoding: bytes, as: UTF8.self)
    }
}
