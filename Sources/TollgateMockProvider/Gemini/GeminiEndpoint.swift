import Foundation

/// `POST /v1beta/models/{model}:generateContent` (and `/v1/…`, which google-genai now
/// defaults to) plus `:streamGenerateContent`, as SSE with `?alt=sse` or otherwise as a
/// streamed JSON array. The key comes in `x-goog-api-key` or `?key=`.
struct GeminiEndpoint {
    let ledger: LedgerRecorder

    enum Method: String {
        case generateContent, streamGenerateContent
    }

    func respond(to request: MockHTTPRequest, model: String, method: Method) -> MockHTTPResponse {
        guard let apiKey = request.credential(header: "x-goog-api-key") ?? request.query["key"].flatMap({ $0.isEmpty ? nil : $0 }) else {
            return ledger.refuse(GeminiError.missingKey)
        }
        return ledger.settle(answer(request, apiKey: apiKey, model: model, method: method))
    }

    private func answer(_ request: MockHTTPRequest, apiKey: String, model: String, method: Method) -> Result<MockHTTPResponse, GeminiError> {
        if let forced = request.forcedStatus { return .failure(.simulated(status: forced)) }
        guard let body = try? JSONDecoder().decode(GeminiRequest.self, from: Data(request.body)) else {
            return .failure(.malformedJSON)
        }
        guard let contents = body.contents, !contents.isEmpty else { return .failure(.missingContents) }

        let modelVersion = ModelSnapshots.responseModel(forRequested: model)
        let bodyHash = request.seed ?? StableHash.fnv1a(request.body)
        let usage = GeminiUsage(request: body, model: modelVersion, bodyHash: bodyHash)
        let response = GeminiBody(
            modelVersion: modelVersion, responseID: RandomID.geminiResponse(),
            text: FillerText.reply(tokens: usage.candidates, seed: bodyHash), usage: usage
        )
        let billed = BilledRequest(provider: .gemini, apiKey: apiKey, model: modelVersion, tokens: usage.tokens)

        let headers = [("server", "scaffolding on HTTPServer2"), ("x-content-type-options", "nosniff")]
        switch method {
        case .generateContent:
            ledger.record(billed)
            return .success(.json(response.serialized, headers: headers, contentType: "application/json; charset=UTF-8"))
        case .streamGenerateContent where request.query["alt"] == "sse":
            return .success(.stream(response.sseStream, billing: billed, pause: request.chunkPause, headers: headers,
                                    contentType: "text/event-stream"))
        case .streamGenerateContent:
            return .success(.stream(response.arrayStream, billing: billed, pause: request.chunkPause, headers: headers,
                                    contentType: "application/json; charset=UTF-8"))
        }
    }
}
