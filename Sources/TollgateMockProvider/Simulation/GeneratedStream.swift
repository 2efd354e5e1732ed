/// A streamed answer as the provider produces it: each event, and how many output tokens
/// had been generated, and so billed, by the time it was sent.
///
/// Real providers bill a stream for what they generated until they noticed the client was
/// gone, not for the answer they would have given. The mock keeps this schedule beside the
/// events so that a stream cut off after `n` events is billed `generatedTokens[n - 1]`
/// output tokens (`StreamBilling`). Hidden output (reasoning, thinking) comes first, as it
/// does before a reasoning model's first visible token; visible text counts one token per
/// filler word.
struct GeneratedStream {
    private(set) var events: [String] = []
    private(set) var generatedTokens: [Int] = []
    /// Output generated so far.
    private(set) var generated: Int

    /// - Parameter hiddenTokens: reasoning generated before the first event.
    init(hiddenTokens: Int = 0) {
        generated = hiddenTokens
    }

    /// An event carrying `words` newly generated filler words (one token each).
    mutating func append(_ event: String, words: Int = 0) {
        generated += words
        events.append(event)
        generatedTokens.append(generated)
    }

    /// From here on the whole answer has been generated (the closing events, with usage).
    mutating func completed(totalOutput: Int) {
        generated = max(generated, totalOutput)
    }

    /// Filler words in a text delta.
    static func words(in piece: String) -> Int {
        piece.split(separator: " ").count
    }
}

/// What a streamed answer bills: all of `request` once every event was sent, or, for a
/// client that left early, the prompt and the output generated until then.
struct StreamBilling: Sendable {
    var request: BilledRequest
    var generatedTokens: [Int]

    init(_ request: BilledRequest, stream: GeneratedStream) {
        self.request = request
        generatedTokens = stream.generatedTokens
    }

    /// The bill once `sent` of the events went out. The prompt was read in full before the
    /// first event; output is what had been generated.
    func billed(afterSending sent: Int) -> BilledRequest {
        guard sent < generatedTokens.count else { return request }
        var partial = request
        let output = min(request.tokens.output, Int64(sent > 0 ? generatedTokens[sent - 1] : 0))
        partial.tokens.output = output
        partial.tokens.reasoning = min(request.tokens.reasoning, output)
        return partial
    }
}
