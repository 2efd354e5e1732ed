/// Tokens estimated from generated text, for streams that never reported usage (an OpenAI
/// stream without `include_usage`, a client that disconnected before the final event).
///
/// The heuristic is the providers' own rule of thumb: about four characters of English per
/// token (OpenAI's tokenizer guide, Anthropic's and Google's token docs). It overstates
/// code-free prose slightly and understates CJK text, which is nearer one token per
/// character; an estimate is labelled as one wherever it is recorded. Rounds up, so any
/// text at all costs at least a token.
public func estimatedTokens(characters: Int) -> Int64 {
    guard characters > 0 else { return 0 }
    return Int64(characters / 4 + (characters % 4 == 0 ? 0 : 1))
}
