/// Response and request ids in each provider's format.
///
/// Random, unlike usage: nothing compares them, and real ones never repeat.
enum RandomID {
    static let hex = Array("0123456789abcdef")
    static let base62 = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
    static let base64URL = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_")

    static func token(length: Int, alphabet: [Character]) -> String {
        String((0..<length).map { _ in alphabet.randomElement()! })
    }

    /// `chatcmpl-…` (chat) and `cmpl-…` (legacy completions).
    static func openAICompletion(prefix: String = "chatcmpl-") -> String { prefix + token(length: 29, alphabet: base62) }
    /// `resp_…`, `msg_…`, `rs_…`: the Responses API's 50-hex-digit ids.
    static func openAIResponses(prefix: String) -> String { prefix + token(length: 50, alphabet: hex) }
    static func openAIRequest() -> String { "req_" + token(length: 32, alphabet: hex) }
    static func anthropicMessage() -> String { "msg_01" + token(length: 22, alphabet: base62) }
    static func anthropicRequest() -> String { "req_011C" + token(length: 20, alphabet: base62) }
    static func geminiResponse() -> String { token(length: 23, alphabet: base64URL) }
}
