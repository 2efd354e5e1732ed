import TollgateCore
import Foundation

extension ProviderRequest {
    /// Classifies a request to `provider`, or returns nil when it is not a metered call
    /// (model lists, token counting, batches, retrievals, anything but POST).
    ///
    /// Paths are matched on their last components, so a base URL prefix (a proxy mount,
    /// `/v1beta` or `/v1`, Vertex's `/projects/…/publishers/google`) does not matter:
    /// - OpenAI: `…/chat/completions`, `…/responses`, `…/completions`, `…/embeddings`;
    ///   Azure OpenAI `/openai/deployments/{deployment}/…` (the deployment is the model
    ///   unless the body names one).
    /// - Anthropic: `…/messages`, and `…/chat/completions` (its OpenAI-SDK compatibility).
    /// - Gemini: `…/models/{model}:generateContent` and `:streamGenerateContent` (SSE with
    ///   `alt=sse`, a JSON array without), model from the path; and the OpenAI-compatible
    ///   `/v1beta/openai/…` paths.
    ///
    /// An unreadable body still classifies (the provider judges it); only its fields are
    /// missing.
    public static func classify(provider: Provider, method: String, path: String, query: String?, body: Data) -> ProviderRequest? {
        guard method.uppercased() == "POST" else { return nil }
        var path = Substring(path)
        var query: Substring? = query.map { Substring($0) }
        if let mark = path.firstIndex(of: "?") {
            query = query ?? path[path.index(after: mark)...]
            path = path[..<mark]
        }
        let components = path.split(separator: "/").map { component in
            // Foundation's percent decoding is slow, and almost no path needs it.
            component.utf8.contains(UInt8(ascii: "%")) ? (String(component).removingPercentEncoding ?? String(component)) : String(component)
        }
        guard let route = Route(provider: provider, components: components) else { return nil }
        let fields = RequestBodyFields(body)
        return route.request(provider: provider, fields: fields, query: query)
    }
}

/// Where a request goes according to its path, before its body is read.
private struct Route {
    var endpoint: ProviderEndpoint
    /// Gemini names the model in the path.
    var pathModel: String?
    var deployment: String?

    init(endpoint: ProviderEndpoint, pathModel: String? = nil, deployment: String? = nil) {
        self.endpoint = endpoint
        self.pathModel = pathModel
        self.deployment = deployment
    }

    init?(provider: Provider, components: [String]) {
        switch provider {
        case .openai:
            guard let route = Route.openAI(components) else { return nil }
            self = route
        case .anthropic:
            guard let route = components.last == "messages" ? Route(endpoint: .messages) : Route.openAI(components) else { return nil }
            self = route
        case .gemini:
            guard let route = Route.gemini(components) ?? Route.openAI(components) else { return nil }
            self = route
        }
    }

    private static func openAI(_ components: [String]) -> Route? {
        guard let last = components.last else { return nil }
        let endpoint: ProviderEndpoint
        var rest = components.dropLast()
        switch last {
        case "completions" where rest.last == "chat":
            endpoint = .chatCompletions
            rest = rest.dropLast()
        case "completions": endpoint = .completions
        case "responses": endpoint = .responses
        case "embeddings": endpoint = .embeddings
        default: return nil
        }
        // Azure OpenAI: /openai/deployments/{deployment}/chat/completions?api-version=…
        let deployment = rest.count >= 2 && rest[rest.endIndex - 2] == "deployments" ? rest.last : nil
        return Route(endpoint: endpoint, deployment: deployment)
    }

    private static func gemini(_ components: [String]) -> Route? {
        guard let last = components.last, let colon = last.lastIndex(of: ":") else { return nil }
        let endpoint: ProviderEndpoint
        switch last[last.index(after: colon)...] {
        case "generateContent": endpoint = .generateContent
        case "streamGenerateContent": endpoint = .streamGenerateContent
        default: return nil
        }
        let model = String(last[..<colon])
        return Route(endpoint: endpoint, pathModel: model.isEmpty ? nil : model)
    }

    func request(provider: Provider, fields: RequestBodyFields?, query: Substring?) -> ProviderRequest {
        var request = ProviderRequest(provider: provider, endpoint: endpoint, deployment: deployment)
        let bodyModel = ReportedModel.name(fields?.model)
        switch endpoint {
        case .generateContent, .streamGenerateContent:
            request.model = pathModel ?? bodyModel
            request.maxOutputTokens = fields?.generationMaxOutputTokens
            if endpoint == .streamGenerateContent {
                request.isStream = true
                request.framing = Route.queryAsksForSSE(query) ? .serverSentEvents : .jsonArray
            }
        case .messages:
            request.model = bodyModel
            request.isStream = fields?.stream == true
            request.maxOutputTokens = fields?.maxTokens
            request.user = fields?.metadataUserID
        case .chatCompletions, .completions, .responses, .embeddings:
            request.model = bodyModel ?? deployment
            request.isStream = endpoint != .embeddings && fields?.stream == true
            request.maxOutputTokens = fields?.maxCompletionTokens ?? fields?.maxOutputTokens ?? fields?.maxTokens
            request.user = fields?.user ?? fields?.safetyIdentifier
            request.includesStreamUsage = fields?.includeUsage == true
        }
        if request.isStream && request.framing == .json { request.framing = .serverSentEvents }
        request.serviceTier = fields?.serviceTier
        return request
    }

    private static func queryAsksForSSE(_ query: Substring?) -> Bool {
        guard let query else { return false }
        return query.split(separator: "&").contains { item in
            let pair = item.split(separator: "=", maxSplits: 1)
            return pair.count == 2 && pair[0] == "alt" && pair[1].lowercased() == "sse"
        }
    }
}

/// The request body fields any provider's classification reads; each is read only if it
/// has the expected shape, so an unexpected one loses that field only. Every request
/// passes through here, so it is read with `JSONValue`: one pass over a prompt of any size.
struct RequestBodyFields {
    var model: String?
    var stream: Bool?
    var user: String?
    var safetyIdentifier: String?
    var maxTokens: Int64?
    var maxCompletionTokens: Int64?
    var maxOutputTokens: Int64?
    var includeUsage: Bool?
    var metadataUserID: String?
    var generationMaxOutputTokens: Int64?
    var serviceTier: ServiceTier?

    private static let keys = JSONKeys(["model", "stream", "user", "safety_identifier", "max_tokens", "max_completion_tokens",
                                        "max_output_tokens", "stream_options", "metadata", "generationConfig", "service_tier"])

    /// Nil when the body is not a JSON object.
    init?(_ body: some Collection<UInt8>) {
        guard let fields = JSONValue(parsing: body)?.object else { return nil }
        fields.read(Self.keys) { index, value in
            switch index {
            case 0: model = value.string
            case 1: stream = value.bool
            case 2: user = value.string
            case 3: safetyIdentifier = value.string
            case 4: maxTokens = value.int64
            case 5: maxCompletionTokens = value.int64
            case 6: maxOutputTokens = value.int64
            case 7: includeUsage = value.object?["include_usage"]?.bool
            case 8: metadataUserID = value.object?["user_id"]?.string
            case 9: generationMaxOutputTokens = value.object?["maxOutputTokens"]?.int64
            default: serviceTier = value.serviceTier
            }
        }
    }
}
