import NIOCore
import NIOHTTP1
import TollgateHTTP1

/// Serves one client connection: reads a request, forwards it to the provider, streams
/// the response back as it arrives, and meters the exchange when the response ends.
/// Requests come in base-URL form (`/openai/v1/…`), absolute form (HTTP_PROXY) or, after
/// `ConnectHandler` intercepted a provider host, as that host's own paths.
///
/// A thin shell: `ProxyConnectionStateMachine` decides, this handler performs what it says
/// on the channel, and the steps around it are their own types (`ExchangeAdmission`,
/// `UpstreamCheckout`, `ExchangeCompletion`). Both directions stay bytes: requests arrive
/// framed by `HTTPRequestFramer` and go on as `UpstreamRequest` writes them;
/// `HTTPResponseFramer` reads the provider's side (`UpstreamResponseRelay`), and the
/// response is passed on without being decoded into parts and encoded again.
final class ProxyHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestFramer.Part
    typealias OutboundOut = ByteBuffer

    private let services: ProxyServices
    private var machine: ProxyConnectionStateMachine
    private let admission: ExchangeAdmission
    private let upstreams: UpstreamCheckout
    private let completion: ExchangeCompletion
    private var context: ChannelHandlerContext?
    private var sawRequestHead = false
    /// One deadline check at a time is scheduled; it reschedules itself while needed.
    private var deadlineCheckPending = false
    /// Answered mid-request and closing: the rest of the request is skipped, not timed.
    private var closing = false

    init(services: ProxyServices) {
        self.services = services
        machine = ProxyConnectionStateMachine(router: ProxyRouter(upstreams: services.config.upstreams, intercept: services.config.intercept),
                                              maxRequestBodyBytes: services.config.maxRequestBodyBytes,
                                              bodyBudget: services.bodyBudget,
                                              deadlines: RequestDeadlines(bodyIdle: TimeAmount(services.config.bodyIdleTimeout),
                                                                          request: TimeAmount(services.config.requestTimeout)))
        admission = ExchangeAdmission(services: services)
        upstreams = UpstreamCheckout(services: services)
        completion = ExchangeCompletion(services: services)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        armHeaderTimeout(context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// Slowloris defence: a connection must deliver its first request head in time (and,
    /// once intercepted, its first request inside the TLS connection).
    private func armHeaderTimeout(context: ChannelHandlerContext) {
        sawRequestHead = false
        let timeout = TimeAmount(services.config.headerTimeout)
        let armedFor = machine.origin
        context.eventLoop.scheduleTask(in: timeout) { [weak self] in
            guard let self, !self.sawRequestHead, self.machine.origin == armedFor, let context = self.context else { return }
            self.services.metrics.rejectedRequests("header_timeout").increment()
            context.close(promise: nil)
        }
    }

    /// Idle keep-alive clients are closed; a client waiting on a slow provider is not idle.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let intercepted = event as? InterceptedOrigin {
            machine.origin = intercepted
            armHeaderTimeout(context: context)
            return
        }
        guard event is IdleStateHandler.IdleStateEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        if machine.closesOnIdleTimeout {
            services.metrics.idleClientCloses.increment()
            context.close(promise: nil)
        }
    }

    // MARK: The client's side

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if case .head = part { sawRequestHead = true }
        perform(machine.requestPartReceived(part), context: context)
    }

    /// A read ended part-way through a request: its upload is timed from now on
    /// (`RequestDeadlines`). A request that came whole in one read never gets here.
    func channelReadComplete(context: ChannelHandlerContext) {
        if machine.awaitsRequestBytes && !closing { requestBytesArrived(context: context) }
        context.fireChannelReadComplete()
    }

    private func requestBytesArrived(context: ChannelHandlerContext) {
        guard let check = machine.requestBytesArrived(at: context.eventLoop.now) else { return }
        scheduleDeadlineCheck(at: check, context: context)
    }

    /// A check pending from an earlier request is always due before any later request's
    /// deadline, so it is left to reschedule itself rather than cancelled.
    private func scheduleDeadlineCheck(at deadline: NIODeadline, context: ChannelHandlerContext) {
        guard !deadlineCheckPending else { return }
        deadlineCheckPending = true
        context.eventLoop.scheduleTask(deadline: deadline) { [weak self] in
            guard let self else { return }
            self.deadlineCheckPending = false
            guard let context = self.context else { return }
            self.deadlineCheckDue(context: context)
        }
    }

    private func deadlineCheckDue(context: ChannelHandlerContext) {
        switch machine.deadlineCheckDue(at: context.eventLoop.now) {
        case .none:
            break
        case .checkAgain(let next):
            scheduleDeadlineCheck(at: next, context: context)
        case .answer(let answer):
            self.answer(answer, keepAlive: false, context: context)
        case .close(let expiry):
            services.metrics.rejectedRequests(expiry.rejectionReason).increment()
            context.close(promise: nil)
        }
    }

    /// A request the framer refused: the error's status (400, 431 for oversized heads…)
    /// unless a response is under way, then the connection closes.
    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard let framingError = error as? HTTPRequestFramingError else {
            context.fireErrorCaught(error)
            return
        }
        services.metrics.rejectedRequests("malformed_request").increment()
        perform(machine.requestFramingFailed(framingError), context: context)
    }

    /// Backpressure: while the client cannot take more, the provider's connection is not
    /// read, so a slow client slows the provider down instead of filling the agent's memory.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if let upstream = machine.forwardingUpstream {
            try? upstream.syncOptions?.setOption(.autoRead, value: context.channel.isWritable)
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let exchange = machine.clientClosed() {
            // The client left mid-exchange. Whatever the provider already sent was billed,
            // so it is metered (estimated: its final usage never came), and the upstream is
            // cut at once so the provider stops generating what nobody will read.
            services.metrics.clientDisconnects.increment()
            upstreams.abandon(exchange)
            completion.complete(exchange)
        }
        context.fireChannelInactive()
    }

    private func perform(_ action: ProxyConnectionStateMachine.RequestAction, context: ChannelHandlerContext) {
        switch action {
        case .none:
            break
        case .pauseReading:
            try? context.channel.syncOptions?.setOption(.autoRead, value: false)
        case .sendContinue:
            context.writeAndFlush(wrapOutboundOut(ContinueExpectation.interimResponse(allocator: context.channel.allocator)), promise: nil)
        case .answer(let answer, let keepAlive):
            self.answer(answer, keepAlive: keepAlive, context: context)
        case .admit(let exchange):
            admitted(admission.admit(exchange, allocator: context.channel.allocator), exchange, context: context)
        case .close:
            context.close(promise: nil)
        case .unexpectedPart:
            services.logger.error("proxy received an unexpected request part; closing the connection")
            context.close(promise: nil)
        }
    }

    private func admitted(_ decision: ExchangeAdmission.Decision, _ exchange: ProxyExchange, context: ChannelHandlerContext) {
        switch decision {
        case .forward:
            machine.exchangeAdmitted()
            services.inFlight.begin()
            sendUpstream(exchange, context: context)
        case .refuse(let response):
            let waited = machine.awaitsAdmission(of: exchange)
            machine.exchangeRefused()
            respondWithError(response, keepAlive: exchange.head.isKeepAlive, context: context)
            // What the client pipelined while this one waited is served now.
            if waited && exchange.head.isKeepAlive { servePipelined(context: context) }
        case .wait(let wait, let deadline):
            machine.deferAdmission()
            awaitLeaseAnswer(wait, until: deadline, exchange, context: context)
        }
    }

    /// Checks every few milliseconds whether the lease answer came (the shipper's thread
    /// receives it; a round trip on a LAN is a millisecond or two), then decides again.
    private func awaitLeaseAnswer(_ wait: QuotaGate.LeaseWait, until deadline: NIODeadline, _ exchange: ProxyExchange,
                                  context: ChannelHandlerContext) {
        context.eventLoop.scheduleTask(in: .milliseconds(2)) { [weak self] in
            guard let self, let context = self.context, self.machine.awaitsAdmission(of: exchange) else { return }
            guard self.admission.answered(wait) || NIODeadline.now() >= deadline else {
                self.awaitLeaseAnswer(wait, until: deadline, exchange, context: context)
                return
            }
            self.admitted(self.admission.readmit(exchange), exchange, context: context)
        }
    }

    private func answer(_ answer: ProxyConnectionStateMachine.LocalAnswer, keepAlive: Bool, context: ChannelHandlerContext) {
        switch answer {
        case .health:
            // Still 200: the agent is alive and proxying; the body says what is wrong.
            let body = services.pipeline.spoolProblem.map { "degraded: \($0)\n" } ?? "ok\n"
            respond(status: .ok, contentType: "text/plain", body: context.channel.allocator.buffer(string: body),
                    keepAlive: keepAlive, context: context)
        case .routeRefused(let failure):
            services.metrics.rejectedRequests(failure.rejectionReason).increment()
            respondWithError(failure.errorResponse, keepAlive: keepAlive, context: context)
        case .bodyTooLarge:
            services.metrics.rejectedRequests("body_too_large").increment()
            respondMidRequest(ProviderErrorResponse(
                status: .payloadTooLarge, code: "request_too_large",
                message: "Tollgate agent: request body exceeds limits.max_request_body_bytes (\(services.config.maxRequestBodyBytes) bytes)"),
                context: context)
        case .bufferFull(let provider):
            services.metrics.rejectedRequests("buffer").increment()
            respondMidRequest(ProviderErrorResponse(
                status: .serviceUnavailable, code: "agent_busy",
                message: "Tollgate agent is buffering limits.max_buffered_bytes (\(services.config.maxBufferedBytes) bytes) of request bodies across its connections; retry shortly, or raise limits.max_buffered_bytes",
                provider: provider, headers: [("retry-after", "1")]),
                context: context)
        case .timedOut(let expiry, let provider):
            services.metrics.rejectedRequests(expiry.rejectionReason).increment()
            let message = switch expiry {
            case .bodyIdle:
                "Tollgate agent: the request body stopped arriving for limits.body_idle_timeout_ms (\(services.config.bodyIdleTimeout.wholeMilliseconds) ms); send the body without pauses, or raise limits.body_idle_timeout_ms"
            case .request:
                "Tollgate agent: the request was not complete within limits.request_timeout_ms (\(services.config.requestTimeout.wholeMilliseconds) ms) of its head; send it faster, or raise limits.request_timeout_ms"
            }
            respondMidRequest(ProviderErrorResponse(status: .requestTimeout, code: "request_timeout", message: message, provider: provider),
                              context: context)
        case .malformed(let error):
            respondWithError(ProviderErrorResponse(
                status: HTTPResponseStatus(statusCode: error.status), code: error.code,
                message: "Tollgate agent refused the request: \(error)"),
                keepAlive: keepAlive, context: context)
        }
    }

    /// Long enough for a client mid-upload to notice the answer (curl checks between writes).
    static let lingerAfterRefusal = TimeAmount.seconds(2)

    /// Answers a request whose body may still be arriving, then stops writing and skips the
    /// rest for a moment before closing: closing with the client's bytes unread would reset
    /// the connection, and a reset can destroy the answer before the client reads it.
    private func respondMidRequest(_ error: ProviderErrorResponse, context: ChannelHandlerContext) {
        closing = true
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(LocalResponse.closing(error, allocator: channel.allocator))).whenComplete { _ in
            channel.close(mode: .output).whenFailure { _ in channel.close(promise: nil) }
        }
        channel.eventLoop.scheduleTask(in: Self.lingerAfterRefusal) {
            channel.close(promise: nil)
        }
    }

    /// The response ended on a keep-alive connection: serve what the client pipelined
    /// meanwhile, then read again.
    private func servePipelined(context: ChannelHandlerContext) {
        while let part = machine.nextPipelinedPart() {
            perform(machine.requestPartReceived(part), context: context)
        }
        if machine.pipelineDrained() {
            try? context.channel.syncOptions?.setOption(.autoRead, value: true)
        }
        if machine.awaitsRequestBytes && !closing { requestBytesArrived(context: context) }
    }

    // MARK: The provider's side

    /// Sends the exchange's request on a pooled connection if one is idle, else a new one.
    private func sendUpstream(_ exchange: ProxyExchange, context: ChannelHandlerContext, allowReuse: Bool = true) {
        let request = UpstreamRequest.encode(exchange.head, target: exchange.route.upstreamURI, host: exchange.route.upstream.hostHeader,
                                             body: exchange.body, allocator: context.channel.allocator)
        if allowReuse, let (channel, relay) = upstreams.pooledConnection(to: exchange.route.upstream, on: context.eventLoop) {
            send(request, for: exchange, on: channel, relay: relay, reused: true)
            return
        }
        let relay = UpstreamResponseRelay(owner: self)
        upstreams.open(to: exchange.route.upstream, on: context.eventLoop, relay: relay).whenComplete { [self] result in
            switch result {
            case .success(let channel): send(request, for: exchange, on: channel, relay: relay, reused: false)
            case .failure(let error): upstreamDidFail(error)
            }
        }
    }

    private func send(_ request: ByteBuffer, for exchange: ProxyExchange, on channel: Channel, relay: UpstreamResponseRelay, reused: Bool) {
        guard machine.upstreamConnected(channel, reused: reused, for: exchange) else {
            channel.close(promise: nil)  // the client left while we connected
            return
        }
        relay.attach(self, isHEAD: exchange.head.method == .HEAD)
        exchange.requestSent = true
        channel.writeAndFlush(request, promise: nil)
    }

    func upstreamDidReceive(_ event: HTTPResponseFramer.Event) {
        guard let context else { return }
        switch machine.responseReceived(event) {
        case .none:
            break
        case .writeHead(let head, let version, let chunked, let close):
            var bytes = context.channel.allocator.buffer(capacity: head.bytes.readableBytes + 32)
            // A routed request's answer says what was asked for: the body names the model served.
            let routedFrom = machine.forwardingExchange?.routedFrom
            head.write(to: &bytes, version: version, chunked: chunked, close: close,
                       extraFields: routedFrom.map { [("x-tollgate-routed-from", ExchangeAdmission.headerValue($0))] } ?? [])
            context.write(wrapOutboundOut(bytes), promise: nil)
        case .writeBody(let payload, let chunked):
            writeBody(payload, chunked: chunked, context: context)
        case .writeFilteredBody(let bytes, let chunked):
            writeBody(bytes, chunked: chunked, context: context)
        case .finish(let exchange, let trailing, let keepAlive):
            upstreams.checkIn(exchange)
            // Durable before delivered: the usage reaches the spool's event log (one write(2),
            // no fsync) before the response's last byte is flushed, so a client that has the
            // whole response is never one a `kill -9` of the agent leaves uncounted.
            completion.complete(exchange)
            writeBody(trailing, chunked: exchange.clientFraming == .chunked, context: context)
            var last = context.channel.allocator.buffer(capacity: 0)
            if exchange.clientFraming == .chunked { last.writeStaticString("0\r\n\r\n") }
            context.writeAndFlush(wrapOutboundOut(last)).whenComplete { _ in
                if !keepAlive { context.close(promise: nil) }
            }
            if keepAlive { servePipelined(context: context) }
        }
    }

    /// The provider's read is over: what it delivered goes to the client now, in one write
    /// however many parts it was (head, body and end of a short response usually arrive
    /// together). Nothing waits longer than the read that brought it.
    func upstreamReadComplete() {
        context?.flush()
    }

    func upstreamDidFail(_ error: Error) {
        guard let context else { return }
        switch machine.upstreamFailed() {
        case .none:
            break
        case .retry(let exchange, let failed):
            // The provider closed an idle connection as we reused it; nothing was answered.
            failed?.close(promise: nil)
            services.metrics.upstreamStaleRetries.increment()
            sendUpstream(exchange, context: context, allowReuse: false)
        case .answer(let exchange):
            failed(exchange, error)
            let timedOut = error is UpstreamTimeoutError
            respondWithError(ProviderErrorResponse(
                status: timedOut ? .gatewayTimeout : .badGateway, code: timedOut ? "upstream_timeout" : "upstream_unreachable",
                message: "Tollgate agent could not complete the request to \(exchange.route.upstream): \(error)",
                provider: exchange.route.provider),
                keepAlive: false, context: context)
        case .cut(let exchange):
            // The provider has billed what it sent, and `complete` metered what we saw.
            failed(exchange, error)
            context.close(promise: nil)
        }
    }

    private func failed(_ exchange: ProxyExchange, _ error: Error) {
        exchange.upstream?.close(promise: nil)
        services.metrics.upstreamFailures.increment()
        services.logger.warning("upstream \(exchange.route.upstream) failed: \(error)")
        completion.complete(exchange)
    }

    // MARK: Writing to the client

    private func writeBody(_ payload: ByteBuffer, chunked: Bool, context: ChannelHandlerContext) {
        guard payload.readableBytes > 0 else { return }
        guard chunked else {
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

    private func writeBody(_ bytes: [UInt8], chunked: Bool, context: ChannelHandlerContext) {
        guard !bytes.isEmpty else { return }
        writeBody(context.channel.allocator.buffer(bytes: bytes), chunked: chunked, context: context)
    }
}
