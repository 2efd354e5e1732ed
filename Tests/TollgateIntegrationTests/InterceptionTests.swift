import Foundation
import Testing
import TollgateCore
import TollgateMockProvider
import TollgateProviders
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The agent as a forward proxy, the way a CI runner uses it: real curl with only
/// `HTTPS_PROXY` set and the agent's CA trusted, real TLS on both legs, and the mock
/// posing as the provider hosts behind its own throwaway CA.
@Suite(.serialized) struct InterceptionTests {
    @Test func curlThroughHTTPSProxyIsMeteredExactlyForEveryProvider() async throws {
        let cluster = try LocalCluster()
        defer { cluster.shutdown() }
        try await cluster.start()

        let calls: [(url: String, headers: [String], body: String)] = [
            ("https://api.openai.com/v1/chat/completions", ["Authorization: Bearer sk-proxy-openai-000000001"],
             #"{"model":"gpt-4o","messages":[{"role":"user","content":"Say hello to the meter."}]}"#),
            // A stream that did not ask for usage: the agent asks, and hides the answer.
            ("https://api.openai.com/v1/chat/completions", ["Authorization: Bearer sk-proxy-openai-000000001"],
             #"{"model":"o4-mini","stream":true,"messages":[{"role":"user","content":"Stream a few words."}]}"#),
            ("https://api.openai.com/v1/responses", ["Authorization: Bearer sk-proxy-openai-000000002"],
             #"{"model":"gpt-4.1-mini","stream":true,"input":"Summarise metering."}"#),
            ("https://api.anthropic.com/v1/messages", ["x-api-key: sk-ant-proxy-000000000003", "anthropic-version: 2023-06-01"],
             #"{"model":"claude-sonnet-4-5","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"Hi there."}]}"#),
            ("https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
             ["x-goog-api-key: AIza-proxy-000000000004"],
             #"{"contents":[{"role":"user","parts":[{"text":"Count to five."}]}]}"#),
            ("https://my-resource.openai.azure.com/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21",
             ["api-key: azure-proxy-000000000005"],
             #"{"messages":[{"role":"user","content":"Hello from Azure."}]}"#),
        ]
        var outputs: [String] = []
        for call in calls {
            let result = try Curl.run(["-sS", "--fail-with-body", "--cacert", cluster.agentCAFile, call.url,
                                       "-H", "Content-Type: application/json", "--data", call.body]
                                      + call.headers.flatMap { ["-H", $0] },
                                      httpsProxy: cluster.agentURL.absoluteString)
            #expect(result.status == 0, "\(call.url): \(result.stderr)\n\(result.stdout)\n\(cluster.log("agent"))")
            outputs.append(result.stdout)
        }
        #expect(outputs[1].contains("data: [DONE]") && !outputs[1].contains(#""usage":{"#),
                "the client did not ask for stream usage and must not see the chunk the agent asked for")

        let ledger = try await fetchLedger(mockURL: cluster.mockURL)
        #expect(ledger.entries.reduce(0) { $0 + $1.requests } == calls.count)
        #expect(Set(ledger.entries.map(\.provider)) == ["openai", "azure", "anthropic", "gemini"])
        let expected = GroundTruth.expected(from: ledger, keys: KeyIdentifier(orgSecret: cluster.orgSecret), prices: DefaultPriceCatalog.load())
        let differences = try await eventually(until: { $0.isEmpty }) {
            let json = try cluster.cli(["usage", "--since", "1h", "--by", "key,model", "--format", "json"])
            return GroundTruth.differences(expected: expected, actual: try GroundTruth.actual(fromUsageJSON: Data(json.utf8)))
        }
        #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))")

        let metrics = try await cluster.agentMetrics()
        #expect(metrics.contains(#"tollgate_agent_connect_total{outcome="intercepted"} 6"#), "\(metrics)")
    }

    /// A client that does not trust the agent's CA refuses the intercepted connection:
    /// the agent never downgrades to a tunnel that would hide provider traffic.
    @Test func aClientThatDoesNotTrustTheAgentsCARefusesTheConnection() async throws {
        let cluster = try LocalCluster()
        defer { cluster.shutdown() }
        try await cluster.start()

        let result = try Curl.run(["-sS", "--cacert", cluster.mockCAFile, "https://api.openai.com/v1/models", "-H", "Authorization: Bearer sk-x-0000000000"],
                                  httpsProxy: cluster.agentURL.absoluteString)
        #expect(result.status == 60, "curl should fail certificate verification: \(result.stderr)")
    }

    @Test func plainHTTPProxyRequestsToProviderHostsGoOverTLSAndAreMetered() async throws {
        let cluster = try LocalCluster()
        defer { cluster.shutdown() }
        try await cluster.start()

        let result = try Curl.run(["-sS", "--fail-with-body", "-x", cluster.agentURL.absoluteString,
                                   "http://api.openai.com/v1/chat/completions", "-H", "Authorization: Bearer sk-plain-http-0000001",
                                   "-H", "Content-Type: application/json",
                                   "--data", #"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"plain"}]}"#])
        #expect(result.status == 0, "\(result.stderr)\n\(result.stdout)")
        #expect(result.stdout.contains("chat.completion"))
        let rows = try await eventually(until: { !$0.isEmpty }) { () -> [[String: Any]] in
            let json = try cluster.cli(["usage", "--since", "1h", "--by", "provider,model", "--format", "json"])
            return try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] ?? []
        }
        #expect(rows.count == 1 && rows.first?["requests"] as? Int == 1 && (rows.first?["output_tokens"] as? Int ?? 0) > 0)
    }

    /// Hosts that are not a provider's: relayed without interception (the client sees the
    /// real server's certificate), or refused with 403 when the policy says deny.
    @Test func otherHostsAreTunnelledBlindOrRefused() async throws {
        let tunnelling = try LocalCluster()
        defer { tunnelling.shutdown() }
        try await tunnelling.start()
        let tunnelled = try Curl.run(["-sS", "-v", "--cacert", tunnelling.mockCAFile, "https://tunnelled.test/healthz"],
                                     httpsProxy: tunnelling.agentURL.absoluteString)
        #expect(tunnelled.status == 0 && tunnelled.stdout == "ok", "\(tunnelled.stderr)")
        #expect(tunnelled.stderr.contains("tollgate-mock provider CA"), "the client should see the server's own certificate")
        let unreachable = try Curl.run(["-sS", "https://127.0.0.1:1/"], httpsProxy: tunnelling.agentURL.absoluteString)
        #expect(unreachable.stderr.contains("502"), "\(unreachable.stderr)")
        let metrics = try await tunnelling.agentMetrics()
        #expect(metrics.contains(#"tollgate_agent_connect_total{outcome="tunnelled"} 1"#) && metrics.contains(#"outcome="unreachable"} 1"#))

        let denying = try LocalCluster(otherHosts: "deny")
        defer { denying.shutdown() }
        try await denying.start()
        let refused = try Curl.run(["-sS", "--cacert", denying.mockCAFile, "https://tunnelled.test/healthz"],
                                   httpsProxy: denying.agentURL.absoluteString)
        #expect(refused.status != 0 && refused.stderr.contains("403"), "\(refused.stderr)")
        let plain = try Curl.run(["-sS", "-x", denying.agentURL.absoluteString, "http://tunnelled.test/healthz"])
        #expect(plain.stdout.contains("host_not_allowed"), "\(plain.stdout)")
        // Provider hosts are still intercepted under deny.
        let provider = try Curl.run(["-sS", "--fail-with-body", "--cacert", denying.agentCAFile, "https://api.openai.com/v1/chat/completions",
                                     "-H", "Authorization: Bearer sk-deny-000000000001", "-H", "Content-Type: application/json",
                                     "--data", #"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#],
                                    httpsProxy: denying.agentURL.absoluteString)
        #expect(provider.status == 0, "\(provider.stderr)")
    }

    /// Limits hold inside an intercepted connection too: an oversized body gets the 413
    /// error over TLS and never reaches the provider.
    @Test func limitsApplyInsideInterceptedConnections() async throws {
        let cluster = try LocalCluster(extraAgentConfig: "limits:\n  max_request_body_bytes: 2048")
        defer { cluster.shutdown() }
        try await cluster.start()
        let big = #"{"model":"gpt-4o","messages":[{"role":"user","content":""# + String(repeating: "x", count: 4096) + #""}]}"#
        let result = try Curl.run(["-sS", "--cacert", cluster.agentCAFile, "-w", "\n%{http_code}", "https://api.openai.com/v1/chat/completions",
                                   "-H", "Authorization: Bearer sk-big-0000000000001", "-H", "Content-Type: application/json", "--data", big],
                                  httpsProxy: cluster.agentURL.absoluteString)
        #expect(result.stdout.hasSuffix("413") && result.stdout.contains("request_too_large"), "\(result.stdout) \(result.stderr)")
        let ledger = try await fetchLedger(mockURL: cluster.mockURL)
        #expect(ledger.entries.isEmpty)
    }
}

/// Runs the system's curl, as an engineer's tool on a CI runner would.
enum Curl {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ arguments: [String], httpsProxy: String? = nil) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = ["--max-time", "20"] + arguments
        process.environment = environment(httpsProxy: httpsProxy)
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self))
    }

    /// This process's environment with only the proxy a test names: a developer's own
    /// proxy settings must not route the test's traffic.
    static func environment(httpsProxy: String?) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        for name in ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"] {
            environment[name] = nil
        }
        if let httpsProxy { environment["HTTPS_PROXY"] = httpsProxy }
        return environment
    }
}

extension LocalCluster {
    func agentMetrics() async throws -> String {
        let (data, _) = try await URLSession.shared.data(from: adminURL.appendingPathComponent("metrics"))
        return String(decoding: data, as: UTF8.self)
    }
}
