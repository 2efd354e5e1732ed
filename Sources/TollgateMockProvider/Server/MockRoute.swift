import NIOHTTP1

/// Which endpoint a request is for, decided from its method and path alone.
///
/// Paths are the providers' own. The agent's base-URL prefixes (`/openai`, `/anthropic`,
/// `/gemini`, and `/azure`) are also accepted and stripped, so that the traffic driver's
/// agent-style URLs work against the mock directly. Azure's own paths start with
/// `/openai/deployments/…`; the agent's OpenAI route strips that `/openai`, so
/// `/deployments/…` is accepted too.
enum MockRoute: Equatable {
    case chatCompletions
    case responses
    case embeddings
    case completions
    case azureChat(deployment: String)
    case anthropicMessages
    case gemini(model: String, method: GeminiEndpoint.Method)
    case ledger
    case health
    case openAIAdmin(OpenAIAdminEndpoint.Report)
    case anthropicAdmin(AnthropicAdminEndpoint.Report)
    case adminInject
    case adminFault

    static let agentPrefixes = ["/openai", "/anthropic", "/gemini", "/azure"]

    static func resolve(method: HTTPMethod, path: String) -> MockRoute? {
        if let route = match(method: method, path: path) { return route }
        for prefix in agentPrefixes where path.hasPrefix(prefix + "/") {
            return match(method: method, path: String(path.dropFirst(prefix.count)))
        }
        return nil
    }

    /// Requests to these are billed or counted as errors in the ledger.
    var isMetered: Bool {
        switch self {
        case .ledger, .health, .openAIAdmin, .anthropicAdmin, .adminInject, .adminFault: false
        default: true
        }
    }

    private static func match(method: HTTPMethod, path: String) -> MockRoute? {
        if method == .GET {
            switch path {
            case "/_mock/ledger": return .ledger
            case "/healthz": return .health
            case "/v1/organization/usage/completions": return .openAIAdmin(.completions)
            case "/v1/organization/usage/embeddings": return .openAIAdmin(.embeddings)
            case "/v1/organization/costs": return .openAIAdmin(.costs)
            case "/v1/organizations/usage_report/messages": return .anthropicAdmin(.messages)
            case "/v1/organizations/cost_report": return .anthropicAdmin(.costs)
            default: return nil
            }
        }
        guard method == .POST else { return nil }
        switch path {
        case "/v1/chat/completions": return .chatCompletions
        case "/v1/responses": return .responses
        case "/v1/embeddings": return .embeddings
        case "/v1/completions": return .completions
        case "/v1/messages": return .anthropicMessages
        case "/_mock/admin/inject": return .adminInject
        case "/_mock/admin/fault": return .adminFault
        default: break
        }
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
        switch segments.count {
        case 4 where segments[0] == "deployments" && segments[2] == "chat" && segments[3] == "completions":
            return segments[1].isEmpty ? nil : .azureChat(deployment: segments[1])
        case 5 where segments[0] == "openai" && segments[1] == "deployments" && segments[3] == "chat" && segments[4] == "completions":
            return segments[2].isEmpty ? nil : .azureChat(deployment: segments[2])
        case 3 where ["v1", "v1beta"].contains(segments[0]) && segments[1] == "models":
            let nameAndMethod = segments[2].split(separator: ":", maxSplits: 1).map(String.init)
            guard nameAndMethod.count == 2, !nameAndMethod[0].isEmpty,
                  let method = GeminiEndpoint.Method(rawValue: nameAndMethod[1]) else { return nil }
            return .gemini(model: nameAndMethod[0], method: method)
        default:
            return nil
        }
    }
}

/// Whose error shape an answer about `path` should have when no endpoint owns it.
enum ErrorShape {
    case openai, anthropic, gemini

    init(path: String, route: MockRoute?) {
        switch route {
        case .anthropicMessages, .anthropicAdmin: self = .anthropic
        case .gemini: self = .gemini
        case .some: self = .openai
        case nil:
            if path.hasPrefix("/anthropic/") {
                self = .anthropic
            } else if path.hasPrefix("/gemini/") || path.contains("/v1beta/") {
                self = .gemini
            } else {
                self = .openai
            }
        }
    }
}
