import Foundation

/// Maps a request to its answer. Pure apart from the ledger, so it can be tested without
/// a socket.
struct MockRouter {
    let ledger: LedgerRecorder
    let completions: ChatCompletionsEndpoint

    init(ledger: LedgerRecorder, now: @escaping () -> Date = Date.init) {
        self.ledger = ledger
        self.completions = ChatCompletionsEndpoint(ledger: ledger, now: now)
    }

    func respond(to request: MockHTTPRequest) -> MockHTTPResponse {
        switch (request.method, request.path) {
        case (.POST, "/v1/chat/completions"):
            return completions.respond(to: request)
        case (.GET, "/_mock/ledger"):
            return .json(Self.ledgerJSON(ledger.snapshot))
        case (.GET, "/healthz"):
            return .text("ok")
        default:
            return .error(.invalidURL(method: request.method.rawValue, path: request.path))
        }
    }

    /// An oversized body is rejected before it is read in full; it still counts as a
    /// failed completion when that is what it was aimed at.
    func respondToOversizedBody(path: String) -> MockHTTPResponse {
        if path == "/v1/chat/completions" { ledger.recordError() }
        return .error(.bodyTooLarge)
    }

    private static func ledgerJSON(_ snapshot: LedgerSnapshot) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(snapshot)) ?? Data("{\"entries\":[],\"errors\":0}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
