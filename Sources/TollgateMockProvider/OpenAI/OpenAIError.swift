/// An error answered in OpenAI's shape: `{"error":{"message","type","param","code"}}`.
///
/// SDKs pick their exception class and retry policy from the status plus this body, so
/// error-path tests are only meaningful if the mock matches it field for field.
struct OpenAIError: ProviderError {
    var status: Int
    var message: String
    var type: String
    var param: String?
    var code: String?

    var body: String {
        OrderedJSON.object([
            ("error", .object([
                ("message", .string(message)),
                ("type", .string(type)),
                ("param", param.map(OrderedJSON.string) ?? .null),
                ("code", code.map(OrderedJSON.string) ?? .null),
            ])),
        ]).serialized
    }

    static func invalidRequest(_ message: String, param: String? = nil, code: String? = nil) -> OpenAIError {
        OpenAIError(status: 400, message: message, type: "invalid_request_error", param: param, code: code)
    }

    static let missingKey = OpenAIError(
        status: 401,
        message: "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        type: "invalid_request_error", param: nil, code: "invalid_api_key"
    )

    static let malformedJSON = invalidRequest(
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)"
    )

    static let bodyTooLarge = OpenAIError(
        status: 413, message: "Request body too large: the mock accepts at most 8 MiB.",
        type: "invalid_request_error", param: nil, code: "request_too_large"
    )

    static func invalidURL(method: String, path: String) -> OpenAIError {
        OpenAIError(status: 404, message: "Invalid URL (\(method) \(path))", type: "invalid_request_error", param: nil, code: nil)
    }

    /// The error OpenAI sends for a given status, used when a test asks for one with `X-Mock-Status`.
    static func simulated(status: Int) -> OpenAIError {
        switch status {
        case 400:
            invalidRequest("Simulated bad request (X-Mock-Status: 400).")
        case 401:
            OpenAIError(status: 401, message: "Incorrect API key provided (X-Mock-Status: 401).",
                        type: "invalid_request_error", param: nil, code: "invalid_api_key")
        case 403:
            OpenAIError(status: 403, message: "You are not allowed to sample from this model (X-Mock-Status: 403).",
                        type: "invalid_request_error", param: nil, code: "model_not_found")
        case 404:
            OpenAIError(status: 404, message: "The model does not exist or you do not have access to it (X-Mock-Status: 404).",
                        type: "invalid_request_error", param: nil, code: "model_not_found")
        case 429:
            OpenAIError(status: 429, message: "Rate limit reached for requests (X-Mock-Status: 429).",
                        type: "requests", param: nil, code: "rate_limit_exceeded")
        case 400..<500:
            invalidRequest("Simulated client error (X-Mock-Status: \(status)).")
        default:
            OpenAIError(status: status, message: "The server had an error while processing your request. Sorry about that! (X-Mock-Status: \(status))",
                        type: "server_error", param: nil, code: nil)
        }
    }
}

/// An error in each provider's own JSON shape, with the status it goes out with.
protocol ProviderError: Error {
    var status: Int { get }
    var body: String { get }
    var contentType: String { get }
}

extension ProviderError {
    var contentType: String { "application/json" }
}

/// Azure OpenAI's own gateway errors (auth, unknown deployment or API version) are shaped
/// `{"error":{"code":"401","message":…}}`: a string code and no type. Errors from the
/// model itself come through in OpenAI's shape.
struct AzureGatewayError: ProviderError {
    var status: Int
    var message: String

    var body: String {
        OrderedJSON.object([("error", .object([("code", .string(String(status))), ("message", .string(message))]))]).serialized
    }

    static let missingKey = AzureGatewayError(
        status: 401,
        message: "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource."
    )

    static let resourceNotFound = AzureGatewayError(status: 404, message: "Resource not found")
}
