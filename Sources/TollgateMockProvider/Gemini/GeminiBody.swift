/// A `GenerateContentResponse`, and the same answer as the chunks of
/// `streamGenerateContent`: as SSE (`alt=sse`) or as one streamed JSON array.
///
/// Every chunk carries `usageMetadata` with the full prompt count and a running
/// `candidatesTokenCount`; the last chunk's numbers are the final ones, so a meter that
/// sums chunks over-counts.
struct GeminiBody {
    var modelVersion: String
    var responseID: String
    var text: String
    var usage: GeminiUsage

    /// Whole responses are pretty-printed, as Google's front end sends them.
    var serialized: String { chunk(text: text, candidatesSoFar: usage.candidates, final: true).serialized(.indented) + "\n" }

    /// `data: {chunk}` events, each ending with `\r\n\r\n` as Google's do.
    var sseEvents: [String] {
        chunks.map { "data: " + $0.serialized(.spaced) + "\r\n\r\n" }
    }

    /// `[{…}\r\n,{…}\r\n]`, one element per piece so that each can be flushed on its own.
    var arrayPieces: [String] {
        chunks.enumerated().map { index, chunk in (index == 0 ? "[" : ",") + chunk.serialized(.indented) + "\r\n" } + ["]"]
    }

    private var chunks: [OrderedJSON] {
        let pieces = FillerText.pieces(of: text, wordsPerPiece: 10)
        guard !pieces.isEmpty else { return [chunk(text: "", candidatesSoFar: usage.candidates, final: true)] }
        // The filler writes one word per token, so the words sent so far are the running count.
        var words = 0
        return pieces.enumerated().map { index, piece in
            words += piece.split(separator: " ").count
            let final = index == pieces.count - 1
            return chunk(text: piece, candidatesSoFar: final ? usage.candidates : min(words, usage.candidates), final: final)
        }
    }

    private func chunk(text: String, candidatesSoFar: Int, final: Bool) -> OrderedJSON {
        let candidate = OrderedJSON.compacting([
            ("content", .object([("parts", .array([.object([("text", .string(text))])])), ("role", .string("model"))])),
            ("finishReason", final ? .string(usage.hitLimit ? "MAX_TOKENS" : "STOP") : nil),
            ("index", .int(0)),
        ])
        return .object([
            ("candidates", .array([candidate])),
            ("usageMetadata", usage.json(candidatesSoFar: candidatesSoFar)),
            ("modelVersion", .string(modelVersion)),
            ("responseId", .string(responseID)),
        ])
    }
}
