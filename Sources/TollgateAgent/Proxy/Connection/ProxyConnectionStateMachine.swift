import NIOCore
import TollgateHTTP1
import TollgateProviders

/// One client connection of the proxy as a value: the request parts and the provider's
/// response events go in, what to do comes out. `ProxyHandler` feeds it and performs its
/// actions; everything that needs the channel, the pool or the meter stays there.
///
/// Requests are served one at a time and in order. A client may pipeline: parts that arrive
/// while a request is forwarded wait here, reading pauses, and they are served once the
/// response ended.
struct ProxyConnectionStateMachine {
    enum State {
        /// Between requests.
        case idle
        /// A head was routed; the body is being collected, because the request is classified
        /// and gated on the whole body before anything goes upstream.
        case receiving(ProxyExchange)
        /// Already answered (an error or a local endpoint); the rest of the request is skipped.
        case discarding
        /// Sent upstream; the response, once it begins, streams to the client.
        case forwarding(ProxyExchange)
    }

    /// A response the agent writes itself, instead of the provider's.
    enum LocalAnswer {
        case health
        case routeRefused(ProviderRoute.Failure)
        /// Over `limits.max_request_body_bytes`.
        case bodyTooLarge
        /// The body would take the bytes all connections buffer over `limits.max_buffered_bytes`.
        case bufferFull(Provider?)
        /// The upload stalled or took too long (`RequestDeadlines`): 408.
        case timedOut(RequestDeadlines.Expiry, Provider?)
        /// The framer refused the request (400, 431, 501, 505).
        case malformed(HTTPRequestFramingError)
    }

    enum RequestAction {
        case none
        /// A pipelined request's part is waiting: stop reading the client until it is served.
        case pauseReading
        /// The client asked whether to send its body (`ContinueExpectation`).
        case sendContinue
        /// Answer locally; without keep-alive the connection closes once that is sent.
        case answer(LocalAnswer, keepAlive: Bool)
        /// The request is complete: classify, identify and gate it, then report
        /// `exchangeAdmitted()` or `exchangeRefused()`.
        case admit(ProxyExchange)
        /// Close the connection: the client's bytes stopped making sense while a response
        /// is under way, so no error response can be fitted in.
        case close
        /// Parts in an order the framer never produces: a bug in our own states.
        case unexpectedPart
    }

    /// What a deadline check (`deadlineCheckDue`) asks for.
    enum DeadlineAction {
        case none
        /// Nothing has expired yet: check again then.
        case checkAgain(at: NIODeadline)
        /// The request is given up on: answer it (408) and close.
        case answer(LocalAnswer)
        /// The request was answered already (the rest of it was being skipped): close.
        case close(RequestDeadlines.Expiry)
    }

    enum ResponseAction {
        case none
        case writeHead(HTTPResponseHeadBytes, version: HTTP1Version, chunked: Bool, close: Bool)
        /// The provider's payload, as it arrived (a view into the upstream's read buffer).
        case writeBody(ByteBuffer, chunked: Bool)
        /// What `InjectedUsageChunkFilter` let through of the payload.
        case writeFilteredBody([UInt8], chunked: Bool)
        /// The response ended: `trailing` is what the filter still held; with keep-alive the
        /// connection serves what was pipelined meanwhile, else it closes.
        case finish(ProxyExchange, trailing: [UInt8], keepAlive: Bool)
    }

    enum FailureAction {
        case none
        /// A pooled connection failed before any response: the provider never saw the
        /// request, so it goes again, once, on a fresh connection. `failed` is to be closed.
        case retry(ProxyExchange, failed: Channel?)
        /// Nothing reached the client yet, so it can still get a proper error response.
        case answer(ProxyExchange)
        /// Mid-response: the only honest signal left is to cut the client's connection.
        case cut(ProxyExchange)
    }

    private(set) var state = State.idle
    private var router: ProxyRouter
    private let maxRequestBodyBytes: Int
    private let bodyBudget: RequestBodyBudget?
    private var deadlines: RequestDeadlines
    private let allocator = ByteBufferAllocator()
    /// Parts of requests the client pipelined behind the one being forwarded.
    private var pipelined = CircularBuffer<HTTPRequestFramer.Part>()
    private var readingPaused = false
    /// The complete request waits on its admission (a lease answer, `QuotaGate.LeaseWait`):
    /// what the client pipelines meanwhile waits as it does behind a forwarded request.
    private var admissionDeferred = false

    /// `bodyBudget` is shared by every connection (nil: uncapped); `deadlines` time each
    /// request's upload.
    init(router: ProxyRouter, maxRequestBodyBytes: Int, bodyBudget: RequestBodyBudget? = nil,
         deadlines: RequestDeadlines = RequestDeadlines(bodyIdle: .seconds(10), request: .seconds(60))) {
        self.router = router
        self.maxRequestBodyBytes = maxRequestBodyBytes
        self.bodyBudget = bodyBudget
        self.deadlines = deadlines
    }

    /// Set once `ConnectHandler` intercepted a provider host: every later request goes there.
    var origin: InterceptedOrigin? {
        get { router.origin }
        set { router.origin = newValue }
    }

    // MARK: The client's side

    mutating func requestPartReceived(_ part: HTTPRequestFramer.Part) -> RequestAction {
        if admissionDeferred {
            pipelined.append(part)
            if readingPaused { return .none }
            readingPaused = true
            return .pauseReading
        }
        switch (part, state) {
        case (_, .forwarding):
            pipelined.append(part)
            if readingPaused { return .none }
            readingPaused = true
            return .pauseReading
        case (.head(let head), .idle):
            return requestHeadReceived(head)
        case (.body(var chunk), .receiving(let exchange)):
            guard exchange.body.readableBytes + chunk.readableBytes <= maxRequestBodyBytes else {
                // The rest of the body may still be arriving, so the connection cannot be reused.
                return answerAndClose(.bodyTooLarge)
            }
            guard exchange.appendBody(&chunk) else {
                return answerAndClose(.bufferFull(exchange.route.provider))
            }
            return .none
        case (.end, .receiving(let exchange)):
            deadlines.disarm()
            return .admit(exchange)
        case (.body, .discarding):
            return .none
        case (.end, .discarding):
            deadlines.disarm()
            state = .idle
            return .none
        case (.head, .receiving), (.head, .discarding), (.body, .idle), (.end, .idle):
            return .unexpectedPart
        }
    }

    private mutating func requestHeadReceived(_ head: HTTPRequestHeadBytes) -> RequestAction {
        let route: ProviderRoute
        switch router.destination(of: head) {
        case .health:
            state = .discarding
            return .answer(.health, keepAlive: head.isKeepAlive)
        case .refused(let failure):
            state = .discarding
            return .answer(.routeRefused(failure), keepAlive: head.isKeepAlive)
        case .provider(let resolved):
            route = resolved
        }
        var capacity = 0
        if case .length(let length) = head.framing {
            guard length <= maxRequestBodyBytes else {
                return answerAndClose(.bodyTooLarge)
            }
            capacity = min(length, 1 << 20)
        }
        state = .receiving(ProxyExchange(head: head, route: route, body: allocator.buffer(capacity: capacity), bodyBudget: bodyBudget))
        return ContinueExpectation.expectsContinue(head) ? .sendContinue : .none
    }

    /// The framer refused what the client sent.
    mutating func requestFramingFailed(_ error: HTTPRequestFramingError) -> RequestAction {
        if case .forwarding = state { return .close }
        return answerAndClose(.malformed(error))
    }

    /// Answered, and the connection closes once that is sent: the rest of the request is
    /// skipped and no longer timed (it was refused once, and is counted once).
    private mutating func answerAndClose(_ answer: LocalAnswer) -> RequestAction {
        state = .discarding
        deadlines.disarm()
        return .answer(answer, keepAlive: false)
    }

    // MARK: Deadlines on the upload

    /// Whether a request is part-way in: its head came, its end has not.
    var awaitsRequestBytes: Bool {
        if admissionDeferred { return false }
        return switch state {
        case .receiving, .discarding: true
        case .idle, .forwarding: false
        }
    }

    /// A read ended with the request still incomplete (`awaitsRequestBytes`). Returns when
    /// to check the deadlines if this started them; nil when a check is already due.
    mutating func requestBytesArrived(at now: NIODeadline) -> NIODeadline? {
        deadlines.progressed(at: now)
    }

    /// A scheduled deadline check came due.
    mutating func deadlineCheckDue(at now: NIODeadline) -> DeadlineAction {
        guard awaitsRequestBytes, let next = deadlines.nextCheck else { return .none }
        guard let expiry = deadlines.expired(at: now) else { return .checkAgain(at: next) }
        deadlines.disarm()
        if case .receiving(let exchange) = state {
            // The request never went upstream (it is forwarded only once complete), so it
            // can still be answered; the rest of it is not waited for.
            state = .discarding
            return .answer(.timedOut(expiry, exchange.route.provider))
        }
        return .close(expiry)
    }

    /// The gate let the completed request through: it is forwarded now.
    mutating func exchangeAdmitted() {
        guard case .receiving(let exchange) = state else { preconditionFailure("admitted an exchange that was not received") }
        admissionDeferred = false
        state = .forwarding(exchange)
    }

    /// The gate refused it, and the refusal was answered: the next request may come.
    mutating func exchangeRefused() {
        admissionDeferred = false
        state = .idle
    }

    /// The gate asked the request to wait (for a lease answer); `exchangeAdmitted()` or
    /// `exchangeRefused()` follows once it is decided.
    mutating func deferAdmission() {
        admissionDeferred = true
    }

    /// Whether `exchange` still waits on its admission (false once the client left).
    func awaitsAdmission(of exchange: ProxyExchange) -> Bool {
        guard admissionDeferred, case .receiving(let current) = state else { return false }
        return current === exchange
    }

    /// The next part the client pipelined, while no request is forwarded.
    mutating func nextPipelinedPart() -> HTTPRequestFramer.Part? {
        if case .forwarding = state { return nil }
        return pipelined.popFirst()
    }

    /// Whether reading resumes: once every pipelined part was served and no request is
    /// forwarded (while one is, the connection stays paused until its response ended).
    mutating func pipelineDrained() -> Bool {
        guard readingPaused, pipelined.isEmpty else { return false }
        if case .forwarding = state { return false }
        readingPaused = false
        return true
    }

    /// The client left. Returns the exchange it abandoned mid-forwarding, if any: whatever
    /// the provider already sent was billed, so it is still metered.
    /// A request still being received is dropped here, and with it its buffered body.
    mutating func clientClosed() -> ProxyExchange? {
        defer {
            state = .idle
            admissionDeferred = false
            pipelined.removeAll()
            deadlines.disarm()
        }
        guard case .forwarding(let exchange) = state else { return nil }
        return exchange
    }

    /// The client was silent for `limits.client_idle_timeout_ms`: it is closed only between
    /// requests, never while it waits on a slow provider.
    var closesOnIdleTimeout: Bool {
        if case .idle = state { return true }
        return false
    }

    /// The exchange being forwarded, if any.
    var forwardingExchange: ProxyExchange? {
        if case .forwarding(let exchange) = state { return exchange }
        return nil
    }

    /// The upstream connection of the exchange being forwarded (for backpressure).
    var forwardingUpstream: Channel? {
        if case .forwarding(let exchange) = state { return exchange.upstream }
        return nil
    }

    // MARK: The provider's side

    /// A connection for `exchange` is ready. False when the exchange is no longer the one
    /// forwarded (the client left while it connected): then the connection is not used.
    mutating func upstreamConnected(_ channel: Channel, reused: Bool, for exchange: ProxyExchange) -> Bool {
        guard case .forwarding(let current) = state, current === exchange else { return false }
        exchange.upstream = channel
        exchange.reusedConnection = reused
        return true
    }

    mutating func responseReceived(_ event: HTTPResponseFramer.Event) -> ResponseAction {
        guard case .forwarding(let exchange) = state else { return .none }
        switch event {
        case .head(let head):
            exchange.responseStatus = head.status
            exchange.dropBody()
            exchange.upstreamKeepAlive = head.keepAlive
            exchange.tap = exchange.request?.makeTap(contentType: head.value(of: "content-type"))
            exchange.clientFraming = switch head.framing {
            case .none: .length
            case .length where exchange.usageFilter == nil: .length
            default: exchange.head.version == .http1_0 ? .close : .chunked
            }
            return .writeHead(head, version: exchange.head.version, chunked: exchange.clientFraming == .chunked,
                              close: !exchange.clientKeepAlive)
        case .body(let payload):
            exchange.tap?.consume(payload.readableBytesView)
            let chunked = exchange.clientFraming == .chunked
            if exchange.usageFilter != nil {
                return .writeFilteredBody(exchange.usageFilter!.filter(payload.readableBytesView), chunked: chunked)
            }
            return .writeBody(payload, chunked: chunked)
        case .end:
            state = .idle
            exchange.endedCleanly = true
            return .finish(exchange, trailing: exchange.usageFilter?.finish() ?? [], keepAlive: exchange.clientKeepAlive)
        }
    }

    /// The upstream connection failed (refused, reset, timed out, or sent what is not HTTP).
    mutating func upstreamFailed() -> FailureAction {
        guard case .forwarding(let exchange) = state else { return .none }
        if exchange.reusedConnection && exchange.responseStatus == nil {
            let failed = exchange.upstream
            exchange.upstream = nil
            exchange.reusedConnection = false
            exchange.requestSent = false  // the provider had closed the connection: it never saw it
            return .retry(exchange, failed: failed)
        }
        state = .idle
        return exchange.responseStatus == nil ? .answer(exchange) : .cut(exchange)
    }
}
