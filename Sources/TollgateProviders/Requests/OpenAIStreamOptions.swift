import Foundation

/// Makes OpenAI streams report their usage.
///
/// A Chat Completions (or legacy Completions) stream reports usage only when the request
/// sets `stream_options.include_usage: true`; without it the call is billed and the meter
/// never learns for how much. The agent adds the option. The only visible change for the
/// client is one extra chunk with `choices: []` before `[DONE]`, which the official SDKs
/// handle.
public enum OpenAIStreamOptions {
    /// The body with `stream_options.include_usage: true`, or nil when it needs no change
    /// (not streaming, already asking) or is not a JSON object.
    ///
    /// The body is not re-serialised when avoidable: without a top-level `stream_options`
    /// key, `"stream_options":{"include_usage":true},` is inserted right after the
    /// opening `{`, so every other byte (a `0.7` temperature, key order, escapes) reaches
    /// the provider as the client wrote it. Only a body that already has `stream_options`
    /// without `include_usage: true` goes through `JSONSerialization`.
    public static func requestingUsage(in body: Data) -> Data? {
        guard let fields = JSONValue(parsing: body)?.object, fields["stream"]?.bool == true else { return nil }
        // A `"stream_options": null` is still a key: inserting a second one would leave
        // which one wins to the provider's parser.
        guard let streamOptions = fields["stream_options"] else {
            guard let brace = body.firstIndex(where: { !isJSONWhitespace($0) }), body[brace] == UInt8(ascii: "{") else { return nil }
            var rewritten = Data(body[..<body.index(after: brace)])
            rewritten.append(contentsOf: #""stream_options":{"include_usage":true},"#.utf8)
            rewritten.append(contentsOf: body[body.index(after: brace)...])
            return rewritten
        }
        if streamOptions.object?["include_usage"]?.bool == true { return nil }
        guard var object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else { return nil }
        var options = object["stream_options"] as? [String: Any] ?? [:]
        options["include_usage"] = true
        object["stream_options"] = options
        return try? JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes])
    }

    private static func isJSONWhitespace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\t")
    }
}
