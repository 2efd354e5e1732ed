import Foundation

/// `POST /v1/chat/completions` (OpenAI) and `POST /openai/deployments/{d}/chat/completions`
/// (Azure): checks the request like the provider would, answers with simulated usage,
/// whole or streamed, and records what it billed in the ledger.
///
/// Checks run in the provider's order (authentication before the body is even parsed) so
/// a meter sees the same status for the same mistake as against the real API.
struct ChatCompletionsEndpoint {
    let ledger: LedgerRecorder
    let now: () -> Date

    func respond(to request: MockHTTPRequest) -> MockHTTPResponse {
        guard let apiKey = request.bearerKey else { return ledger.refuse(OpenAIError.missingKey) }
        return ledger.settle(complete(request, apiKey: apiKey, style: .openai, modelOverride: nil))
    }

    /// Azure authenticates with `api-key`, insists on `?api-version=` and names the
    /// deployment, not the model, in the path; the response's model is the deployment's
    /// (the mock deploys each model under its own name).
    func respondAzure(to request: MockHTTPRequest, deployment: String) -> MockHTTPResponse {
        guard let apiKey = request.credential(header: "api-key") else { return ledger.refuse(AzureGatewayError.missingKey) }
        guard request.query["api-version"]?.isEmpty == false else { return ledger.refuse(AzureGatewayError.resourceNotFound) }
        return ledger.settle(complete(request, apiKey: apiKey, style: .azure, modelOverride: deployment))
    }

    private func complete(_ request: MockHTTPRequest, apiKey: String, style: ChatStyle,
                          modelOverride: String?) -> Result<MockHTTPResponse, OpenAIError> {
        if let forced = request.forcedStatus { return .failure(.simulated(status: forced)) }
        let body: ChatCompletionRequest
        do {
            body = try JSONDecoder().decode(ChatCompletionRequest.self, from: Data(request.body))
        } catch {
            return .failure(.malformedJSON)
        }
        guard let requestedModel = modelOverride ?? body.model, !requestedModel.isEmpty else {
            return .failure(.invalidRequest("you must provide a model parameter"))
        }
        guard let messages = body.messages else {
            return .failure(.invalidRequest(
                "Missing required parameter: 'messages'.", param: "messages", code: "missing_required_parameter"))
        }
        guard !messages.isEmpty else {
            return .failure(.invalidRequest(
                "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
                param: "messages", code: "empty_array"))
        }
        if body.streamOptions != nil, body.stream != true {
            return .failure(.invalidRequest(
                "The 'stream_options' parameter is only allowed when 'stream' is enabled.", param: "stream_options"))
        }

        let model = modelOverride ?? ModelSnapshots.responseModel(forRequested: requestedModel)
        let bodyHash = request.seed ?? StableHash.fnv1a(request.body)
        let usage = SimulatedUsage(request: body, model: model, bodyHash: bodyHash)
        let id = RandomID.openAICompletion()
        let created = Int(now().timeIntervalSince1970)
        let content = FillerText.reply(tokens: usage.visibleTokens, seed: bodyHash)
        let billed = BilledRequest(provider: style == .azure ? .azure : .openai, apiKey: apiKey, model: model, tokens: usage.tokens)

        let headers = Self.headers(bodyHash: bodyHash)
        if body.stream == true {
            let chunks = ChatCompletionChunks(id: id, created: created, model: model, content: content, usage: usage,
                                              includeUsage: body.streamsUsage, style: style)
            return .success(.stream(chunks.stream, billing: billed, pause: request.chunkPause, headers: headers))
        }
        ledger.record(billed)
        let completion = ChatCompletionBody(id: id, created: created, model: model, content: content, usage: usage, style: style)
        return .success(.json(completion.serialized, headers: headers))
    }

    /// The response headers every OpenAI endpoint sends.
    static func headers(bodyHash: UInt64) -> [(String, String)] {
        [
            ("x-request-id", RandomID.openAIRequest()),
            ("openai-version", "2020-10-01"),
            ("openai-organization", "tollgate-mock"),
            ("openai-processing-ms", String(100 + Int(bodyHash % 900))),
        ]
    }
}
