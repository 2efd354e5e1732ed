import Foundation

/// `POST /v1/chat/completions`: checks the request like OpenAI would, answers with
/// simulated usage and records what it billed in the ledger.
///
/// Checks run in OpenAI's order (authentication before the body is even parsed) so a
/// meter sees the same status for the same mistake as against the real API.
struct ChatCompletionsEndpoint {
    let ledger: LedgerRecorder
    let now: () -> Date

    func respond(to request: MockHTTPRequest) -> MockHTTPResponse {
        switch answer(request) {
        case .success(let response):
            return response
        case .failure(let error):
            ledger.recordError()
            return .error(error)
        }
    }

    private func answer(_ request: MockHTTPRequest) -> Result<MockHTTPResponse, OpenAIError> {
        guard let apiKey = bearerKey(request) else { return .failure(.missingKey) }
        if let forced = request.headers.first(name: "x-mock-status").flatMap(Int.init), (400...599).contains(forced) {
            return .failure(.simulated(status: forced))
        }
        let body: ChatCompletionRequest
        do {
            body = try JSONDecoder().decode(ChatCompletionRequest.self, from: Data(request.body))
        } catch {
            return .failure(.malformedJSON)
        }
        guard let requestedModel = body.model, !requestedModel.isEmpty else {
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
        if body.stream == true {
            return .failure(.invalidRequest("streaming not supported by mock yet", param: "stream"))
        }

        let model = ModelSnapshots.responseModel(forRequested: requestedModel)
        let bodyHash = StableHash.fnv1a(request.body)
        let usage = SimulatedUsage(request: body, model: model, bodyHash: bodyHash)
        let completion = ChatCompletionBody(
            id: Self.completionID(),
            created: Int(now().timeIntervalSince1970),
            model: model,
            content: FillerText.reply(tokens: usage.visibleTokens, seed: bodyHash),
            usage: usage
        )
        ledger.recordSuccess(apiKey: apiKey, model: model, usage: usage)
        return .success(.json(completion.serialized, headers: [
            ("x-request-id", "req_" + Self.randomToken(length: 32, alphabet: Self.hex)),
            ("openai-version", "2020-10-01"),
            ("openai-organization", "tollgate-mock"),
            ("openai-processing-ms", String(100 + Int(bodyHash % 900))),
        ]))
    }

    /// Any non-empty bearer token is accepted: the mock meters keys, it does not police them.
    private func bearerKey(_ request: MockHTTPRequest) -> String? {
        guard let header = request.headers.first(name: "authorization") else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let key = parts[1].trimmingCharacters(in: .whitespaces)
        return key.isEmpty ? nil : key
    }

    private static let hex = Array("0123456789abcdef")
    private static let base62 = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

    /// IDs are random, unlike usage: nothing compares them, and real ones never repeat.
    private static func completionID() -> String {
        "chatcmpl-" + randomToken(length: 29, alphabet: base62)
    }

    private static func randomToken(length: Int, alphabet: [Character]) -> String {
        String((0..<length).map { _ in alphabet.randomElement()! })
    }
}
