/// An error in Google's shape: `{"error":{"code","message","status"}}`, pretty-printed as
/// the Gemini API sends it. `status` is the gRPC code name the SDKs branch on.
struct GeminiError: ProviderError {
    var status: Int
    var message: String
    var grpcStatus: String

    var body: String {
        OrderedJSON.object([
            ("error", .object([("code", .int(status)), ("message", .string(message)), ("status", .string(grpcStatus))])),
        ]).serialized(.indented) + "\n"
    }

    var contentType: String { "application/json; charset=UTF-8" }

    static func invalidArgument(_ message: String) -> GeminiError {
        GeminiError(status: 400, message: message, grpcStatus: "INVALID_ARGUMENT")
    }

    static let missingKey = GeminiError(
        status: 403,
        message: "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
        grpcStatus: "PERMISSION_DENIED"
    )
    static let malformedJSON = invalidArgument("Invalid JSON payload received. Unexpected token.")
    static let missingContents = invalidArgument("* GenerateContentRequest.contents: contents is not specified\n")
    static let bodyTooLarge = GeminiError(status: 413, message: "Request payload size exceeds the limit.", grpcStatus: "INVALID_ARGUMENT")

    static func notFound(path: String) -> GeminiError {
        GeminiError(status: 404, message: "Method not found: \(path)", grpcStatus: "NOT_FOUND")
    }

    /// The error Google sends for a given status, for `X-Mock-Status`.
    static func simulated(status: Int) -> GeminiError {
        let name = switch status {
        case 400: "INVALID_ARGUMENT"
        case 401: "UNAUTHENTICATED"
        case 403: "PERMISSION_DENIED"
        case 404: "NOT_FOUND"
        case 409: "ABORTED"
        case 429: "RESOURCE_EXHAUSTED"
        case 499: "CANCELLED"
        case 501: "UNIMPLEMENTED"
        case 503: "UNAVAILABLE"
        case 504: "DEADLINE_EXCEEDED"
        case 400..<500: "FAILED_PRECONDITION"
        default: "INTERNAL"
        }
        return GeminiError(status: status, message: "Simulated \(name) (X-Mock-Status: \(status)).", grpcStatus: name)
    }
}
