import Foundation
import TestSupport
import Testing
import TollgateCore
import TollgateMockProvider
import TollgateProviders
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Spend policies end to end (issue #20): set on a real aggregator through its API, pushed
/// to a real agent, applied to real curl requests through both client paths (base URL and
/// `HTTPS_PROXY`) for each provider, JSON and streaming; checked against the mock's ledger
/// (what the provider really served) and the aggregator's usage.
///
/// One cluster serves every case, so the suite adds seconds, not a cluster start per case.
@Suite(.serialized) struct PolicyEnforcementTests {
    /// The aggregator's catalog knows a model this agent's does not: a policy routing to it
    /// passes the aggregator's checks and must be refused by the agent.
    static let aggregatorOnlyModel = "claude-internal-9"

    @Test func policiesRouteRefuseDowngradeAndDryRunOnEveryClientPath() async throws {
        let cluster = try LocalCluster(reportInterval: .seconds(1), aggregatorConfig: { directory, _ in
            let catalog = directory.appendingPathComponent("aggregator-prices.yaml")
            try? """
            models:
              \(Self.aggregatorOnlyModel):
                provider: anthropic
                input: 2
                output: 10
                as_of: 2026-12-06
            """.write(to: catalog, atomically: true, encoding: .utf8)
            return "pricing:\n  catalog: \(catalog.path)"
        })
        defer { cluster.shutdown() }
        try await cluster.start()
        let api = PolicyAPI(cluster: cluster)

        // Autocomplete goes to each provider's economy model; dev may not use the premium ones
        // (except the research team, for a few seconds); o4-mini is only watched.
        try await api.set(id: "autocomplete-claude", kind: "route", scope: "use_case=autocomplete", models: ["claude-*"], target: "claude-haiku-4-5")
        try await api.set(id: "autocomplete-gpt", kind: "route", scope: "use_case=autocomplete", models: ["gpt-4.1"], target: "gpt-4.1-mini")
        try await api.set(id: "autocomplete-gemini", kind: "route", scope: "use_case=autocomplete", models: ["gemini-2.5-pro"],
                          target: "gemini-2.5-flash")
        let exceptionEnds = Int64(Date().timeIntervalSince1970) + 15
        try await api.set(id: "no-premium-in-dev", kind: "deny", scope: "env=dev", models: ["claude-opus-4-5", "gpt-4.1", "gemini-2.5-pro"],
                          owner: "finops@example.com", exceptionPath: "#finops-exceptions",
                          exceptions: [["scope": "team=research", "until_unix": exceptionEnds, "reason": "benchmark run",
                                        "author": "alice", "created_unix": exceptionEnds - 15]])
        try await api.set(id: "watch-o4", kind: "deny", scope: "*", models: ["o4-mini"], mode: "dry_run")
        try await waitForPolicies(cluster, count: 5)
        // The exception: research may use opus in dev until it ends (checked again below, after it ended).
        let research = Call.anthropic(key: "sk-ant-research-0011", model: "claude-opus-4-5", stream: false, proxy: false)
        let during = try research.send(cluster, headers: ["X-Tollgate-Env: dev", "X-Tollgate-Team: research"])
        #expect(during.status == 200, "the exception should still hold: \(during)")

        // Routing: only the model changes, on every provider and both client paths.
        let routed: [Call] = [
            .anthropic(key: "sk-ant-route-json-0001", model: "claude-opus-4-5", stream: false, proxy: false),
            .anthropic(key: "sk-ant-route-sse-0002", model: "claude-sonnet-4-5", stream: true, proxy: true),
            .openAI(key: "sk-route-json-0003", model: "gpt-4.1", stream: false, proxy: true),
            // A stream that did not ask for usage: the agent asks after the rewrite, and hides the answer.
            .openAI(key: "sk-route-sse-0004", model: "gpt-4.1", stream: true, proxy: false),
            .gemini(key: "AIza-route-json-0005", model: "gemini-2.5-pro", stream: false, proxy: false),
            .gemini(key: "AIza-route-sse-0006", model: "gemini-2.5-pro", stream: true, proxy: true),
        ]
        for call in routed {
            let result = try call.send(cluster, headers: ["X-Tollgate-Use-Case: autocomplete"])
            #expect(result.status == 200, "\(call.key): \(result)\n\(cluster.log("agent").suffix(3000))")
            #expect(result.header("x-tollgate-routed-from") == call.model, "\(call.key): \(result.headers)")
            if call.stream { #expect(result.body.contains("data: "), "\(call.key): not a stream: \(result.body.prefix(300))") }
        }
        #expect(!(try routed[3].lastBody).contains(#""usage":{"#), "the client did not ask for stream usage and must not see it")
        let ledger = try await fetchLedger(mockURL: cluster.mockURL)
        let keys = KeyIdentifier(orgSecret: cluster.orgSecret)
        let prices = DefaultPriceCatalog.load()
        let servedByKey = Dictionary(ledger.entries.map { (keys.keyID(for: $0.apiKey), prices.canonicalModel($0.model)) }) { a, _ in a }
        for (call, target) in zip(routed, ["claude-haiku-4-5", "claude-haiku-4-5", "gpt-4.1-mini", "gpt-4.1-mini", "gemini-2.5-flash", "gemini-2.5-flash"]) {
            #expect(servedByKey[keys.keyID(for: call.key)] == target, "\(call.key): the provider served \(servedByKey[keys.keyID(for: call.key)] ?? "nothing")")
        }
        // Usage is exact and priced at the served model (the ledger's), and says what was asked.
        let routedKeys = Set(routed.map { keys.keyID(for: $0.key) })
        let expected = GroundTruth.expected(from: ledger, keys: keys, prices: prices).filter { routedKeys.contains($0.key.keyID) }
        let differences = try await eventually(until: { $0.isEmpty }) {
            let json = try cluster.cli(["usage", "--since", "1h", "--by", "key,model", "--format", "json"])
            return GroundTruth.differences(expected: expected,
                                           actual: try GroundTruth.actual(fromUsageJSON: Data(json.utf8)).filter { routedKeys.contains($0.key.keyID) })
        }
        #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))")
        let pairs = try cluster.cli(["usage", "--since", "1h", "--by", "requested_model,model", "--format", "json"])
        let rows = (try JSONSerialization.jsonObject(with: Data(pairs.utf8)) as? [[String: Any]]) ?? []
        let asked = Set(rows.map { "\($0["requested_model"] as? String ?? "?") → \($0["model"] as? String ?? "?")" })
        #expect(asked.isSuperset(of: ["claude-opus-4-5 → claude-haiku-4-5", "claude-sonnet-4-5 → claude-haiku-4-5",
                                      "gpt-4.1 → gpt-4.1-mini", "gemini-2.5-pro → gemini-2.5-flash"]), "\(asked)")

        // The cost routing avoided: the same tokens at the requested model's price, minus the cost.
        let opus = try #require(ledger.entries.first { $0.apiKey == routed[0].key })
        let tokens = TokenUsage(input: Int64(opus.promptTokens), cachedInput: Int64(opus.cachedTokens), cacheWrite: Int64(opus.cacheWriteTokens),
                                cacheWrite1h: Int64(opus.cacheWrite1hTokens), output: Int64(opus.completionTokens), reasoning: Int64(opus.reasoningTokens))
        func cost(_ model: String) -> Int64 {
            guard case .priced(_, let price) = prices.lookup(model) else { return -1 }
            return price.cost(of: BillableUsage(tokens: tokens), longContext: false).value
        }
        let opusRow = rows.first { $0["requested_model"] as? String == "claude-opus-4-5" && $0["model"] as? String == "claude-haiku-4-5" }
        #expect(opusRow?["routed"] as? Int == 1, "\(opusRow ?? [:])")
        #expect((opusRow?["routing_savings_nanousd"] as? NSNumber)?.int64Value == cost("claude-opus-4-5") - cost("claude-haiku-4-5"), "\(opusRow ?? [:])")
        #expect(cost("claude-opus-4-5") > cost("claude-haiku-4-5"))

        // Refusals: 403 in each provider's own shape, naming the policy, its owner and the way to an exception.
        let refused: [Call] = [
            .anthropic(key: "sk-ant-deny-0007", model: "claude-opus-4-5", stream: true, proxy: false),
            .openAI(key: "sk-deny-0008", model: "gpt-4.1", stream: false, proxy: true),
            .gemini(key: "AIza-deny-0009", model: "gemini-2.5-pro", stream: false, proxy: false),
        ]
        for call in refused {
            let result = try call.send(cluster, headers: ["X-Tollgate-Env: dev"])
            #expect(result.status == 403, "\(call.key): \(result)")
            #expect(result.header("x-tollgate-policy") == "no-premium-in-dev", "\(result.headers)")
            let message = try Self.providerErrorMessage(result.body, provider: call.provider)
            #expect(message.contains("no-premium-in-dev") && message.contains("finops@example.com") && message.contains("#finops-exceptions"),
                    "\(message)")
        }
        let afterRefusals = try await fetchLedger(mockURL: cluster.mockURL)
        #expect(!afterRefusals.entries.contains { $0.apiKey.contains("-deny-") }, "a refused request reached the provider")
        // A route first: dev's autocomplete goes to an economy model, which the deny allows.
        let routedInDev = try Call.anthropic(key: "sk-ant-dev-auto-0010", model: "claude-opus-4-5", stream: false, proxy: true)
            .send(cluster, headers: ["X-Tollgate-Env: dev", "X-Tollgate-Use-Case: autocomplete"])
        #expect(routedInDev.status == 200, "\(routedInDev)")


        // Dry-run: the request goes through unchanged; the policy only counts it.
        let watched = try Call.openAI(key: "sk-dry-0012", model: "o4-mini", stream: false, proxy: false).send(cluster, headers: [])
        #expect(watched.status == 200 && watched.header("x-tollgate-routed-from") == nil, "\(watched)")

        let metrics = try await cluster.agentMetrics()
        for series in [#"tollgate_agent_policy_routed_total{policy="autocomplete-claude"} 3"#,
                       #"tollgate_agent_policy_routed_total{policy="autocomplete-gpt"} 2"#,
                       #"tollgate_agent_policy_routed_total{policy="autocomplete-gemini"} 2"#,
                       #"tollgate_agent_policy_refusals_total{policy="no-premium-in-dev"} 3"#,
                       #"tollgate_agent_policy_dry_run_total{policy="watch-o4",action="refused"} 1"#] {
            #expect(metrics.contains(series), "missing \(series):\n\(metrics.split(separator: "\n").filter { $0.contains("policy") }.joined(separator: "\n"))")
        }
        let blocked = try await eventually(until: { $0 == 3 }) {
            let json = try cluster.cli(["usage", "--since", "1h", "--by", "env", "--format", "json"])
            let rows = (try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]]) ?? []
            return rows.first { $0["env"] as? String == "dev" }?["blocked"] as? Int ?? 0
        }
        #expect(blocked == 3, "policy refusals are recorded as blocked requests")

        try await downgradeSwitchesOnAtTheThreshold(cluster, api: api)
        try await aPolicyTheAgentCannotApplyIsKeptOutAndReported(cluster, api: api)

        // Once the exception ended, research is refused like the rest of dev (checked last:
        // the cases above run while it lasts).
        let wait = Double(exceptionEnds) - Date().timeIntervalSince1970
        if wait > 0 { try await Task.sleep(for: .milliseconds(Int(wait * 1000) + 200)) }
        let after = try research.send(cluster, headers: ["X-Tollgate-Env: dev", "X-Tollgate-Team: research"])
        #expect(after.status == 403, "the exception has expired: \(after)")
        let refusals = try await BudgetEnforcementTests.metric(#"tollgate_agent_policy_refusals_total{policy="no-premium-in-dev"}"#, at: cluster.adminURL)
        #expect(refusals == 4)
    }

    /// `team=ml` has 4 requests a day; from 50 % of it, gpt-4.1 goes to gpt-4.1-nano; at the
    /// limit the budget still blocks.
    private func downgradeSwitchesOnAtTheThreshold(_ cluster: LocalCluster, api: PolicyAPI) async throws {
        _ = try cluster.cli(["budget", "set", "ml-requests", "--selector", "team=ml", "--limit", "4requests", "--window", "day",
                             "--token-file", cluster.apiTokenFile])
        try await api.set(id: "ml-near-limit", kind: "downgrade", scope: "team=ml", models: ["gpt-4.1"], target: "gpt-4.1-nano",
                          budget: "ml-requests", threshold: 50)
        try await waitForPolicies(cluster, count: 6)
        _ = try await eventually(seconds: 10, until: { $0 == 1 }) {
            try await BudgetEnforcementTests.metric("tollgate_agent_quota_budgets", at: cluster.adminURL)
        }
        var outcomes: [String] = []
        for index in 1...5 {
            let result = try Call.openAI(key: "sk-ml-down-000\(index)", model: "gpt-4.1", stream: false, proxy: index % 2 == 0)
                .send(cluster, headers: ["X-Tollgate-Team: ml"])
            outcomes.append("\(result.status) \(result.header("x-tollgate-routed-from") != nil ? "routed" : "as asked")")
        }
        #expect(outcomes == ["200 as asked", "200 as asked", "200 routed", "200 routed", "429 as asked"], "\(outcomes)")
        let ledger = try await fetchLedger(mockURL: cluster.mockURL)
        let served = ledger.entries.filter { $0.apiKey.hasPrefix("sk-ml-down-") }.sorted { $0.apiKey < $1.apiKey }
            .map { DefaultPriceCatalog.load().canonicalModel($0.model) }
        #expect(served == ["gpt-4.1", "gpt-4.1", "gpt-4.1-nano", "gpt-4.1-nano"], "\(served)")
    }

    /// Routing to a model only the aggregator's catalog knows: the agent keeps the version it
    /// had (none here), says so in `/status` and a metric, and traffic goes as asked.
    private func aPolicyTheAgentCannotApplyIsKeptOutAndReported(_ cluster: LocalCluster, api: PolicyAPI) async throws {
        try await api.set(id: "to-internal", kind: "route", scope: "use_case=internal", models: ["claude-sonnet-4-5"],
                          target: Self.aggregatorOnlyModel)
        let rejected = try await eventually(seconds: 10, until: { $0 == 1 }) {
            try await BudgetEnforcementTests.metric(#"tollgate_agent_policy_rejected_total{policy="to-internal"}"#, at: cluster.adminURL)
        }
        #expect(rejected == 1, "the agent never reported the policy it cannot apply")
        let (data, _) = try await URLSession.shared.data(from: cluster.adminURL.appendingPathComponent("status"))
        let status = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let policies = status?["policies"] as? [String: Any]
        let reasons = (policies?["rejected"] as? [[String: Any]])?.map { "\($0["policy_id"] ?? "") \($0["reason"] ?? "")" } ?? []
        #expect(reasons.count == 1 && reasons[0].hasPrefix("to-internal") && reasons[0].contains(Self.aggregatorOnlyModel), "\(reasons)")
        #expect(policies?["count"] as? Int == 6)
        let result = try Call.anthropic(key: "sk-ant-internal-0013", model: "claude-sonnet-4-5", stream: false, proxy: false)
            .send(cluster, headers: ["X-Tollgate-Use-Case: internal"])
        #expect(result.status == 200 && result.header("x-tollgate-routed-from") == nil, "\(result)")
        #expect(cluster.log("agent").contains("policy 'to-internal' not applied"))

        // The fleet report carries both to the aggregator: who could not apply it, and what each policy did.
        let view = try await eventually(seconds: 10, until: { ($0["rejected_by"] as? [[String: Any]])?.count == 1 }) {
            try await api.get("to-internal")
        }
        #expect((view["rejected_by"] as? [[String: Any]])?.first?["name"] as? String == "agent", "\(view)")
        let claude = try await eventually(seconds: 10, until: { ($0["hits"] as? [String: Any])?["routed"] as? Int == 3 }) {
            try await api.get("autocomplete-claude")
        }
        #expect((claude["hits"] as? [String: Any])?["routed"] as? Int == 3, "\(claude)")
        let watched = try await api.get("watch-o4")
        #expect((watched["hits"] as? [String: Any])?["dry_run_refused"] as? Int == 1, "\(watched)")
    }

    private func waitForPolicies(_ cluster: LocalCluster, count: Int64) async throws {
        let held = try await eventually(seconds: 10, until: { $0 == count }) {
            try await BudgetEnforcementTests.metric("tollgate_agent_policies", at: cluster.adminURL)
        }
        #expect(held == count, "the agent holds \(held) policies, expected \(count)\n\(cluster.log("aggregator").suffix(2000))")
    }

    /// The error message as the provider's SDK would read it from the body.
    static func providerErrorMessage(_ body: String, provider: Provider) throws -> String {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any], "\(body)")
        let error = try #require(object["error"] as? [String: Any], "\(body)")
        switch provider {
        case .openai:
            #expect(error["code"] as? String == "policy_denied", "\(body)")
        case .anthropic:
            #expect(object["type"] as? String == "error" && error["type"] as? String == "permission_error", "\(body)")
        case .gemini:
            #expect(error["code"] as? Int == 403 && error["status"] as? String == "PERMISSION_DENIED", "\(body)")
        }
        return error["message"] as? String ?? ""
    }
}

/// `PUT /v1/policies/{id}` with the admin token; the body is `Policy`'s JSON form (snake_case).
struct PolicyAPI {
    let cluster: LocalCluster

    /// `GET /v1/policies/{id}` with the read-only token.
    func get(_ id: String) async throws -> [String: Any] {
        var request = URLRequest(url: cluster.apiURL.appendingPathComponent("v1/policies/\(id)"))
        let token = try String(contentsOfFile: cluster.apiReadTokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        let (data, _) = try await URLSession.shared.data(for: request)
        return (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    }

    func set(id: String, kind: String, scope: String, models: [String], target: String = "", budget: String = "", threshold: Int = 0,
             mode: String = "enforce", owner: String = "platform@example.com", exceptionPath: String = "",
             exceptions: [[String: Any]] = []) async throws {
        let policy: [String: Any] = [
            "id": id, "kind": kind, "scope": scope, "models": models, "target": target, "budget_id": budget, "threshold_percent": threshold,
            "mode": mode, "owner": owner, "exception_path": exceptionPath, "description": "", "exceptions": exceptions,
        ]
        var request = URLRequest(url: cluster.apiURL.appendingPathComponent("v1/policies/\(id)"))
        request.httpMethod = "PUT"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        let token = try String(contentsOfFile: cluster.apiTokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.httpBody = try JSONSerialization.data(withJSONObject: policy)
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        #expect((200..<300).contains(status), "PUT policy \(id): \(status) \(String(decoding: data, as: UTF8.self))")
    }
}

/// One provider call made with curl, to the agent's base URL or through it as `HTTPS_PROXY`.
struct Call {
    var provider: Provider
    var key: String
    var model: String
    var stream: Bool
    var proxy: Bool

    static func anthropic(key: String, model: String, stream: Bool, proxy: Bool) -> Call {
        Call(provider: .anthropic, key: key, model: model, stream: stream, proxy: proxy)
    }

    static func openAI(key: String, model: String, stream: Bool, proxy: Bool) -> Call {
        Call(provider: .openai, key: key, model: model, stream: stream, proxy: proxy)
    }

    static func gemini(key: String, model: String, stream: Bool, proxy: Bool) -> Call {
        Call(provider: .gemini, key: key, model: model, stream: stream, proxy: proxy)
    }

    struct Result: CustomStringConvertible {
        var status: Int
        var headers: String
        var body: String

        /// The last value of a response field (after a CONNECT, the provider response's).
        func header(_ name: String) -> String? {
            headers.split(whereSeparator: \.isNewline).reversed().first { $0.lowercased().hasPrefix(name + ":") }
                .map { $0.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces) }
        }

        var description: String { "\(status)\n\(headers)\n\(body.prefix(600))" }
    }

    private var host: String {
        switch provider {
        case .openai: "api.openai.com"
        case .anthropic: "api.anthropic.com"
        case .gemini: "generativelanguage.googleapis.com"
        }
    }

    private var path: String {
        switch provider {
        case .openai: "/v1/chat/completions"
        case .anthropic: "/v1/messages"
        case .gemini: "/v1beta/models/\(model):\(stream ? "streamGenerateContent?alt=sse" : "generateContent")"
        }
    }

    private var body: String {
        switch provider {
        case .openai: #"{"model":"\#(model)","stream":\#(stream),"temperature":0.70,"messages":[{"role":"user","content":"Complete: def fib("}]}"#
        case .anthropic: #"{"model":"\#(model)","max_tokens":64,"stream":\#(stream),"messages":[{"role":"user","content":"Complete: def fib("}]}"#
        case .gemini: #"{"contents":[{"role":"user","parts":[{"text":"Complete: def fib("}]}]}"#
        }
    }

    private var authHeaders: [String] {
        switch provider {
        case .openai: ["Authorization: Bearer \(key)"]
        case .anthropic: ["x-api-key: \(key)", "anthropic-version: 2023-06-01"]
        case .gemini: ["x-goog-api-key: \(key)"]
        }
    }

    var lastBody: String {
        get throws { try String(contentsOfFile: Self.bodyFile(key), encoding: .utf8) }
    }

    private static func bodyFile(_ key: String) -> String { FileManager.default.temporaryDirectory.appendingPathComponent("policy-\(key).body").path }

    func send(_ cluster: LocalCluster, headers: [String]) throws -> Result {
        let prefix = switch provider {
        case .openai: "openai"
        case .anthropic: "anthropic"
        case .gemini: "gemini"
        }
        let url = proxy ? "https://\(host)\(path)" : cluster.agentURL.absoluteString + "/" + prefix + path
        let headerFile = FileManager.default.temporaryDirectory.appendingPathComponent("policy-\(key).headers").path
        var arguments = ["-sS", "-o", Self.bodyFile(key), "-D", headerFile, "-w", "%{http_code}", url,
                         "-H", "Content-Type: application/json", "--data", body]
        if proxy { arguments += ["--cacert", cluster.agentCAFile] }
        arguments += (authHeaders + headers).flatMap { ["-H", $0] }
        let result = try Curl.run(arguments, httpsProxy: proxy ? cluster.agentURL.absoluteString : nil)
        let headersText = (try? String(contentsOfFile: headerFile, encoding: .utf8)) ?? ""
        return Result(status: Int(result.stdout) ?? 0, headers: headersText + result.stderr, body: (try? lastBody) ?? "")
    }
}
