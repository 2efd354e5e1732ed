/// A non-streaming `chat.completion` object, field for field as OpenAI sends it, or as
/// Azure OpenAI does (alphabetical keys, content-filter results, the deployment as model).
struct ChatCompletionBody {
    var id: String
    var created: Int
    var model: String
    var content: String
    var usage: SimulatedUsage
    var style: ChatStyle = .openai

    /// `length` when the output was cut at the caller's limit, as OpenAI reports it.
    var finishReason: String { usage.hitLimit ? "length" : "stop" }

    var systemFingerprint: String { ChatStyle.systemFingerprint(model: model) }

    var serialized: String {
        var choice: [(String, OrderedJSON)] = [
            ("index", .int(0)),
            ("message", .object([
                ("role", .string("assistant")),
                ("content", .string(content)),
                ("refusal", .null),
                ("annotations", .array([])),
            ])),
            ("logprobs", .null),
            ("finish_reason", .string(finishReason)),
        ]
        if style == .azure { choice.append(("content_filter_results", AzureContentFilter.completion)) }
        var members: [(String, OrderedJSON)] = [
            ("id", .string(id)),
            ("object", .string("chat.completion")),
            ("created", .int(created)),
            ("model", .string(model)),
            ("choices", .array([.object(choice)])),
            ("usage", usage.chatUsageJSON),
        ]
        switch style {
        case .openai: members.append(("service_tier", .string("default")))
        case .azure: members.append(("prompt_filter_results", AzureContentFilter.prompt))
        }
        members.append(("system_fingerprint", .string(systemFingerprint)))
        return style.finish(.object(members)).serialized
    }
}

/// Which flavour of the Chat Completions wire format to write.
enum ChatStyle {
    case openai
    case azure

    /// Azure's front end re-serialises OpenAI's JSON with sorted keys.
    func finish(_ json: OrderedJSON) -> OrderedJSON {
        self == .azure ? json.sortingKeys : json
    }

    /// Fingerprints identify the backend configuration; one stable value per model is enough.
    static func systemFingerprint(model: String) -> String {
        let hex = String(StableHash.fnv1a(model), radix: 16)
        return "fp_" + String((String(repeating: "0", count: 16) + hex).suffix(10))
    }
}

extension SimulatedUsage {
    /// The Chat Completions usage object, with both detail objects as OpenAI sends them.
    var chatUsageJSON: OrderedJSON {
        .object([
            ("prompt_tokens", .int(promptTokens)),
            ("completion_tokens", .int(completionTokens)),
            ("total_tokens", .int(promptTokens + completionTokens)),
            ("prompt_tokens_details", .object([
                ("cached_tokens", .int(cachedTokens)),
                ("audio_tokens", .int(0)),
            ])),
            ("completion_tokens_details", .object([
                ("reasoning_tokens", .int(reasoningTokens)),
                ("audio_tokens", .int(0)),
                ("accepted_prediction_tokens", .int(0)),
                ("rejected_prediction_tokens", .int(0)),
            ])),
        ])
    }
}

/// Azure's content-safety annotations; the mock's filler text is always "safe".
enum AzureContentFilter {
    private static let safe = OrderedJSON.object([("filtered", .bool(false)), ("severity", .string("safe"))])
    private static let notDetected = OrderedJSON.object([("filtered", .bool(false)), ("detected", .bool(false))])

    static let completion = OrderedJSON.object([
        ("hate", safe), ("protected_material_code", notDetected), ("protected_material_text", notDetected),
        ("self_harm", safe), ("sexual", safe), ("violence", safe),
    ])

    static let prompt = OrderedJSON.array([
        .object([
            ("prompt_index", .int(0)),
            ("content_filter_results", .object([
                ("hate", safe), ("jailbreak", notDetected), ("self_harm", safe), ("sexual", safe), ("violence", safe),
            ])),
        ]),
    ])
}
