import Foundation
import NIOCore
import Testing
import TollgateCore
import TollgateProviders
import TollgateWire
@testable import TollgateAgent

/// The policy step of admission through `ProxyHandler`: what the provider is asked and what
/// the client gets back when a policy routes or refuses a request.
@Suite struct PolicyAdmissionTests {
    static func gate(_ policies: [Policy]) -> QuotaGate {
        let prices = DefaultPriceCatalog.load()
        let book = QuotaBook(agentID: "test-agent", prices: prices)
        var update = QuotaUpdateMessage(version: 1, isSnapshot: true, budgets: [], issuedAtMilliseconds: 0)
        update.policies = policies
        _ = book.apply(update)
        book.policies.apply(update)
        return QuotaGate(book: book, settings: QuotaGate.Settings(), prices: prices)
    }

    static let route = Policy(id: "cheaper", kind: .route, models: [.model("gpt-4.1")], target: "gpt-4.1-mini")
    static let deny = Policy(id: "no-mini", kind: .deny, models: [.model("gpt-4.1-mini")], owner: "finops", exceptionPath: "#finops")

    @Test func aRoutedRequestReachesTheProviderWithOnlyItsModelChanged() throws {
        let proxy = try ProxyHarness(gate: Self.gate([Self.route]))
        let body = #"{"model":"gpt-4.1","stream":true,"temperature":0.70,"messages":[{"role":"user","content":"hi"}]}"#
        try proxy.client.writeInbound(ByteBuffer(string: ProxyHandlerTests.post(body)))
        let asked = try ProxyHandlerTests.drain(proxy.upstreams.opened[0])
        let sent = String(asked[asked.range(of: "\r\n\r\n")!.upperBound...])
        // The stream still asks for usage, after the rewrite.
        #expect(sent == #"{"stream_options":{"include_usage":true},"model":"gpt-4.1-mini","stream":true,"temperature":0.70,"messages":[{"role":"user","content":"hi"}]}"#)
        #expect(asked.contains("content-length: \(sent.utf8.count)\r\n"))
        try proxy.upstreams.opened[0].writeInbound(ByteBuffer(string: ProxyHandlerTests.ok()))
        #expect(try proxy.clientReceived().contains("x-tollgate-routed-from: gpt-4.1\r\n"))
        #expect(proxy.services.gate?.book.policies.hits == [PolicyHitCounts(policyID: "cheaper", routed: 1)])
    }

    @Test func aRequestRefusedAfterItsRouteCountsOnceAndNeverGoesUpstream() throws {
        let proxy = try ProxyHarness(gate: Self.gate([Self.route, Self.deny]))
        try proxy.client.writeInbound(ByteBuffer(string: ProxyHandlerTests.post(#"{"model":"gpt-4.1","messages":[]}"#)))
        let answer = try proxy.clientReceived()
        #expect(answer.hasPrefix("HTTP/1.1 403 Forbidden\r\n"), "\(answer)")
        #expect(answer.contains("x-tollgate-policy: no-mini\r\n") && answer.contains("x-tollgate-policy-owner: finops\r\n"))
        #expect(answer.contains(#""code":"policy_denied""#) && answer.contains("#finops") && !answer.contains("x-tollgate-routed-from"))
        #expect(proxy.upstreams.opened.isEmpty)
        #expect(proxy.services.gate?.book.policies.hits == [PolicyHitCounts(policyID: "no-mini", refused: 1)])
        #expect(proxy.client.isActive, "a refusal keeps a keep-alive connection")
    }

    @Test func anAzureDeploymentIsNeverRewritten() throws {
        let proxy = try ProxyHarness(gate: Self.gate([Self.route])) { config in
            config.upstreams.azure = UpstreamURL(scheme: "http", host: "azure.test", port: 80, basePath: "")
        }
        let body = #"{"model":"gpt-4.1","messages":[]}"#
        try proxy.client.writeInbound(ByteBuffer(string:
            "POST /azure/openai/deployments/gpt-4.1/chat/completions?api-version=2024-10-21 HTTP/1.1\r\nHost: agent\r\napi-key: k\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"))
        let asked = try ProxyHandlerTests.drain(proxy.upstreams.opened[0])
        #expect(asked.hasPrefix("POST /openai/deployments/gpt-4.1/chat/completions?api-version=2024-10-21 ") && asked.hasSuffix(body))
        #expect(proxy.services.gate?.book.policies.hits == [])
    }
}
