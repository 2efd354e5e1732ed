import Foundation
import TollgateCore

/// `POST /v1/embeddings`: one vector per input, usage with `prompt_tokens` and
/// `total_tokens` only (embeddings produce no output tokens).
///
/// Vectors are deterministic noise of the model's width (or `dimensions`), as floats or,
/// when asked for with `encoding_format: base64` as the OpenAI SDKs do by default, as
/// little-endian float32 bytes in base64.
struct EmbeddingsEndpoint {
    let ledger: LedgerRecorder

    struct Request: Decodable {
        var model: String?
        var input: PromptInput?
        var encodingFormat: String?
        var dimensions: Int?
        enum CodingKeys: String, CodingKey {
            case model, input, dimensions
            case encodingFormat = "encoding_format"
        }
    }

    func respond(to request: MockHTTPRequest) -> MockHTTPResponse {
        guard let apiKey = request.bearerKey else { return ledger.refuse(OpenAIError.missingKey) }
        return ledger.settle(answer(request, apiKey: apiKey))
    }

    private func answer(_ request: MockHTTPRequest, apiKey: String) -> Result<MockHTTPResponse, OpenAIError> {
        if let forced = request.forcedStatus { return .failure(.simulated(status: forced)) }
        guard let body = try? JSONDecoder().decode(Request.self, from: Data(request.body)) else { return .failure(.malformedJSON) }
        guard let model = body.model, !model.isEmpty else {
            return .failure(.invalidRequest("you must provide a model parameter"))
        }
        guard let input = body.input, !input.isEmpty else {
            return .failure(.invalidRequest("'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.", param: "input"))
        }
        guard body.encodingFormat == nil || ["float", "base64"].contains(body.encodingFormat!) else {
            return .failure(.invalidRequest("Invalid value for 'encoding_format': expected 'float' or 'base64'.", param: "encoding_format"))
        }

        let promptTokens = input.tokenCounts.reduce(0, +)
        let width = body.dimensions ?? (model.hasSuffix("-large") ? 3072 : 1536)
        let bodyHash = StableHash.fnv1a(request.body)
        let data = input.tokenCounts.indices.map { index in
            OrderedJSON.object([
                ("object", .string("embedding")),
                ("index", .int(index)),
                ("embedding", Self.vector(width: width, seed: StableHash.remix(bodyHash, UInt64(index)), base64: body.encodingFormat == "base64")),
            ])
        }
        let json = OrderedJSON.object([
            ("object", .string("list")),
            ("data", .array(data)),
            ("model", .string(model)),
            ("usage", .object([("prompt_tokens", .int(promptTokens)), ("total_tokens", .int(promptTokens))])),
        ])
        ledger.record(BilledRequest(provider: .openai, apiKey: apiKey, model: model, tokens: TokenUsage(input: Int64(promptTokens))))
        return .success(.json(json.serialized, headers: ChatCompletionsEndpoint.headers(bodyHash: bodyHash)))
    }

    private static func vector(width: Int, seed: UInt64, base64: Bool) -> OrderedJSON {
        let values: [Float] = (0..<max(1, width)).map { index in
            // Centred on zero with a spread like real unit-length vectors (about 1/sqrt(width)).
            let unit = Double(StableHash.remix(seed, UInt64(index)) % 2_000_001) / 1_000_000 - 1
            return Float(unit * 1.7 / Double(max(1, width)).squareRoot())
        }
        guard base64 else { return .array(values.map { .number("\(Double($0))") }) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(values.count * 4)
        for value in values {
            withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
        }
        return .string(Data(bytes).base64EncodedString())
    }
}
