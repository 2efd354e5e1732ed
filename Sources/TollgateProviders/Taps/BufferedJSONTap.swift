import Foundation

/// Usage of a non-streaming JSON response body: keeps the body (up to a bound) and reads it
/// with the endpoint's extractor when it ends.
///
/// A body over the bound is let through unread (problem `response_too_large`) rather than
/// held: the proxy must never buffer without limit because a provider answered at length.
public struct BufferedJSONTap: UsageTap {
    public static let defaultMaxBodyBytes = 16 * 1024 * 1024

    public let endpoint: ProviderEndpoint
    public let maxBodyBytes: Int
    private var body: [UInt8] = []
    private var tooLarge = false
    private var result: TapResult?

    public init(endpoint: ProviderEndpoint, maxBodyBytes: Int = BufferedJSONTap.defaultMaxBodyBytes) {
        self.endpoint = endpoint
        self.maxBodyBytes = maxBodyBytes
    }

    public mutating func consume(_ bytes: some Collection<UInt8>) {
        guard result == nil, !tooLarge else { return }
        if body.count + bytes.count > maxBodyBytes {
            tooLarge = true
            body = []
        } else {
            body.append(contentsOf: bytes)
        }
    }

    public mutating func finish() -> TapResult {
        if let result { return result }
        var problems = TapProblems()
        var finished = TapResult()
        if tooLarge {
            problems.record(.responseTooLarge)
        } else {
            var reading = endpoint.readBody(body)
            // Repair invalid UTF-8 as the streaming taps do, so one bad byte in generated
            // text costs a label, not the body's usage. The decoder rejects such a body, so
            // only a rejected one needs checking.
            if case .failure(.malformedJSON) = reading.usage, String(validating: body, as: UTF8.self) == nil {
                problems.record(.invalidUTF8)
                reading = endpoint.readBody(Array(String(decoding: body, as: UTF8.self).utf8))
            }
            finished.outputCharacters = reading.outputCharacters
            switch reading.usage {
            case .success(let usage): finished.usage = usage
            case .failure(let error): problems.record(error)
            }
            if case .failure(.malformedJSON) = reading.usage, endpoint != .embeddings {
                // A body cut short (the client left, the connection dropped): the provider
                // generated it whole before sending, and its text cannot be told from the
                // JSON around it, so every byte received counts as text for the estimate.
                finished.outputCharacters = max(finished.outputCharacters, body.count)
            }
        }
        body = []
        finished.problems = problems.labels
        result = finished
        return finished
    }
}

extension ProviderEndpoint {
    /// Reads a whole (non-streaming) response body of this endpoint.
    func readBody(_ body: some Collection<UInt8>) -> BodyReading {
        switch self {
        case .chatCompletions, .completions: OpenAIChoicesBody.read(body)
        case .embeddings: OpenAIEmbeddingsUsage.read(body)
        case .responses: OpenAIResponsesUsage.read(body)
        case .messages: AnthropicMessagesUsage.read(body)
        case .generateContent, .streamGenerateContent: GeminiUsage.read(body)
        }
    }
}
