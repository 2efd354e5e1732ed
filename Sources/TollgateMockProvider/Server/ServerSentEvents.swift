import Foundation

/// A minimal reader for `text/event-stream` bodies, as the traffic driver's clients see them.
///
/// Events end with a blank line (`\n\n`, or `\r\n\r\n` as Gemini sends them); `data:`
/// lines of one event are joined with newlines; comments and other fields are ignored.
struct ServerSentEvent: Equatable {
    var event: String?
    var data: String

    static func parse(_ text: String) -> [ServerSentEvent] {
        let normalised = text.replacingOccurrences(of: "\r\n", with: "\n")
        return normalised.components(separatedBy: "\n\n").compactMap { block in
            var event: String?
            var data: [String] = []
            for line in block.split(separator: "\n", omittingEmptySubsequences: true) {
                if line.hasPrefix("event:") {
                    event = line.dropFirst("event:".count).trimmingCharacters(in: .whitespaces)
                } else if line.hasPrefix("data:") {
                    var value = line.dropFirst("data:".count)
                    if value.first == " " { value = value.dropFirst() }
                    data.append(String(value))
                }
            }
            return data.isEmpty ? nil : ServerSentEvent(event: event, data: data.joined(separator: "\n"))
        }
    }
}
