import Foundation
import NIOCore
import TollgateCore
import TollgateProviders

/// What happens between a request's last byte and its forwarding: the request is
/// classified (what is metered about it), an OpenAI stream is made to report its usage,
/// the caller is identified, spend policies route or refuse it (`+Policy`), and the quota
/// gate admits or refuses it.
struct ExchangeAdmission {
    let services: ProxyServices

    enum Decision {
        case forward
        /// A budget said no: answer with this (the provider's own 429 shape).
        case refuse(ProviderErrorResponse)
        /// This host's slice of a leased budget has no room, and it has asked for more: decide
        /// again (`readmit`) once an answer about the budget arrives (`answered`) or at the deadline.
        case wait(QuotaGate.LeaseWait, until: NIODeadline)
    }

    func admit(_ exchange: ProxyExchange, allocator: ByteBufferAllocator) -> Decision {
        let original = Data(exchange.body.readableBytesView)
        exchange.request = exchange.route.provider.flatMap { provider in
            ProviderRequest.classify(provider: provider, method: exchange.head.method.rawValue,
                                     path: exchange.route.path, query: exchange.route.query, body: original)
        }
        guard let request = exchange.request else { return .forward }  // carries no usage (model lists…)
        if services.config.onSpoolFull == .deny, services.pipeline.spoolDegraded {
            // The operator chose exact metering over availability: nothing is spent that
            // the agent could not write down.
            services.metrics.rejectedRequests("spool_unwritable").increment()
            return .refuse(ProviderErrorResponse(
                status: .serviceUnavailable, code: "spool_unwritable",
                message: "Tollgate agent cannot record usage (\(services.pipeline.spoolProblem ?? "spool not writable")) and spool.on_full is deny; retry later",
                provider: request.provider, headers: [("retry-after", "10")]))
        }
        if request.needsStreamUsageOption, let rewritten = OpenAIStreamOptions.requestingUsage(in: original) {
            // Without this OpenAI never says what a stream cost; the client will not see
            // the extra usage chunk (InjectedUsageChunkFilter).
            exchange.body = allocator.buffer(bytes: rewritten)
            exchange.usageFilter = InjectedUsageChunkFilter()
            services.metrics.streamUsageRequested.increment()
        }
        let caller = identify(request, exchange: exchange)
        exchange.caller = caller
        if let refusal = applyPolicies(exchange, request: request, caller: caller, allocator: allocator) { return .refuse(refusal) }
        // A routed request is gated as the model it now goes to.
        return decide(exchange, request: exchange.request ?? request, caller: caller, requestBodyBytes: original.count)
    }

    /// Gates a request that waited on a lease answer again (it was classified and identified).
    func readmit(_ exchange: ProxyExchange) -> Decision {
        guard let request = exchange.request, let caller = exchange.caller else { return .forward }
        return decide(exchange, request: request, caller: caller, requestBodyBytes: exchange.requestBodyBytes)
    }

    /// Whether what `wait` waits for has come: an answer about its budget.
    func answered(_ wait: QuotaGate.LeaseWait) -> Bool {
        services.gate.map { $0.book.leaseAnswers(budgetID: wait.budgetID) != wait.answers } ?? true
    }

    private func decide(_ exchange: ProxyExchange, request: ProviderRequest, caller: ProxyExchange.Caller, requestBodyBytes: Int) -> Decision {
        guard let gate = services.gate else { return .forward }
        let dimensions = services.meter.dimensions(of: request, keyID: caller.keyID, keyHint: caller.keyHint, attribution: caller.attribution,
                                                   routedFrom: exchange.routedFrom)
        let (decision, observed) = gate.decide(request, dimensions: dimensions, requestBodyBytes: requestBodyBytes)
        for refusal in observed {
            services.metrics.quotaWouldBlock(refusal.budget?.budgetID ?? "stale").increment()
        }
        switch decision {
        case .admit(let reservation):
            exchange.reservation = reservation
            return .forward
        case .refuse(let refusal):
            if let wait = refusal.awaiting {
                // Refused only once the wait is over: the answer came and still had no room.
                let now = NIODeadline.now()
                let deadline = exchange.leaseWaitDeadline ?? now + TimeAmount(QuotaGate.LeaseWait.limit)
                exchange.leaseWaitDeadline = deadline
                if now < deadline { return .wait(wait, until: deadline) }
            }
            return .refuse(refuse(request, refusal, dimensions: dimensions))
        }
    }

    /// The calling key (hashed: the key itself goes nowhere) and the attribution headers.
    private func identify(_ request: ProviderRequest, exchange: ProxyExchange) -> ProxyExchange.Caller {
        let apiKey = APIKeyExtractor.apiKey(in: exchange.head, provider: request.provider, query: exchange.route.query) ?? ""
        var rejectedLabels = 0
        var attribution = services.config.attribution.resolved(headers: exchange.head, providerUser: request.user, rejected: &rejectedLabels)
        if rejectedLabels > 0 { services.metrics.rejectedAttributionHeaders.increment(by: Int64(rejectedLabels)) }
        let identity = apiKey.isEmpty ? CallerKeyCache.Identity(keyID: "", hint: "") : services.keys.identity(of: apiKey, provider: request.provider.rawValue)
        // Before the gate and the meter: a key labelled team=ml counts for ml's budgets.
        services.gate?.book.keyAttributions.fill(&attribution, keyID: identity.keyID, headers: exchange.head)
        return ProxyExchange.Caller(keyID: identity.keyID, keyHint: identity.hint, attribution: attribution)
    }

    /// The refusal is recorded (as `blocked`, no tokens, no cost) so `tollgate usage` shows
    /// who hit the budget; the client learns which budget and when to retry.
    private func refuse(_ request: ProviderRequest, _ refusal: QuotaGate.Refusal, dimensions: Dimensions) -> ProviderErrorResponse {
        let budget = refusal.budget?.budgetID ?? "stale"
        services.metrics.quotaBlocked(budget).increment()
        if refusal.leased { services.metrics.leaseRefusals(budget).increment() }
        services.pipeline.record(UsageEvent(unixTime: services.clock.unixSeconds, dimensions: dimensions,
                                            tokens: .zero, cost: .zero, flags: .blocked))
        var headers = [("retry-after", String(refusal.retryAfterSeconds)), ("x-tollgate-budget", budget)]
        if let owner = refusal.budget?.owner, !owner.isEmpty {
            headers.append(("x-tollgate-budget-owner", String(owner.unicodeScalars.filter { $0.isASCII && $0.value >= 0x20 && $0.value != 0x7F }.prefix(200))))
        }
        return ProviderErrorResponse(status: .tooManyRequests, code: "budget_exceeded", message: refusal.message,
                                     provider: request.provider, headers: headers)
    }
}
