import Foundation

/// `POST /v1/completions`: the legacy text-completion API (`gpt-3.5-turbo-instruct`).
///
/// It differs from chat in ways a meter can trip on: `max_tokens` defaults to 16, so
/// most answers end with `length`, and usage has no detail objects.
struct CompletionsEndpoint {
    let ledger: LedgerRecorder
    let now: () -> Date

    /// The API's own default when the request sets no `max_tokens`.
    static let defaultMaxTokens = 16

    struct Request: Decodable {
        var model: String?
        var prompt: PromptInput?
        var maxTokens: Int?
        var stream: Bool?
        enum CodingKeys: String, CodingKey {
            case model, prompt, stream
            case maxTokens = "max_tokens"
        }
    }

    func respond(to request: MockHTTPRequest) -> MockHTTPResponse {
        guard let apiKey = request.bearerKey else { return ledger.refuse(OpenAIError.missingKey) }
        return ledger.settle(answer(request, apiKey: apiKey))
    }

    private func answer(_ request: MockHTTPRequest, apiKey: String) -> Result<MockHTTPResponse, OpenAIError> {
        if let forced = request.forcedStatus { return .failure(.simulated(status: forced)) }
        guard let body = try? JSONDecoder().decode(Request.self, from: Data(request.body)) else { return .failure(.malformedJSON) }
        guard let requestedModel = body.model, !requestedModel.isEmpty else {
            return .failure(.invalidRequest("you must provide a model parameter"))
        }
        if body.stream == true {
            return .failure(.invalidRequest("the mock does not stream legacy completions; use /v1/chat/completions", param: "stream"))
        }

        let model = ModelSnapshots.responseModel(forRequested: requestedModel)
        let bodyHash = StableHash.fnv1a(request.body)
        let prompt = max(1, (body.prompt?.tokenCounts ?? [1]).reduce(0, +))
        let usage = SimulatedUsage(promptTokens: prompt, outputLimit: body.maxTokens ?? Self.defaultMaxTokens,
                                   model: model, bodyHash: bodyHash, caches: false)
        let json = OrderedJSON.object([
            ("id", .string(RandomID.openAICompletion(prefix: "cmpl-"))),
            ("object", .string("text_completion")),
            ("created", .int(Int(now().timeIntervalSince1970))),
            ("model", .string(model)),
            ("choices", .array([.object([
                ("text", .string(" " + FillerText.reply(tokens: usage.visibleTokens, seed: bodyHash))),
                ("index", .int(0)),
                ("logprobs", .null),
                ("finish_reason", .string(usage.hitLimit ? "length" : "stop")),
            ])])),
            ("usage", .object([
                ("prompt_tokens", .int(usage.promptTokens)),
                ("completion_tokens", .int(usage.completionTokens)),
                ("total_tokens", .int(usage.promptTokens + usage.completionTokens)),
            ])),
        ])
        ledger.record(BilledRequest(provider: .openai, apiKey: apiKey, model: model, tokens: usage.tokens))
        return .success(.json(json.serialized, headers: ChatCompletionsEndpoint.headers(bodyHash: bodyHash)))
    }
}
