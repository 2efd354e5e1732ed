/// A non-streaming `chat.completion` object, field for field as OpenAI sends it.
struct ChatCompletionBody {
    var id: String
    var created: Int
    var model: String
    var content: String
    var usage: SimulatedUsage

    /// `length` when the output was cut at the caller's limit, as OpenAI reports it.
    var finishReason: String { usage.hitLimit ? "length" : "stop" }

    /// Fingerprints identify the backend configuration; one stable value per model is enough.
    var systemFingerprint: String {
        let hex = String(StableHash.fnv1a(model), radix: 16)
        return "fp_" + String((String(repeating: "0", count: 16) + hex).suffix(10))
    }

    var serialized: String {
        OrderedJSON.object([
            ("id", .string(id)),
            ("object", .string("chat.completion")),
            ("created", .int(created)),
            ("model", .string(model)),
            ("choices", .array([
                .object([
                    ("index", .int(0)),
                    ("message", .object([
                        ("role", .string("assistant")),
                        ("content", .string(content)),
                        ("refusal", .null),
                        ("annotations", .array([])),
                    ])),
                    ("logprobs", .null),
                    ("finish_reason", .string(finishReason)),
                ]),
            ])),
            ("usage", .object([
                ("prompt_tokens", .int(usage.promptTokens)),
                ("completion_tokens", .int(usage.completionTokens)),
                ("total_tokens", .int(usage.promptTokens + usage.completionTokens)),
                ("prompt_tokens_details", .object([
                    ("cached_tokens", .int(usage.cachedTokens)),
                    ("audio_tokens", .int(0)),
                ])),
                ("completion_tokens_details", .object([
                    ("reasoning_tokens", .int(usage.reasoningTokens)),
                    ("audio_tokens", .int(0)),
                    ("accepted_prediction_tokens", .int(0)),
                    ("rejected_prediction_tokens", .int(0)),
                ])),
            ])),
            ("service_tier", .string("default")),
            ("system_fingerprint", .string(systemFingerprint)),
        ]).serialized
    }
}
