/// One wire format the traffic driver can speak: which API, and whether it streams.
public enum TrafficFormat: String, CaseIterable, Codable, Hashable, Sendable {
    case openaiChat
    /// Streamed without `stream_options.include_usage`: billed, but the client never sees usage.
    case openaiChatStream
    case openaiChatStreamWithUsage
    case openaiResponses
    case openaiResponsesStream
    case openaiEmbeddings
    case openaiCompletions
    case azureChat
    case anthropicMessages
    case anthropicMessagesStream
    case geminiGenerate
    case geminiStreamSSE
    case geminiStreamArray

    /// Whether the client can read what it was billed from the response.
    public var showsUsage: Bool { self != .openaiChatStream }

    var provider: MockProvider {
        switch self {
        case .azureChat: .azure
        case .anthropicMessages, .anthropicMessagesStream: .anthropic
        case .geminiGenerate, .geminiStreamSSE, .geminiStreamArray: .gemini
        default: .openai
        }
    }

    /// Parses `openaiChat,anthropicMessagesStream` or `all`. Names match case-insensitively
    /// and ignore `-` and `_`, so `openai-chat` works too.
    public static func parseList(_ text: String) throws -> [TrafficFormat] {
        let names = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if names.count == 1, names[0].lowercased() == "all" { return allCases }
        func squash(_ name: String) -> String { name.lowercased().filter { $0 != "-" && $0 != "_" } }
        return try names.map { name in
            guard let format = allCases.first(where: { squash($0.rawValue) == squash(name) }) else {
                throw TrafficError.invalidPlan("unknown format '\(name)'; use all or any of \(allCases.map(\.rawValue).joined(separator: ","))")
            }
            return format
        }
    }
}
