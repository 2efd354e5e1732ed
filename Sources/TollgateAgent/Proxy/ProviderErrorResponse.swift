import Foundation
import NIOCore
import NIOHTTP1
import TollgateProviders

/// An error the agent itself answers with, in the shape of the provider the client was
/// talking to, so every SDK surfaces it as that provider's own API error:
/// - OpenAI: `{"error":{"message","type","param","code"}}`
/// - Anthropic: `{"type":"error","error":{"type","message"}}`
/// - Gemini: `{"error":{"code","message","status"}}`
struct ProviderErrorResponse {
    var status: HTTPResponseStatus
    var code: String
    var message: String
    /// Whose shape to use; OpenAI's when the request was not for a known provider.
    var provider: Provider?
    /// Sent besides content-type and content-length (e.g. `retry-after`).
    var headers: [(String, String)] = []

    func body(allocator: ByteBufferAllocator) -> ByteBuffer {
        let object: [String: Any] = switch provider ?? .openai {
        case .openai:
            ["error": ["message": message, "type": openAIType, "param": NSNull(), "code": code]]
        case .anthropic:
            ["type": "error", "error": ["type": anthropicType, "message": message]]
        case .gemini:
            ["error": ["code": Int(status.code), "message": message, "status": googleStatus]]
        }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return allocator.buffer(bytes: data)
    }

    private var openAIType: String {
        switch status.code {
        case 429: "insufficient_quota"
        default: "tollgate_error"
        }
    }

    /// Anthropic's documented error types by status.
    private var anthropicType: String {
        switch status.code {
        case 400, 413: status.code == 413 ? "request_too_large" : "invalid_request_error"
        case 403: "permission_error"
        case 404: "not_found_error"
        case 429: "rate_limit_error"
        case 504: "timeout_error"
        default: status.code >= 500 ? "api_error" : "invalid_request_error"
        }
    }

    /// Google's canonical status names by HTTP status.
    private var googleStatus: String {
        switch status.code {
        case 400, 413: "INVALID_ARGUMENT"
        case 403: "PERMISSION_DENIED"
        case 404: "NOT_FOUND"
        case 429: "RESOURCE_EXHAUSTED"
        case 504: "DEADLINE_EXCEEDED"
        default: status.code >= 500 ? "UNAVAILABLE" : "FAILED_PRECONDITION"
        }
    }
}
