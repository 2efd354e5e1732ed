/// Deterministic filler for the assistant's reply: about one word per visible token.
enum FillerText {
    private static let words = [
        "the", "meter", "counts", "every", "token", "that", "crosses", "gateway", "and",
        "bills", "it", "to", "a", "team", "budget", "with", "cached", "prompts", "priced",
        "lower", "than", "fresh", "input", "while", "reasoning", "is", "output", "too",
    ]

    static func reply(tokens: Int, seed: UInt64) -> String {
        guard tokens > 0 else { return "" }
        var parts: [String] = []
        parts.reserveCapacity(tokens)
        var state = seed
        for index in 0..<tokens {
            state = StableHash.remix(state, UInt64(index))
            parts.append(words[Int(state % UInt64(words.count))])
        }
        let sentence = parts.joined(separator: " ")
        return sentence.prefix(1).uppercased() + sentence.dropFirst() + "."
    }
}

extension FillerText {
    /// Splits a reply into stream deltas of `wordsPerPiece` words, each after the first
    /// carrying its leading space, so that the deltas concatenate back to `text` exactly.
    static func pieces(of text: String, wordsPerPiece: Int) -> [String] {
        let words = text.split(separator: " ", omittingEmptySubsequences: false)
        guard !text.isEmpty else { return [] }
        let size = max(1, wordsPerPiece)
        return stride(from: 0, to: words.count, by: size).map { start in
            let piece = words[start..<min(start + size, words.count)].joined(separator: " ")
            return start == 0 ? piece : " " + piece
        }
    }
}
