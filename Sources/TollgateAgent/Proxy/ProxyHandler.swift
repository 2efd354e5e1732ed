import Foundation
import NIOCore
import TollgateHTTP1
import NIOHTTP1
import TollgateCore
import TollgateProviders

/// Serves one client connection: reads a request, forwards it to the provider, streams
/// the response back as it arrives, and meters the exchange when the response ends.
/// Requests come in base-URL form (`/openai/v1/…`), absolute form (HTTP_PROXY) or, after
/// `ConnectHandler` intercepted a provider host, as that host's own paths.
///
/// Both directions stay bytes: requests arrive framed by `HTTPRequestFramer` and go on as
/// `UpstreamRequest` writes them; `HTTPResponseFramer` reads the provider's side, and the
/// response is passed on without being decoded into parts and encoded again.
final class ProxyHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestFramer.Part
    typealias OutboundOut = ByteBuffer

    private enum State {
        case idle
        case receiving(Exchange)
        /// Already answered (an error or a local endpoint); ignore the rest of the request.
        case discarding
        case forwarding(Exchange)
    }

    /// One request/response pair in flight. A class: the state machine hands it from
    /// state to state many times per request, and a struct this size was copied (and every
    /// reference in it retained) each time.
    private final class Exchange {
        var head: HTTPRequestHeadBytes
        var route: ProviderRoute
        var body: ByteBuffer
        /// What is metered about it; nil for calls that carry no usage (model lists…).
        var request: ProviderRequest?
        var upstream: Channel?
        /// The upstream connection came from the pool: if it fails before any response,
        /// the provider never saw the request, so it is retried once on a fresh one.
        var reusedConnection = false
        /// The provider's response allows the connection to be reused.
        var upstreamKeepAlive = false
        var responseStatus: Int?
        /// How the response body goes to the client.
        var clientFraming = ClientFraming.length
        /// Reads usage from the response as it passes.
        var tap: (any UsageTap)?
        /// Set when the agent asked for stream usage the client did not request.
        var usageFilter: InjectedUsageChunkFilter?
        /// When the request head arrived, for the latency histogram.
        var startedAt = NIODeadline.now()
        /// Who is calling, for metered requests: key id and attribution (resolved once).
        var caller: Caller?
        /// What the quota gate holds against budgets until the response settles it.
        var reservation = QuotaBook.Reservation.none

        init(head: HTTPRequestHeadBytes, route: ProviderRoute, body: ByteBuffer) {
            self.head = head
            self.route = route
            self.body = body
        }
    }

    /// How a response body is framed towards the client: as the provider framed it when
    /// the bytes pass unchanged, else chunked again (HTTP/1.1) or ended by closing (1.0).
    enum ClientFraming {
        case length
        case chunked
        case close
    }

    /// The calling key and attribution of a metered request.
    struct Caller {
        var keyID: String
        var keyHint: String
        var attribution: Attribution
    }

    private let services: ProxyServices
    private var state = State.idle
    private var context: ChannelHandlerContext?
    /// Parts of requests a client pipelined behind the one being forwarded; reading stops
    /// while any wait, and they are served in order.
    private var pipelined = CircularBuffer<HTTPRequestFramer.Part>()
    private var sawRequestHead = false
    /// Set once this connection is an intercepted TLS connection to a provider host.
    private var origin: InterceptedOrigin?

    init(services: ProxyServices) {
        self.services = services
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        armHeaderTimeout(context: context)
    }

    /// Slowloris defence: a connection must deliver its first request head in time (and,
    /// once intercepted, its first request inside the TLS connection).
    private func armHeaderTimeout(context: ChannelHandlerContext) {
        sawRequestHead = false
        let timeout = TimeAmount(services.config.headerTimeout)
        let armedFor = origin
        context.eventLoop.scheduleTask(in: timeout) { [weak self] in
            guard let self, !self.sawRequestHead, self.origin == armedFor, let context = self.context else { return }
            self.services.metrics.increment("tollgate_agent_rejected_requests_total{reason=\"header_timeout\"}")
            context.close(promise: nil)
        }
    }

    /// Idle keep-alive clients are closed; a client waiting on a slow provider is not idle.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let intercepted = event as? InterceptedOrigin {
            origin = intercepted
            armHeaderTimeout(context: context)
            return
        }
        guard event is IdleStateHandler.IdleStateEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        if case .idle = state {
            services.metrics.increment("tollgate_agent_idle_client_closes_total")
            context.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if case .forwarding = state {
            pipelined.append(part)
            try? context.channel.syncOptions?.setOption(.autoRead, value: false)
            return
        }
        handle(part, context: context)
    }

    private func handle(_ part: HTTPRequestFramer.Part, context: ChannelHandlerContext) {
        switch (part, state) {
        case (.head(let head), .idle):
            sawRequestHead = true
            receive(head, context: context)
        case (.body(var chunk), .receiving(let exchange)):
            guard exchange.body.readableBytes + chunk.readableBytes <= services.config.maxRequestBodyBytes else {
                rejectOversizedBody(context: context)
                return
            }
            exchange.body.writeBuffer(&chunk)
        case (.end, .receiving(let exchange)):
            forward(exchange, context: context)
        case (.end, .discarding):
            state = .idle
        case (.body, .discarding):
            break
        default:
            // The framer delivers head, body…, end per request and pipelined requests wait
            // in `pipelined`, so any other combination is a bug in our own states.
            services.logger.error("proxy received an unexpected request part; closing the connection")
            context.close(promise: nil)
        }
    }

    /// The response ended: serve what the client pipelined meanwhile, then read again.
    private func servePipelined(context: ChannelHandlerContext) {
        guard !pipelined.isEmpty else { return }
        while let part = pipelined.popFirst() {
            handle(part, context: context)
            if case .forwarding = state { return }
        }
        try? context.channel.syncOptions?.setOption(.autoRead, value: true)
    }

    /// A request the framer refused: the error's status (400, 431 for oversized heads…)
    /// unless a response is under way, then the connection closes.
    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard let framingError = error as? HTTPRequestFramingError else {
            context.fireErrorCaught(error)
            return
        }
        services.metrics.increment("tollgate_agent_rejected_requests_total{reason=\"malformed_request\"}")
        if case .forwarding = state {
            context.close(promise: nil)
            return
        }
        state = .discarding
        respondWithError(ProviderErrorResponse(
            status: HTTPResponseStatus(statusCode: framingError.status),
            code: framingError.code,
            message: "Tollgate agent refused the request: \(framingError)"),
            keepAlive: false, context: context)
    }

    /// Backpressure: while the client cannot take more, the provider's connection is not
    /// read, so a slow client slows the provider down instead of filling the agent's memory.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if case .forwarding(let exchange) = state, let upstream = exchange.upstream {
            try? upstream.syncOptions?.setOption(.autoRead, value: context.channel.isWritable)
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .forwarding(let exchange) = state {
            // The client left mid-exchange. Whatever the provider already sent was billed,
            // so it is metered (estimated if usage never came) before the upstream is cut.
            state = .idle
            services.metrics.increment("tollgate_agent_client_disconnects_total")
            exchange.upstream?.close(promise: nil)
            complete(exchange)
        }
        context.fireChannelInactive()
    }

    // MARK: Requests

    private func receive(_ head: HTTPRequestHeadBytes, context: ChannelHandlerContext) {
        if origin == nil && head.method == .GET && head.target == "/healthz" {
            // Liveness on the proxy port itself, for load balancers; metrics and status
            // are on the admin listener.
            state = .discarding
            respond(status: .ok, contentType: "text/plain", body: "ok\n", keepAlive: head.isKeepAlive, context: context)
            return
        }
        let route: ProviderRoute
        switch resolveRoute(head.target) {
        case .success(let resolved):
            route = resolved
        case .failure(let failure):
            state = .discarding
            let (status, code, reason, message): (HTTPResponseStatus, String, String, String) = switch failure {
            case .unknownPrefix: (.notFound, "unknown_route", "unknown_route", "Tollgate agent: no provider route for this path; use /openai/, /anthropic/, /gemini/ or /azure/ followed by the provider's own path")
            case .notConfigured(let name): (.notFound, "unknown_route", "unknown_route", "Tollgate agent: the \(name) route has no upstream; set upstreams.\(name) in the agent config")
            case .deniedHost(let host): (.forbidden, "host_not_allowed", "host_not_allowed", "Tollgate agent: \(host) is not a provider host and intercept.other_hosts is deny")
            case .invalidTarget(let uri): (.badRequest, "invalid_request_target", "invalid_target", "Tollgate agent: cannot proxy \"\(uri)\"; only http:// URLs go through HTTP_PROXY, https:// ones through CONNECT")
            }
            services.metrics.increment("tollgate_agent_rejected_requests_total{reason=\"\(reason)\"}")
            respondWithError(ProviderErrorResponse(status: status, code: code, message: message), keepAlive: head.isKeepAlive, context: context)
            return
        }
        var capacity = 0
        if case .length(let length) = head.framing {
            guard length <= services.config.maxRequestBodyBytes else {
                rejectOversizedBody(context: context, keepAlive: false)
                return
            }
            capacity = min(length, 1 << 20)
        }
        state = .receiving(Exchange(head: head, route: route, body: context.channel.allocator.buffer(capacity: capacity)))
        if head.framing != .none && head.version == .http1_1 && head.first(name: "expect")?.lowercased() == "100-continue" {
            // The agent takes the whole body before it forwards anything, so there is nothing
            // to ask the provider: say go now, or curl waits a second before each large body.
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(staticString: "HTTP/1.1 100 Continue\r\n\r\n")), promise: nil)
        }
    }

    private func resolveRoute(_ uri: String) -> Result<ProviderRoute, ProviderRoute.Failure> {
        if let origin {
            return .success(ProviderRoute(provider: origin.route.provider, upstream: origin.upstream, uri: uri))
        }
        if uri.hasPrefix("/") { return ProviderRoute.resolve(uri: uri, upstreams: services.config.upstreams) }
        return ProviderRoute.resolve(absoluteURI: uri, policy: services.config.intercept)
    }

    private func rejectOversizedBody(context: ChannelHandlerContext, keepAlive: Bool = false) {
        state = .discarding
        services.metrics.increment("tollgate_agent_rejected_requests_total{reason=\"body_too_large\"}")
        // The rest of the body may still be arriving, so the connection cannot be reused.
        respondWithError(ProviderErrorResponse(
            status: .payloadTooLarge, code: "request_too_large",
            message: "Tollgate agent: request body exceeds limits.max_request_body_bytes (\(services.config.maxRequestBodyBytes) bytes)"),
            keepAlive: keepAlive, context: context)
    }

    // MARK: Forwarding

    private func forward(_ exchange: Exchange, context: ChannelHandlerContext) {
        let original = Data(exchange.body.readableBytesView)
        exchange.request = exchange.route.provider.flatMap { provider in
            ProviderRequest.classify(provider: provider, method: exchange.head.method.rawValue,
                                     path: exchange.route.path, query: exchange.route.query, body: original)
        }
        if let request = exchange.request, request.needsStreamUsageOption, let rewritten = OpenAIStreamOptions.requestingUsage(in: original) {
            // Without this OpenAI never says what a stream cost; the client will not see
            // the extra usage chunk (InjectedUsageChunkFilter).
            exchange.body = context.channel.allocator.buffer(bytes: rewritten)
            exchange.usageFilter = InjectedUsageChunkFilter()
            services.metrics.increment("tollgate_agent_stream_usage_requested_total")
        }
        if let request = exchange.request {
            let caller = identify(request, exchange: exchange)
            exchange.caller = caller
            if let gate = services.gate {
                let dimensions = ExchangeMeter.dimensions(of: request, keyID: caller.keyID, keyHint: caller.keyHint, attribution: caller.attribution)
                let (decision, observed) = gate.decide(request, dimensions: dimensions, requestBodyBytes: original.count)
                if let observed {
                    services.metrics.increment("tollgate_agent_quota_would_block_total{budget=\"\(observed.budget?.budgetID ?? "stale")\"}")
                }
                switch decision {
                case .admit(let reservation):
                    exchange.reservation = reservation
                case .refuse(let refusal):
                    refuse(exchange, refusal, dimensions: dimensions, context: context)
                    return
                }
            }
        }
        state = .forwarding(exchange)
        services.inFlight.begin()
        sendUpstream(exchange, context: context)
    }

    private func identify(_ request: ProviderRequest, exchange: Exchange) -> Caller {
        let apiKey = APIKeyExtractor.apiKey(in: exchange.head, provider: request.provider, query: exchange.route.query) ?? ""
        var rejectedLabels = 0
        let attribution = services.config.attribution.resolved(headers: exchange.head, providerUser: request.user, rejected: &rejectedLabels)
        if rejectedLabels > 0 { services.metrics.increment("tollgate_agent_rejected_attribution_headers_total", by: Int64(rejectedLabels)) }
        let identity = apiKey.isEmpty ? CallerKeyCache.Identity(keyID: "", hint: "") : services.keys.identity(of: apiKey)
        return Caller(keyID: identity.keyID, keyHint: identity.hint, attribution: attribution)
    }

    /// A budget said no: the client gets the provider's own 429, and the refusal is
    /// recorded (as `blocked`, no tokens, no cost) so `tollgate usage` shows who hit it.
    private func refuse(_ exchange: Exchange, _ refusal: QuotaGate.Refusal, dimensions: Dimensions, context: ChannelHandlerContext) {
        state = .discarding
        let budget = refusal.budget?.budgetID ?? "stale"
        services.metrics.increment("tollgate_agent_quota_blocked_total{budget=\"\(budget)\"}")
        services.pipeline.record(UsageEvent(unixTime: Int64(Date().timeIntervalSince1970), dimensions: dimensions,
                                            tokens: .zero, cost: .zero, flags: .blocked))
        var headers = [("retry-after", String(refusal.retryAfterSeconds)), ("x-tollgate-budget", budget)]
        if let owner = refusal.budget?.owner, !owner.isEmpty {
            headers.append(("x-tollgate-budget-owner", String(owner.unicodeScalars.filter { $0.isASCII && $0.value >= 0x20 && $0.value != 0x7F }.prefix(200))))
        }
        respondWithError(ProviderErrorResponse(status: .tooManyRequests, code: "budget_exceeded", message: refusal.message,
                                               provider: exchange.request?.provider, headers: headers),
                         keepAlive: exchange.head.isKeepAlive, context: context)
        state = .idle
    }

    /// Sends the exchange's request on a pooled connection if one is idle, else a new one.
    private func sendUpstream(_ exchange: Exchange, context: ChannelHandlerContext, allowReuse: Bool = true) {
        let request = UpstreamRequest.encode(exchange.head, target: exchange.route.upstreamURI, host: exchange.route.upstream.hostHeader,
                                             body: exchange.body, allocator: context.channel.allocator)
        let isHEAD = exchange.head.method == .HEAD
        let send: (Channel, UpstreamResponseRelay, Bool) -> Void = { [self] channel, relay, reused in
            guard case .forwarding(let current) = state, current === exchange else {
                channel.close(promise: nil)  // the client left while we connected
                return
            }
            exchange.upstream = channel
            exchange.reusedConnection = reused
            relay.attach(self, isHEAD: isHEAD)
            channel.writeAndFlush(request, promise: nil)
        }
        while allowReuse, let channel = services.upstreamPool.take(exchange.route.upstream, on: context.eventLoop) {
            guard let relay = try? channel.pipeline.syncOperations.handler(type: UpstreamResponseRelay.self), relay.isReusable else {
                channel.close(promise: nil)
                continue
            }
            services.metrics.increment("tollgate_agent_upstream_connections_reused_total")
            send(channel, relay, true)
            return
        }
        services.metrics.increment("tollgate_agent_upstream_connections_opened_total")
        let relay = UpstreamResponseRelay(owner: self)
        UpstreamConnector.connect(to: exchange.route.upstream, on: context.eventLoop, services: services, relay: relay)
            .whenComplete { [self] result in
                switch result {
                case .success(let channel): send(channel, relay, false)
                case .failure(let error): upstreamDidFail(error)
                }
            }
    }

    func upstreamDidReceive(_ event: HTTPResponseFramer.Event) {
        guard let context, case .forwarding(let exchange) = state else { return }
        switch event {
        case .head(let head):
            exchange.responseStatus = head.status
            exchange.upstreamKeepAlive = head.keepAlive
            exchange.tap = exchange.request?.makeTap(contentType: head.value(of: "content-type"))
            exchange.clientFraming = switch head.framing {
            case .none: .length
            case .length where exchange.usageFilter == nil: .length
            default: exchange.head.version.major == 1 && exchange.head.version.minor == 0 ? .close : .chunked
            }
            var bytes = context.channel.allocator.buffer(capacity: head.bytes.readableBytes + 32)
            head.write(to: &bytes, version: exchange.head.version, chunked: exchange.clientFraming == .chunked,
                       close: !exchange.head.isKeepAlive || exchange.clientFraming == .close)
            context.write(wrapOutboundOut(bytes), promise: nil)
        case .body(let payload):
            exchange.tap?.consume(payload.readableBytesView)
            if exchange.usageFilter != nil {
                writeBody(exchange.usageFilter!.filter(payload.readableBytesView), framing: exchange.clientFraming, context: context)
            } else {
                writeBody(payload, framing: exchange.clientFraming, context: context)
            }
        case .end:
            state = .idle
            release(exchange)
            var last = context.channel.allocator.buffer(capacity: 0)
            if let rest = exchange.usageFilter?.finish(), !rest.isEmpty {
                writeBody(rest, framing: exchange.clientFraming, context: context)
            }
            if exchange.clientFraming == .chunked { last.writeStaticString("0\r\n\r\n") }
            let keepAlive = exchange.head.isKeepAlive && exchange.clientFraming != .close
            context.writeAndFlush(wrapOutboundOut(last)).whenComplete { _ in
                if !keepAlive { context.close(promise: nil) }
            }
            // Metered right after the client has the end, in the same turn of the event
            // loop, so metering is not part of the response's latency.
            complete(exchange)
            if keepAlive { servePipelined(context: context) }
        }
    }

    private func writeBody(_ payload: ByteBuffer, framing: ClientFraming, context: ChannelHandlerContext) {
        guard payload.readableBytes > 0 else { return }
        guard framing == .chunked else {
            context.write(wrapOutboundOut(payload), promise: nil)
            return
        }
        var chunk = context.channel.allocator.buffer(capacity: payload.readableBytes + 20)
        chunk.writeString(String(payload.readableBytes, radix: 16))
        chunk.writeStaticString("\r\n")
        chunk.writeImmutableBuffer(payload)
        chunk.writeStaticString("\r\n")
        context.write(wrapOutboundOut(chunk), promise: nil)
    }

    private func writeBody(_ bytes: [UInt8], framing: ClientFraming, context: ChannelHandlerContext) {
        guard !bytes.isEmpty else { return }
        writeBody(context.channel.allocator.buffer(bytes: bytes), framing: framing, context: context)
    }

    /// The provider's read is over: what it delivered goes to the client now, in one write
    /// however many parts it was (head, body and end of a short response usually arrive
    /// together). Nothing waits longer than the read that brought it.
    func upstreamReadComplete() {
        context?.flush()
    }

    func upstreamDidFail(_ error: Error) {
        guard let context, case .forwarding(let exchange) = state else { return }
        exchange.upstream?.close(promise: nil)
        if exchange.reusedConnection && exchange.responseStatus == nil {
            // The provider closed an idle connection as we reused it; nothing was answered,
            // so the request goes again on a fresh connection.
            services.metrics.increment("tollgate_agent_upstream_stale_retries_total")
            exchange.upstream = nil
            exchange.reusedConnection = false
            sendUpstream(exchange, context: context, allowReuse: false)
            return
        }
        state = .idle
        services.metrics.increment("tollgate_agent_upstream_failures_total")
        services.logger.warning("upstream \(exchange.route.upstream) failed: \(error)")
        complete(exchange)
        if exchange.responseStatus == nil {
            // Nothing reached the client yet, so it can still get a proper error response.
            let timedOut = error is UpstreamTimeoutError
            respondWithError(ProviderErrorResponse(
                status: timedOut ? .gatewayTimeout : .badGateway, code: timedOut ? "upstream_timeout" : "upstream_unreachable",
                message: "Tollgate agent could not complete the request to \(exchange.route.upstream): \(error)",
                provider: exchange.route.provider),
                keepAlive: false, context: context)
        } else {
            // Mid-response: the only honest signal left is to cut the connection; the
            // provider has billed what it sent, and `complete` metered what we saw.
            context.close(promise: nil)
        }
    }

    // MARK: Metering

    /// Returns a cleanly finished keep-alive connection to the pool; closes anything else.
    private func release(_ exchange: Exchange) {
        guard let channel = exchange.upstream else { return }
        if exchange.upstreamKeepAlive, let relay = try? channel.pipeline.syncOperations.handler(type: UpstreamResponseRelay.self), relay.isReusable {
            relay.detach()
            // It may have been paused for a slow client; an idle pooled connection must
            // read, or it would never notice the provider closing it.
            try? channel.syncOptions?.setOption(.autoRead, value: true)
            services.upstreamPool.put(channel, for: exchange.route.upstream)
        } else {
            channel.close(promise: nil)
        }
    }

    /// Every forwarded exchange ends here exactly once: metered (when it carries usage and
    /// a response began), timed, and no longer in flight.
    private func complete(_ exchange: Exchange) {
        services.inFlight.end()
        let seconds = Double((NIODeadline.now() - exchange.startedAt).nanoseconds) / 1e9
        services.metrics.observe("tollgate_agent_request_duration_seconds{provider=\"\(exchange.route.provider?.rawValue ?? "none")\"}", seconds)
        meter(exchange)
    }

    private func meter(_ exchange: Exchange) {
        guard let request = exchange.request, let caller = exchange.caller, let status = exchange.responseStatus else {
            // Never answered: nothing was spent, so the reservation simply lapses.
            services.gate?.book.settle(exchange.reservation, spent: nil)
            exchange.reservation = .none
            return
        }
        let completed = CompletedExchange(
            request: request,
            attribution: caller.attribution,
            keyID: caller.keyID,
            keyHint: caller.keyHint,
            status: status,
            tap: exchange.tap?.finish() ?? TapResult(),
            requestBodyBytes: exchange.body.readableBytes,
            completedAt: Date())
        let outcome = services.meter.meter(completed)
        services.pipeline.record(outcome.event)
        services.gate?.book.settle(exchange.reservation, spent: UsageCounters(outcome.event))
        exchange.reservation = .none
        services.metrics.increment("tollgate_agent_requests_total{provider=\"\(request.provider.rawValue)\",endpoint=\"\(request.endpoint.rawValue)\"}")
        for problem in outcome.problems {
            services.metrics.increment("tollgate_agent_usage_problems_total{reason=\"\(problem)\"}")
        }
        if outcome.event.flags.contains(.estimated) { services.metrics.increment("tollgate_agent_estimated_requests_total") }
        if outcome.event.flags.contains(.unpriced) {
            services.metrics.increment("tollgate_agent_unpriced_requests_total")
            services.logger.warning("no price for model \(outcome.event.dimensions.model); charged at the fallback rate")
        }
    }

    // MARK: Local responses

    private func respond(status: HTTPResponseStatus, contentType: String, body: String, keepAlive: Bool, context: ChannelHandlerContext) {
        respond(status: status, contentType: contentType, body: context.channel.allocator.buffer(string: body), keepAlive: keepAlive, context: context)
    }
}
