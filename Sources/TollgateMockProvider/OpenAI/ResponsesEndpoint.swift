import Foundation

/// `POST /v1/responses`: OpenAI's Responses API, whole or streamed as typed events.
struct ResponsesEndpoint {
    let ledger: LedgerRecorder
    let now: () -> Date

    func respond(to request: MockHTTPRequest) -> MockHTTPResponse {
        guard let apiKey = request.bearerKey else { return ledger.refuse(OpenAIError.missingKey) }
        return ledger.settle(answer(request, apiKey: apiKey))
    }

    private func answer(_ request: MockHTTPRequest, apiKey: String) -> Result<MockHTTPResponse, OpenAIError> {
        if let forced = request.forcedStatus { return .failure(.simulated(status: forced)) }
        let body: ResponsesRequest
        do {
            body = try JSONDecoder().decode(ResponsesRequest.self, from: Data(request.body))
        } catch {
            return .failure(.malformedJSON)
        }
        guard let requestedModel = body.model, !requestedModel.isEmpty else {
            return .failure(.invalidRequest("Missing required parameter: 'model'.", param: "model", code: "missing_required_parameter"))
        }
        if let limit = body.maxOutputTokens, limit < 16 {
            return .failure(.invalidRequest(
                "Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 16, but got \(limit) instead.",
                param: "max_output_tokens", code: "integer_below_min_value"))
        }

        let model = ModelSnapshots.responseModel(forRequested: requestedModel)
        let bodyHash = request.seed ?? StableHash.fnv1a(request.body)
        let usage = SimulatedUsage(promptTokens: body.promptTokens, outputLimit: body.maxOutputTokens, model: model, bodyHash: bodyHash)
        let response = ResponsesBody(
            id: RandomID.openAIResponses(prefix: "resp_"), createdAt: Int(now().timeIntervalSince1970), model: model,
            instructions: body.instructions, maxOutputTokens: body.maxOutputTokens,
            text: FillerText.reply(tokens: usage.visibleTokens, seed: bodyHash), usage: usage
        )
        let billed = BilledRequest(provider: .openai, apiKey: apiKey, model: model, tokens: usage.tokens)

        let headers = ChatCompletionsEndpoint.headers(bodyHash: bodyHash)
        if body.stream == true {
            return .success(.stream(response.stream, billing: billed, pause: request.chunkPause, headers: headers))
        }
        ledger.record(billed)
        return .success(.json(response.serialized, headers: headers))
    }
}
