import Foundation

/// `POST /v1/messages`: Anthropic's Messages API, whole or streamed.
///
/// The key comes in `x-api-key` or, as the current Python SDK sends it, in
/// `Authorization: Bearer`; `anthropic-version` is required.
struct AnthropicMessagesEndpoint {
    let ledger: LedgerRecorder

    func respond(to request: MockHTTPRequest) -> MockHTTPResponse {
        guard let apiKey = request.credential(header: "x-api-key") ?? request.bearerKey else {
            return ledger.refuse(AnthropicError.missingKey)
        }
        return ledger.settle(answer(request, apiKey: apiKey))
    }

    private func answer(_ request: MockHTTPRequest, apiKey: String) -> Result<MockHTTPResponse, AnthropicError> {
        guard request.credential(header: "anthropic-version") != nil else { return .failure(.missingVersion) }
        if let forced = request.forcedStatus { return .failure(.simulated(status: forced)) }
        guard let body = try? JSONDecoder().decode(AnthropicRequest.self, from: Data(request.body)) else {
            return .failure(.malformedJSON)
        }
        guard let requestedModel = body.model, !requestedModel.isEmpty else { return .failure(.invalidRequest("model: Field required")) }
        guard let maxTokens = body.maxTokens else { return .failure(.invalidRequest("max_tokens: Field required")) }
        guard maxTokens >= 1 else { return .failure(.invalidRequest("max_tokens: Input should be greater than or equal to 1")) }
        guard let messages = body.messages else { return .failure(.invalidRequest("messages: Field required")) }
        guard !messages.isEmpty else { return .failure(.invalidRequest("messages: at least one message is required")) }

        let model = ModelSnapshots.responseModel(forRequested: requestedModel)
        let bodyHash = request.seed ?? StableHash.fnv1a(request.body)
        let usage = AnthropicUsage(request: body, maxTokens: maxTokens, bodyHash: bodyHash)
        let message = AnthropicMessageBody(
            id: RandomID.anthropicMessage(), model: model,
            text: FillerText.reply(tokens: usage.output, seed: bodyHash), usage: usage
        )
        let billed = BilledRequest(provider: .anthropic, apiKey: apiKey, model: model, tokens: usage.tokens)

        let headers = [("request-id", RandomID.anthropicRequest()), ("anthropic-organization-id", "tollgate-mock")]
        if body.stream == true {
            return .success(.stream(message.stream, billing: billed, pause: request.chunkPause, headers: headers))
        }
        ledger.record(billed)
        return .success(.json(message.serialized, headers: headers))
    }
}
