/// Reads the usage out of a response body while the proxy forwards it, one chunk at a
/// time, without ever holding more than a bounded amount of it.
///
/// Taps are values: the proxy feeds each chunk exactly as it arrived (any boundary, even
/// inside a line ending) and calls `finish()` once the response ends or the client goes
/// away. They never throw and never trap on what a provider (or a corrupted connection)
/// sends; anything odd becomes a problem label in the result.
public protocol UsageTap: Sendable {
    mutating func consume(_ bytes: some Collection<UInt8>)
    mutating func finish() -> TapResult
}

/// What a tap learned from one response.
public struct TapResult: Equatable, Sendable {
    /// The usage the provider reported; nil if the response never reported any.
    public var usage: ExtractedUsage?
    /// Unicode scalars of generated text seen (content, refusals, tool-call arguments,
    /// thinking), for estimating output when `usage` is nil.
    public var outputCharacters: Int
    /// Distinct `TapProblem` labels, in the order first seen, for metrics.
    public var problems: [String]

    public init(usage: ExtractedUsage? = nil, outputCharacters: Int = 0, problems: [String] = []) {
        self.usage = usage
        self.outputCharacters = outputCharacters
        self.problems = problems
    }

    /// Output tokens estimated from the generated text seen, for when `usage` is nil.
    public var estimatedOutputTokens: Int64 { estimatedTokens(characters: outputCharacters) }
}

/// Why a tap's result may be incomplete or wrong. The raw values are the metric labels.
public enum TapProblem: String, Sendable, CaseIterable {
    /// An event or array element that is not the JSON the format promises.
    case malformedEvent = "malformed_event"
    /// An event or element over the size bound, dropped unread.
    case oversizedEvent = "oversized_event"
    /// Bytes that are not UTF-8; they were decoded lossily.
    case invalidUTF8 = "invalid_utf8"
    /// A negative or absurd token count; that report was ignored.
    case implausibleUsage = "implausible_usage"
    /// The stream ended before the event that closes it (client gone, connection cut):
    /// any usage is what had been reported so far.
    case truncatedStream = "truncated_stream"
    /// The provider reported an error inside the stream.
    case providerError = "provider_error"
    /// A buffered body over the bound; it was not parsed.
    case responseTooLarge = "response_too_large"
    /// A buffered body that is not JSON.
    case malformedJSON = "malformed_json"
    /// A buffered JSON body without a usage object (error bodies, for one).
    case noUsage = "no_usage"
}

/// Problem labels without repeats: a stream with a thousand bad events is one label.
struct TapProblems: Sendable {
    private(set) var labels: [String] = []

    mutating func record(_ problem: TapProblem) {
        record(label: problem.rawValue)
    }

    mutating func record(_ error: UsageExtractionError) {
        record(label: error.reason)
    }

    private mutating func record(label: String) {
        if !labels.contains(label) { labels.append(label) }
    }
}
