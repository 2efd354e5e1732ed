import NIOHTTP1

/// A fully read request, handed from the channel handler to the router.
struct MockHTTPRequest {
    var method: HTTPMethod
    /// The path without its query string.
    var path: String
    var headers: HTTPHeaders
    var body: [UInt8]

    init(method: HTTPMethod, uri: String, headers: HTTPHeaders, body: [UInt8]) {
        self.method = method
        self.path = Self.path(ofURI: uri)
        self.headers = headers
        self.body = body
    }

    static func path(ofURI uri: String) -> String {
        String(uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
    }
}

/// What the router decided to answer; the handler only frames and writes it.
struct MockHTTPResponse {
    var status: HTTPResponseStatus
    var headers: [(String, String)]
    var body: String

    static func json(_ body: String, status: Int = 200, headers: [(String, String)] = []) -> MockHTTPResponse {
        MockHTTPResponse(
            status: HTTPResponseStatus(statusCode: status),
            headers: [("content-type", "application/json")] + headers,
            body: body
        )
    }

    static func text(_ body: String, status: Int = 200) -> MockHTTPResponse {
        MockHTTPResponse(
            status: HTTPResponseStatus(statusCode: status),
            headers: [("content-type", "text/plain; charset=utf-8")],
            body: body
        )
    }

    static func error(_ error: OpenAIError) -> MockHTTPResponse {
        json(error.body, status: error.status)
    }
}
