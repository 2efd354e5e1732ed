import Foundation
import NIOCore
import TollgateCore
import TollgateProviders

/// The spend-policy step of admission, after the caller is identified and before the quota
/// gate: the pushed policies (`PolicyBook`) decide locally, with no round trip, whether the
/// request goes as asked, goes to another model, or is refused with 403.
extension ExchangeAdmission {
    /// Routes the exchange when a policy says so (its body or Gemini path then names the
    /// target, and `exchange.request` is the target's); returns the refusal when a policy
    /// refuses it. Dry-run policies are counted and change nothing.
    func applyPolicies(_ exchange: ProxyExchange, request: ProviderRequest, caller: ProxyExchange.Caller,
                       allocator: ByteBufferAllocator) -> ProviderErrorResponse? {
        guard let book = services.gate?.book else { return nil }
        guard let policies = book.policies.active else { return nil }
        let prices = book.policies.catalog
        let dimensions = services.meter.dimensions(of: request, keyID: caller.keyID, keyHint: caller.keyHint, attribution: caller.attribution)
        let requested = prices.facts(of: request.model ?? "")
        let nowUnix = services.clock.unixSeconds
        let budgetUse = { (budgetID: String) in book.budgetUse(of: budgetID, nowUnix: nowUnix) }
        var decision = policies.decide(dimensions: dimensions, requested: requested, nowUnix: nowUnix,
                                       facts: { prices.facts(of: $0) }, budgetUse: budgetUse)
        if let route = decision.route, !Self.rewrite(exchange, request: request, to: route.to, allocator: allocator) {
            // Nowhere to write the model (an Azure deployment, a body that is not JSON):
            // decided again with no rewrite possible, so allow/deny judge the model asked for.
            services.logger.debug("policy '\(route.policyID)' cannot route \(request.provider.rawValue) \(request.endpoint.rawValue) requests: the model is not in a JSON body or a Gemini path")
            decision = policies.decide(dimensions: dimensions, requested: requested, nowUnix: nowUnix,
                                       facts: { ModelFacts(canonical: $0, provider: "", tier: nil) }, budgetUse: budgetUse)
        }
        // A request refused after a route was not routed: it counts once, as refused.
        if decision.refusal != nil { decision.route = nil }
        book.policies.count(decision)
        for hit in decision.dryRun {
            services.metrics.policyDryRun(hit.policyID, hit.action.rawValue).increment()
        }
        if let route = decision.route {
            services.metrics.policyRouted(route.policyID).increment()
            exchange.routedFrom = request.model ?? route.from
        }
        guard let refusal = decision.refusal else { return nil }
        return refuse(request, refusal, dimensions: dimensions)
    }

    /// Only the model changes: the top-level `model` of a JSON body (Content-Length follows
    /// the new body), or the model segment of a Gemini path. False when the request names
    /// its model nowhere the agent can rewrite it.
    static func rewrite(_ exchange: ProxyExchange, request: ProviderRequest, to target: String, allocator: ByteBufferAllocator) -> Bool {
        // Azure serves the deployment in the path whatever the body says.
        guard request.deployment == nil else { return false }
        if request.endpoint == .generateContent || request.endpoint == .streamGenerateContent,
           let path = RequestModelRewrite.geminiTarget(exchange.route.path, to: target),
           let uri = RequestModelRewrite.geminiTarget(exchange.route.upstreamURI, to: target) {
            exchange.route.path = path
            exchange.route.upstreamURI = uri
        } else if let body = RequestModelRewrite.body(Data(exchange.body.readableBytesView), to: target) {
            exchange.body = allocator.buffer(bytes: body)
        } else {
            return false
        }
        exchange.request?.model = target
        return true
    }

    /// A 403 in the provider's own error shape, naming the policy, its owner and the way to
    /// an exception; recorded as a blocked request so `tollgate usage` shows who met it.
    private func refuse(_ request: ProviderRequest, _ refusal: PolicyDecision.Refusal, dimensions: Dimensions) -> ProviderErrorResponse {
        services.metrics.policyRefusals(refusal.policyID).increment()
        services.pipeline.record(UsageEvent(unixTime: services.clock.unixSeconds, dimensions: dimensions,
                                            tokens: .zero, cost: .zero, flags: .blocked))
        var headers = [("x-tollgate-policy", refusal.policyID)]
        if !refusal.owner.isEmpty { headers.append(("x-tollgate-policy-owner", Self.headerValue(refusal.owner))) }
        return ProviderErrorResponse(status: .forbidden, code: "policy_denied", message: refusal.message,
                                     provider: request.provider, headers: headers)
    }

    /// Text from a policy or a request body made safe for a header field: printable ASCII, bounded.
    static func headerValue(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.filter { $0.isASCII && $0.value >= 0x20 && $0.value != 0x7F }.prefix(200)))
    }
}
