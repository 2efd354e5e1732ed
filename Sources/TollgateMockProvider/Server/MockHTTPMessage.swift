import Foundation
import NIOCore
import NIOHTTP1

/// A fully read request, handed from the channel handler to the router.
struct MockHTTPRequest {
    var method: HTTPMethod
    /// The path without its query string.
    var path: String
    /// Query parameters, percent-decoded; the last value wins when a name repeats.
    var query: [String: String]
    var headers: HTTPHeaders
    var body: [UInt8]

    init(method: HTTPMethod, uri: String, headers: HTTPHeaders, body: [UInt8]) {
        self.method = method
        self.path = Self.path(ofURI: uri)
        self.query = Self.query(ofURI: uri)
        self.headers = headers
        self.body = body
    }

    static func path(ofURI uri: String) -> String {
        String(uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
    }

    static func query(ofURI uri: String) -> [String: String] {
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return [:] }
        var result: [String: String] = [:]
        for pair in parts[1].split(separator: "&") {
            let nameAndValue = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (text: Substring) in
                String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(text)
            }
            result[decode(nameAndValue[0])] = nameAndValue.count == 2 ? decode(nameAndValue[1]) : ""
        }
        return result
    }

    /// The status a test asked for with `X-Mock-Status: 503`; only 4xx and 5xx are honoured.
    var forcedStatus: Int? {
        headers.first(name: "x-mock-status").flatMap(Int.init).flatMap { (400...599).contains($0) ? $0 : nil }
    }

    /// The pause between streamed events a test asked for with `X-Mock-Chunk-Delay-Ms`
    /// (default 0, capped at 10 s so a typo cannot hang a test run).
    var chunkPause: TimeAmount {
        let milliseconds = headers.first(name: "x-mock-chunk-delay-ms").flatMap(Int.init) ?? 0
        return .milliseconds(Int64(min(max(0, milliseconds), 10_000)))
    }

    /// The seed a test fixed with `X-Mock-Seed: 42` in place of the body's hash, so that two
    /// bodies that differ (one with `stream_options`, one without) get the same answer.
    var seed: UInt64? {
        headers.first(name: "x-mock-seed").flatMap { UInt64($0) }
    }

    /// `Authorization: Bearer KEY`, the scheme OpenAI uses and Anthropic also accepts.
    var bearerKey: String? {
        guard let header = headers.first(name: "authorization") else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return Self.nonEmpty(String(parts[1]))
    }

    /// A header's value, trimmed, or nil when absent or blank.
    func credential(header name: String) -> String? {
        headers.first(name: name).flatMap(Self.nonEmpty)
    }

    private static func nonEmpty(_ text: String) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty ? nil : trimmed
    }
}

/// What the router decided to answer; the handler only frames and writes it.
struct MockHTTPResponse {
    var status: HTTPResponseStatus
    var headers: [(String, String)]
    var body: Body

    enum Body {
        /// Sent whole, with a content-length.
        case complete(String)
        /// Sent with chunked transfer encoding, each piece written and flushed on its own and
        /// `pause` apart, so clients see a real stream rather than one buffered body.
        /// `billing` goes to the ledger once the stream ends or the client leaves, for what
        /// was generated until then.
        case streamed([String], pause: TimeAmount, billing: StreamBilling)
    }

    static func json(_ body: String, status: Int = 200, headers: [(String, String)] = [],
                     contentType: String = "application/json") -> MockHTTPResponse {
        MockHTTPResponse(
            status: HTTPResponseStatus(statusCode: status),
            headers: [("content-type", contentType)] + headers,
            body: .complete(body)
        )
    }

    /// A generated answer, billed as it is sent (`StreamBilling`).
    static func stream(_ stream: GeneratedStream, billing request: BilledRequest, pause: TimeAmount, headers: [(String, String)] = [],
                       contentType: String = "text/event-stream; charset=utf-8") -> MockHTTPResponse {
        MockHTTPResponse(
            status: .ok,
            headers: [("content-type", contentType), ("cache-control", "no-cache")] + headers,
            body: .streamed(stream.events, pause: pause, billing: StreamBilling(request, stream: stream))
        )
    }

    static func text(_ body: String, status: Int = 200) -> MockHTTPResponse {
        MockHTTPResponse(
            status: HTTPResponseStatus(statusCode: status),
            headers: [("content-type", "text/plain; charset=utf-8")],
            body: .complete(body)
        )
    }

    static func error(_ error: some ProviderError) -> MockHTTPResponse {
        json(error.body, status: error.status, contentType: error.contentType)
    }
}
