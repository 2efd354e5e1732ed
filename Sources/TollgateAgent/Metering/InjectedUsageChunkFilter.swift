import Foundation

/// Hides what the agent's request for usage changed in an OpenAI stream the client did not
/// ask usage of.
///
/// A streamed chat completion carries usage only if the request sets
/// `stream_options.include_usage`; when the client did not, the agent sets it and must then
/// pass the stream on as the provider would have sent it without the option: the extra
/// `choices: []` chunk is dropped, and the `"usage":null` member the option adds to every
/// other chunk is cut out (the API leaves the key out entirely otherwise), every other byte
/// unchanged. This is the one case where the proxy looks at whole events before forwarding:
/// complete events pass at once, only an event still being received waits for its final line.
struct InjectedUsageChunkFilter {
    /// An event that grows past this without ending is passed through unfiltered.
    static let maxPendingBytes = 1 << 20

    private var pending: [UInt8] = []
    private(set) var droppedUsageChunks = 0
    private(set) var gaveUp = false

    /// Returns the bytes that may go to the client now.
    mutating func filter<Bytes: Collection>(_ bytes: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        if gaveUp { return Array(bytes) }
        pending.append(contentsOf: bytes)
        guard let end = Self.endOfLastCompleteEvent(in: pending) else {
            if pending.count > Self.maxPendingBytes {
                gaveUp = true
                defer { pending = [] }
                return pending
            }
            return []
        }
        let complete = Array(pending[..<end])
        pending.removeFirst(end)
        return dropUsageEvents(complete)
    }

    /// At the end of the stream: whatever is left goes out as it is.
    mutating func finish() -> [UInt8] {
        defer { pending = [] }
        return pending
    }

    private mutating func dropUsageEvents(_ bytes: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var start = 0
        while start < bytes.count {
            let end = Self.endOfFirstEvent(in: bytes, from: start) ?? bytes.count
            let event = bytes[start..<end]
            if Self.isUsageOnlyChunk(event) {
                droppedUsageChunks += 1
            } else {
                Self.appendWithoutNullUsage(event, to: &output)
            }
            start = end
        }
        return output
    }

    /// The usage chunk is `data: {…"choices":[],…"usage":{…}}`.
    static func isUsageOnlyChunk(_ event: ArraySlice<UInt8>) -> Bool {
        // Every event passes here; only the one that names usage is worth decoding.
        guard event.firstRange(of: usageKey) != nil else { return false }
        let text = String(decoding: event, as: UTF8.self)
        guard let dataLine = text.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("data:") }) else { return false }
        let payload = dataLine.dropFirst("data:".count).trimmingCharacters(in: .whitespaces)
        guard let object = try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any],
              let choices = object["choices"] as? [Any], choices.isEmpty, object["usage"] is [String: Any] else { return false }
        return true
    }

    private static let usageKey = Array("\"usage\"".utf8)
    private static let nullUsageMember = Array("\"usage\":null".utf8)

    /// Appends `event` without the top-level `"usage":null` member and the comma that joins
    /// it to its neighbour. Strings are skipped over (a quote inside one is escaped, so the
    /// member cannot be mistaken for text), and only the chunk object's own member goes.
    static func appendWithoutNullUsage(_ event: ArraySlice<UInt8>, to output: inout [UInt8]) {
        guard event.firstRange(of: nullUsageMember) != nil else {
            output.append(contentsOf: event)
            return
        }
        let start = output.count
        var depth = 0
        var inString = false
        var escaped = false
        var index = event.startIndex
        while index < event.endIndex {
            let byte = event[index]
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
            } else if byte == UInt8(ascii: "\""), depth == 1, event[index...].starts(with: nullUsageMember),
                      let next = event[(index + nullUsageMember.count)...].first, next == UInt8(ascii: ",") || next == UInt8(ascii: "}") {
                // Drop the comma before it if there is one (`…,"usage":null}`), else the one after.
                if let last = output[start...].lastIndex(where: { !isJSONWhitespace($0) }), output[last] == UInt8(ascii: ",") {
                    output.removeSubrange(last...)
                    index += nullUsageMember.count
                } else {
                    index += nullUsageMember.count + (next == UInt8(ascii: ",") ? 1 : 0)
                }
                continue
            } else if byte == UInt8(ascii: "\"") {
                inString = true
            } else if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") {
                depth += 1
            } else if byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") {
                depth -= 1
            }
            output.append(byte)
            index += 1
        }
    }

    private static func isJSONWhitespace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\t")
    }

    /// Events end with a blank line: `\n\n`, `\r\n\r\n` or `\r\r`.
    static func endOfFirstEvent(in bytes: [UInt8], from start: Int) -> Int? {
        var index = start
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\n") || bytes[index] == UInt8(ascii: "\r") {
                let lineEnd = index + (bytes[index] == UInt8(ascii: "\r") && index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "\n") ? 2 : 1)
                if lineEnd < bytes.count, bytes[lineEnd] == UInt8(ascii: "\n") { return lineEnd + 1 }
                if lineEnd < bytes.count, bytes[lineEnd] == UInt8(ascii: "\r") {
                    return lineEnd + (lineEnd + 1 < bytes.count && bytes[lineEnd + 1] == UInt8(ascii: "\n") ? 2 : 1)
                }
                index = lineEnd
            } else {
                index += 1
            }
        }
        return nil
    }

    static func endOfLastCompleteEvent(in bytes: [UInt8]) -> Int? {
        var last: Int?
        var start = 0
        while let end = endOfFirstEvent(in: bytes, from: start) {
            last = end
            start = end
        }
        return last
    }
}
