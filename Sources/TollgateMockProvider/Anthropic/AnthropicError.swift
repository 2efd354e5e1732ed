/// An error in Anthropic's shape: `{"type":"error","error":{"type","message"},"request_id"}`.
///
/// The SDKs map `error.type` (with the status) to their exception classes, and retry on
/// `rate_limit_error` and `overloaded_error`, so the type must match the status.
struct AnthropicError: ProviderError {
    var status: Int
    var type: String
    var message: String

    var body: String {
        OrderedJSON.object([
            ("type", .string("error")),
            ("error", .object([("type", .string(type)), ("message", .string(message))])),
            ("request_id", .string(RandomID.anthropicRequest())),
        ]).serialized
    }

    static func invalidRequest(_ message: String) -> AnthropicError {
        AnthropicError(status: 400, type: "invalid_request_error", message: message)
    }

    static let missingKey = AnthropicError(status: 401, type: "authentication_error", message: "x-api-key header is required")
    static let missingVersion = invalidRequest("anthropic-version: header is required")
    static let malformedJSON = invalidRequest("There was an issue with the JSON body of your request. Please check the JSON syntax and try again.")
    static let bodyTooLarge = AnthropicError(status: 413, type: "request_too_large", message: "Request exceeds the maximum allowed number of bytes.")

    static func notFound(path: String) -> AnthropicError {
        AnthropicError(status: 404, type: "not_found_error", message: "Not Found (\(path))")
    }

    /// The error Anthropic sends for a given status, for `X-Mock-Status`.
    static func simulated(status: Int) -> AnthropicError {
        let type = switch status {
        case 400: "invalid_request_error"
        case 401: "authentication_error"
        case 402: "billing_error"
        case 403: "permission_error"
        case 404: "not_found_error"
        case 413: "request_too_large"
        case 429: "rate_limit_error"
        case 504: "timeout_error"
        case 529: "overloaded_error"
        case 400..<500: "invalid_request_error"
        default: "api_error"
        }
        return AnthropicError(status: status, type: type, message: "Simulated \(type) (X-Mock-Status: \(status)).")
    }
}
