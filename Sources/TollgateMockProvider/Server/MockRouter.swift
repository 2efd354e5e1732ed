import Foundation

/// Maps a request to its answer. Pure apart from the ledger, so it can be tested without
/// a socket.
struct MockRouter {
    let ledger: LedgerRecorder
    let completions: ChatCompletionsEndpoint
    let responses: ResponsesEndpoint
    let embeddings: EmbeddingsEndpoint
    let legacyCompletions: CompletionsEndpoint
    let anthropic: AnthropicMessagesEndpoint
    let gemini: GeminiEndpoint
    let openAIAdmin: OpenAIAdminEndpoint
    let anthropicAdmin: AnthropicAdminEndpoint
    let adminControl: AdminControlEndpoint

    init(ledger: LedgerRecorder, now: @escaping () -> Date = Date.init) {
        self.ledger = ledger
        self.completions = ChatCompletionsEndpoint(ledger: ledger, now: now)
        self.responses = ResponsesEndpoint(ledger: ledger, now: now)
        self.embeddings = EmbeddingsEndpoint(ledger: ledger)
        self.legacyCompletions = CompletionsEndpoint(ledger: ledger, now: now)
        self.anthropic = AnthropicMessagesEndpoint(ledger: ledger)
        self.gemini = GeminiEndpoint(ledger: ledger)
        self.openAIAdmin = OpenAIAdminEndpoint(reports: ledger.reports)
        self.anthropicAdmin = AnthropicAdminEndpoint(reports: ledger.reports)
        self.adminControl = AdminControlEndpoint(reports: ledger.reports)
    }

    func respond(to request: MockHTTPRequest) -> MockHTTPResponse {
        // A real provider must never see Tollgate's attribution headers: the agent strips
        // them. The mock refuses loudly so a leak fails every test that sends them.
        if request.headers.contains(where: { $0.name.lowercased().hasPrefix("x-tollgate-") }) {
            return .json(#"{"error":{"message":"an X-Tollgate-* header reached the provider","type":"invalid_request_error","param":null,"code":"tollgate_header_leaked"}}"#, status: 400)
        }
        return switch MockRoute.resolve(method: request.method, path: request.path) {
        case .chatCompletions: completions.respond(to: request)
        case .azureChat(let deployment): completions.respondAzure(to: request, deployment: deployment)
        case .responses: responses.respond(to: request)
        case .embeddings: embeddings.respond(to: request)
        case .completions: legacyCompletions.respond(to: request)
        case .anthropicMessages: anthropic.respond(to: request)
        case .gemini(let model, let method): gemini.respond(to: request, model: model, method: method)
        case .ledger: .json(Self.ledgerJSON(ledger.snapshot))
        case .health: .text("ok")
        case .openAIAdmin(let report): openAIAdmin.respond(to: request, report: report)
        case .anthropicAdmin(let report): anthropicAdmin.respond(to: request, report: report)
        case .adminInject: adminControl.inject(request)
        case .adminFault: adminControl.fault(request)
        case nil: Self.notFound(method: request.method.rawValue, path: request.path)
        }
    }

    /// An oversized body is rejected before it is read in full; it still counts as a
    /// failed request when it was aimed at a metered endpoint.
    func respondToOversizedBody(path: String) -> MockHTTPResponse {
        let route = MockRoute.resolve(method: .POST, path: path)
        if route?.isMetered == true { ledger.recordError() }
        switch ErrorShape(path: path, route: route) {
        case .openai: return .error(OpenAIError.bodyTooLarge)
        case .anthropic: return .error(AnthropicError.bodyTooLarge)
        case .gemini: return .error(GeminiError.bodyTooLarge)
        }
    }

    private static func notFound(method: String, path: String) -> MockHTTPResponse {
        switch ErrorShape(path: path, route: nil) {
        case .openai: .error(OpenAIError.invalidURL(method: method, path: path))
        case .anthropic: .error(AnthropicError.notFound(path: path))
        case .gemini: .error(GeminiError.notFound(path: path))
        }
    }

    private static func ledgerJSON(_ snapshot: LedgerSnapshot) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(snapshot)) ?? Data("{\"entries\":[],\"errors\":0}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
