import NIOCore
import NIOEmbedded
import Testing
import TollgateHTTP1
@testable import TollgateAgent

/// The proxy connection's states driven with plain values: request parts and response
/// events in, actions out. No channel, no sockets, no sleeps.
@Suite struct ProxyConnectionStateMachineTests {
    typealias Machine = ProxyConnectionStateMachine

    func machine(maxRequestBodyBytes: Int = 1_024) -> Driver {
        Driver(Machine(router: ProxyRouter(upstreams: AgentConfig.Upstreams(), intercept: InterceptPolicy()),
                       maxRequestBodyBytes: maxRequestBodyBytes))
    }

    /// Holds the machine so `#expect` can call its mutating methods (a macro cannot take
    /// `inout` values).
    final class Driver {
        var machine: Machine
        init(_ machine: Machine) { self.machine = machine }

        var state: Machine.State { machine.state }
        var origin: InterceptedOrigin? {
            get { machine.origin }
            set { machine.origin = newValue }
        }
        var closesOnIdleTimeout: Bool { machine.closesOnIdleTimeout }
        func requestPartReceived(_ part: HTTPRequestFramer.Part) -> Machine.RequestAction { machine.requestPartReceived(part) }
        func requestFramingFailed(_ error: HTTPRequestFramingError) -> Machine.RequestAction { machine.requestFramingFailed(error) }
        func exchangeAdmitted() { machine.exchangeAdmitted() }
        func exchangeRefused() { machine.exchangeRefused() }
        func nextPipelinedPart() -> HTTPRequestFramer.Part? { machine.nextPipelinedPart() }
        func pipelineDrained() -> Bool { machine.pipelineDrained() }
        func clientClosed() -> ProxyExchange? { machine.clientClosed() }
        func upstreamConnected(_ channel: Channel, reused: Bool, for exchange: ProxyExchange) -> Bool {
            machine.upstreamConnected(channel, reused: reused, for: exchange)
        }
        func responseReceived(_ event: HTTPResponseFramer.Event) -> Machine.ResponseAction { machine.responseReceived(event) }
        func upstreamFailed() -> Machine.FailureAction { machine.upstreamFailed() }
    }

    /// A request head as the framer delivers it; `lines` are the request line and fields.
    func head(_ lines: String...) throws -> HTTPRequestFramer.Part {
        .head(try HTTPRequestHeadBytes(parsing: ByteBuffer(string: lines.map { $0 + "\r\n" }.joined() + "\r\n")))
    }

    func post(_ body: String, version: String = "HTTP/1.1", extra: String...) throws -> [HTTPRequestFramer.Part] {
        let fields = ["Host: api.test", "Content-Length: \(body.utf8.count)"] + extra
        let head = try HTTPRequestHeadBytes(parsing: ByteBuffer(string: "POST /openai/v1/chat/completions \(version)\r\n" + fields.map { $0 + "\r\n" }.joined() + "\r\n"))
        return [.head(head), .body(ByteBuffer(string: body)), .end]
    }

    func responseHead(_ lines: String...) throws -> HTTPResponseFramer.Event {
        .head(try HTTPResponseHeadBytes(parsing: ByteBuffer(string: lines.map { $0 + "\r\n" }.joined() + "\r\n")))
    }

    /// Feeds a whole request and admits it, as the handler does when the gate says yes.
    func forward(_ parts: [HTTPRequestFramer.Part], on machine: Driver) throws -> ProxyExchange {
        var last = Machine.RequestAction.none
        for part in parts { last = machine.requestPartReceived(part) }
        guard case .admit(let exchange) = last else { throw Unexpected(last.label) }
        machine.exchangeAdmitted()
        #expect(machine.state.label == "forwarding")
        return exchange
    }

    struct Unexpected: Error { var what: String; init(_ what: String) { self.what = what } }

    // MARK: Requests

    @Test func theHealthCheckIsAnsweredLocallyAndTheRestOfItsRequestSkipped() throws {
        let machine = machine()
        #expect(machine.requestPartReceived(try head("GET /healthz HTTP/1.1", "Host: a")).label == "answer(health, keepAlive)")
        #expect(machine.state.label == "discarding")
        #expect(machine.requestPartReceived(.end).label == "none")
        #expect(machine.state.label == "idle")
    }

    @Test func anUnroutablePathIsRefusedButTheConnectionKept() throws {
        let machine = machine()
        #expect(machine.requestPartReceived(try head("GET /nowhere HTTP/1.1", "Host: a")).label == "answer(routeRefused(unknown_route), keepAlive)")
        #expect(machine.requestPartReceived(.end).label == "none")
        #expect(machine.state.label == "idle")
    }

    @Test func aBodyIsCollectedWholeBeforeTheRequestIsAdmitted() throws {
        let machine = machine()
        #expect(machine.requestPartReceived(try head("POST /openai/v1/chat/completions HTTP/1.1", "Host: a", "Transfer-Encoding: chunked")).label == "none")
        #expect(machine.requestPartReceived(.body(ByteBuffer(string: "{\"model\":"))).label == "none")
        #expect(machine.requestPartReceived(.body(ByteBuffer(string: "\"gpt-4o\"}"))).label == "none")
        #expect(machine.state.label == "receiving")
        let action = machine.requestPartReceived(.end)
        guard case .admit(let exchange) = action else { Issue.record("expected admit, got \(action.label)"); return }
        #expect(String(buffer: exchange.body) == "{\"model\":\"gpt-4o\"}")
        #expect(exchange.route.upstreamURI == "/v1/chat/completions")
        machine.exchangeAdmitted()
        #expect(machine.state.label == "forwarding")
    }

    @Test func aDeclaredLengthOverTheLimitIsRefusedBeforeAnyBodyArrives() throws {
        let machine = machine(maxRequestBodyBytes: 10)
        let parts = try post(String(repeating: "x", count: 11))
        #expect(machine.requestPartReceived(parts[0]).label == "answer(bodyTooLarge, close)")
        #expect(machine.requestPartReceived(parts[1]).label == "none")
        #expect(machine.requestPartReceived(parts[2]).label == "none")
        #expect(machine.state.label == "idle")
    }

    @Test func aChunkedBodyIsRefusedOnceItOutgrowsTheLimit() throws {
        let machine = machine(maxRequestBodyBytes: 10)
        _ = machine.requestPartReceived(try head("POST /openai/v1/chat/completions HTTP/1.1", "Host: a", "Transfer-Encoding: chunked"))
        #expect(machine.requestPartReceived(.body(ByteBuffer(string: "123456"))).label == "none")
        #expect(machine.requestPartReceived(.body(ByteBuffer(string: "78901"))).label == "answer(bodyTooLarge, close)")
        #expect(machine.state.label == "discarding")
    }

    @Test func expectContinueIsAnsweredAtOnce() throws {
        let machine = machine()
        let parts = try post("{}", extra: "Expect: 100-continue")
        #expect(machine.requestPartReceived(parts[0]).label == "sendContinue")
        // HTTP/1.0 has no interim responses.
        let old = self.machine()
        #expect(old.requestPartReceived(try post("{}", version: "HTTP/1.0", extra: "Expect: 100-continue")[0]).label == "none")
    }

    @Test func aRefusedRequestLeavesTheConnectionReadyForTheNext() throws {
        let machine = machine()
        let parts = try post("{}")
        _ = machine.requestPartReceived(parts[0])
        _ = machine.requestPartReceived(parts[1])
        #expect(machine.requestPartReceived(parts[2]).label == "admit")
        machine.exchangeRefused()
        #expect(machine.state.label == "idle")
        _ = try forward(try post("{}"), on: machine)
    }

    @Test func whatTheFramerRefusesIsAnsweredUnlessAResponseIsUnderWay() throws {
        let machine = machine()
        #expect(machine.requestFramingFailed(.badRequestLine).label == "answer(malformed(400), close)")
        #expect(machine.requestPartReceived(.end).label == "none")
        _ = try forward(try post("{}"), on: machine)
        #expect(machine.requestFramingFailed(.badHeader).label == "close")
    }

    @Test func partsOutOfOrderCloseTheConnection() throws {
        let machine = machine()
        #expect(machine.requestPartReceived(.body(ByteBuffer(string: "x"))).label == "unexpectedPart")
        #expect(machine.requestPartReceived(.end).label == "unexpectedPart")
    }

    @Test func anInterceptedConnectionRoutesEveryPathToItsHost() throws {
        let machine = machine()
        machine.origin = InterceptedOrigin(route: .openai, upstream: UpstreamURL(scheme: "https", host: "api.openai.com", port: 443, basePath: ""))
        #expect(machine.requestPartReceived(try head("GET /healthz HTTP/1.1", "Host: api.openai.com")).label == "none")
        guard case .admit(let exchange) = machine.requestPartReceived(.end) else { Issue.record("expected admit"); return }
        #expect(exchange.route.upstream.host == "api.openai.com" && exchange.route.upstreamURI == "/healthz")
    }

    @Test func onlyAConnectionBetweenRequestsIsIdle() throws {
        let machine = machine()
        #expect(machine.closesOnIdleTimeout)
        _ = try forward(try post("{}"), on: machine)
        #expect(!machine.closesOnIdleTimeout)
    }

    // MARK: Responses

    @Test func aResponseWithALengthPassesThroughUncopied() throws {
        let machine = machine()
        let exchange = try forward(try post("{}"), on: machine)
        let head = machine.responseReceived(try responseHead("HTTP/1.1 200 OK", "Content-Length: 5"))
        #expect(head.label == "writeHead(HTTP/1.1, length, keepAlive)")
        #expect(exchange.responseStatus == 200 && exchange.upstreamKeepAlive)

        let payload = ByteBuffer(string: "hello")
        guard case .writeBody(let written, chunked: false) = machine.responseReceived(.body(payload)) else {
            Issue.record("expected the payload itself")
            return
        }
        let same = payload.withUnsafeReadableBytes { original in written.withUnsafeReadableBytes { $0.baseAddress == original.baseAddress } }
        #expect(same, "the provider's bytes go to the client without a copy")
        #expect(machine.responseReceived(.end).label == "finish(keepAlive)")
        #expect(machine.state.label == "idle")
    }

    @Test func aFilteredStreamIsChunkedAgainForHTTP11AndEndedByClosingForHTTP10() throws {
        for (version, expectedHead, expectedEnd) in [("HTTP/1.1", "writeHead(HTTP/1.1, chunked, keepAlive)", "finish(keepAlive)"),
                                                     ("HTTP/1.0", "writeHead(HTTP/1.0, length, close)", "finish(close)")] {
            let machine = machine()
            let exchange = try forward(try post("{}", version: version, extra: "Connection: keep-alive"), on: machine)
            exchange.usageFilter = InjectedUsageChunkFilter()
            #expect(machine.responseReceived(try responseHead("HTTP/1.1 200 OK", "Content-Length: 20")).label == expectedHead)
            #expect(exchange.clientFraming == (version == "HTTP/1.1" ? .chunked : .close))
            #expect(machine.responseReceived(.body(ByteBuffer(string: "data: {\"a\":1}\n\n"))).label.hasPrefix("writeFilteredBody"))
            #expect(machine.responseReceived(.end).label == expectedEnd)
        }
    }

    @Test func pipelinedRequestsWaitWhileOneIsForwardedAndReadingResumesOnceAllAreServed() throws {
        let machine = machine()
        _ = try forward(try post("{}"), on: machine)
        let second = try post("{\"n\":2}")
        #expect(machine.requestPartReceived(second[0]).label == "pauseReading")
        #expect(machine.requestPartReceived(second[1]).label == "none")
        #expect(machine.requestPartReceived(second[2]).label == "none")
        #expect(machine.nextPipelinedPart() == nil, "nothing is served while the first is forwarded")

        _ = machine.responseReceived(try responseHead("HTTP/1.1 204 No Content"))
        #expect(machine.responseReceived(.end).label == "finish(keepAlive)")
        var served: [String] = []
        while let part = machine.nextPipelinedPart() { served.append(machine.requestPartReceived(part).label) }
        #expect(served == ["none", "none", "admit"])
        machine.exchangeAdmitted()
        #expect(!machine.pipelineDrained(), "the client stays paused while the second is forwarded")

        _ = machine.responseReceived(try responseHead("HTTP/1.1 204 No Content"))
        _ = machine.responseReceived(.end)
        #expect(machine.nextPipelinedPart() == nil)
        #expect(machine.pipelineDrained())
        #expect(!machine.pipelineDrained(), "reading resumes once")
    }

    @Test func aClientThatLeavesMidStreamHandsBackItsExchangeForMetering() throws {
        let machine = machine()
        let exchange = try forward(try post("{}"), on: machine)
        _ = machine.responseReceived(try responseHead("HTTP/1.1 200 OK", "Transfer-Encoding: chunked"))
        _ = machine.responseReceived(.body(ByteBuffer(string: "data: {}\n\n")))
        #expect(machine.clientClosed() === exchange)
        #expect(machine.responseReceived(.body(ByteBuffer(string: "more"))).label == "none", "nothing more goes anywhere")
        #expect(machine.upstreamFailed().label == "none")
        #expect(machine.clientClosed() == nil, "and it is metered once")
    }

    @Test func aConnectionThatArrivesAfterTheClientLeftIsNotUsed() throws {
        let machine = machine()
        let exchange = try forward(try post("{}"), on: machine)
        _ = machine.clientClosed()
        #expect(!machine.upstreamConnected(EmbeddedChannel(), reused: false, for: exchange))
    }

    @Test func aPooledConnectionThatFailsBeforeTheHeadIsRetriedOnceOnAFreshOne() throws {
        let machine = machine()
        let exchange = try forward(try post("{}"), on: machine)
        let pooled = EmbeddedChannel()
        #expect(machine.upstreamConnected(pooled, reused: true, for: exchange))
        guard case .retry(let retried, let failed) = machine.upstreamFailed() else { Issue.record("expected a retry"); return }
        #expect(retried === exchange && failed === pooled && exchange.upstream == nil)
        #expect(machine.state.label == "forwarding")

        #expect(machine.upstreamConnected(EmbeddedChannel(), reused: false, for: exchange))
        #expect(machine.upstreamFailed().label == "answer", "a fresh connection's failure is the provider's")
        #expect(machine.state.label == "idle")
    }

    @Test func anUpstreamFailureAfterTheHeadCutsTheClient() throws {
        let machine = machine()
        let exchange = try forward(try post("{}"), on: machine)
        #expect(machine.upstreamConnected(EmbeddedChannel(), reused: true, for: exchange))
        _ = machine.responseReceived(try responseHead("HTTP/1.1 200 OK", "Content-Length: 100"))
        #expect(machine.upstreamFailed().label == "cut", "the response began: no retry, no error response")
        #expect(machine.state.label == "idle")
    }
}

// Short names for states and actions, so expectations read as one line.
extension ProxyConnectionStateMachine.State {
    var label: String {
        switch self {
        case .idle: "idle"
        case .receiving: "receiving"
        case .discarding: "discarding"
        case .forwarding: "forwarding"
        }
    }
}

extension ProxyConnectionStateMachine.RequestAction {
    var label: String {
        switch self {
        case .none: "none"
        case .pauseReading: "pauseReading"
        case .sendContinue: "sendContinue"
        case .answer(let answer, let keepAlive):
            "answer(\(answer.label), \(keepAlive ? "keepAlive" : "close"))"
        case .admit: "admit"
        case .close: "close"
        case .unexpectedPart: "unexpectedPart"
        }
    }
}

extension ProxyConnectionStateMachine.LocalAnswer {
    var label: String {
        switch self {
        case .health: "health"
        case .routeRefused(let failure): "routeRefused(\(failure.rejectionReason))"
        case .bodyTooLarge: "bodyTooLarge"
        case .bufferFull: "bufferFull"
        case .timedOut(let expiry, _): "timedOut(\(expiry.rejectionReason))"
        case .malformed(let error): "malformed(\(error.status))"
        }
    }
}

extension ProxyConnectionStateMachine.DeadlineAction {
    var label: String {
        switch self {
        case .none: "none"
        case .checkAgain(let next): "checkAgain(\(next.uptimeNanoseconds / 1_000_000) ms)"
        case .answer(let answer): "answer(\(answer.label))"
        case .close(let expiry): "close(\(expiry.rejectionReason))"
        }
    }
}

extension ProxyConnectionStateMachine.ResponseAction {
    var label: String {
        switch self {
        case .none: "none"
        case .writeHead(_, let version, let chunked, let close):
            "writeHead(\(version), \(chunked ? "chunked" : "length"), \(close ? "close" : "keepAlive"))"
        case .writeBody(_, let chunked): "writeBody(\(chunked ? "chunked" : "raw"))"
        case .writeFilteredBody(_, let chunked): "writeFilteredBody(\(chunked ? "chunked" : "raw"))"
        case .finish(_, _, let keepAlive): "finish(\(keepAlive ? "keepAlive" : "close"))"
        }
    }
}

extension ProxyConnectionStateMachine.FailureAction {
    var label: String {
        switch self {
        case .none: "none"
        case .retry: "retry"
        case .answer: "answer"
        case .cut: "cut"
        }
    }
}

/// The upload's deadlines and the shared body budget, as the machine sees them.
@Suite struct ProxyConnectionLimitsStateTests {
    typealias Machine = ProxyConnectionStateMachine
    static func at(_ milliseconds: Int64) -> NIODeadline { .uptimeNanoseconds(UInt64(milliseconds) * 1_000_000) }

    static func machine(budget: RequestBodyBudget? = nil) -> Machine {
        Machine(router: ProxyRouter(upstreams: AgentConfig.Upstreams(), intercept: InterceptPolicy()), maxRequestBodyBytes: 1 << 20,
                bodyBudget: budget, deadlines: RequestDeadlines(bodyIdle: .milliseconds(1_000), request: .milliseconds(5_000)))
    }

    static func head(_ target: String = "/openai/v1/chat/completions") throws -> HTTPRequestFramer.Part {
        .head(try HTTPRequestHeadBytes(parsing: ByteBuffer(string: "POST \(target) HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n")))
    }

    @Test func aStalledRequestIsAnswered408OnceAndThenNoLongerTimed() throws {
        var machine = Self.machine()
        _ = machine.requestPartReceived(try Self.head())
        #expect(machine.awaitsRequestBytes)
        #expect(machine.requestBytesArrived(at: Self.at(0)) == Self.at(1_000))
        #expect(machine.deadlineCheckDue(at: Self.at(999)).label == "checkAgain(1000 ms)")
        #expect(machine.deadlineCheckDue(at: Self.at(1_000)).label == "answer(timedOut(body_timeout))")
        #expect(machine.state.label == "discarding")
        #expect(machine.deadlineCheckDue(at: Self.at(9_000)).label == "none", "answered: the rest is skipped, not timed again")
    }

    @Test func aRequestAlreadyRefusedIsClosedWhenItsBodyStalls() throws {
        var machine = Self.machine()
        _ = machine.requestPartReceived(try Self.head("/nowhere"))
        #expect(machine.state.label == "discarding")
        _ = machine.requestBytesArrived(at: Self.at(0))
        #expect(machine.deadlineCheckDue(at: Self.at(1_000)).label == "close(body_timeout)")
    }

    @Test func aCompletedRequestStopsTheClock() throws {
        var machine = Self.machine()
        _ = machine.requestPartReceived(try Self.head())
        _ = machine.requestBytesArrived(at: Self.at(0))
        _ = machine.requestPartReceived(.body(ByteBuffer(string: String(repeating: "x", count: 100))))
        #expect(machine.requestPartReceived(.end).label == "admit")
        #expect(machine.deadlineCheckDue(at: Self.at(60_000)).label == "none", "complete: even before the gate's answer")
        machine.exchangeAdmitted()
        #expect(!machine.awaitsRequestBytes)
        #expect(machine.deadlineCheckDue(at: Self.at(60_000)).label == "none")
    }

    @Test func aBodyOverTheSharedBudgetIsRefusedAndTheBudgetGivenBack() throws {
        let budget = RequestBodyBudget(maxBytes: 150)
        var other = Self.machine(budget: budget)
        _ = other.requestPartReceived(try Self.head())
        _ = other.requestPartReceived(.body(ByteBuffer(string: String(repeating: "a", count: 100))))
        #expect(budget.current == 100)

        var machine = Self.machine(budget: budget)
        _ = machine.requestPartReceived(try Self.head())
        #expect(machine.requestPartReceived(.body(ByteBuffer(string: String(repeating: "b", count: 40)))).label == "none")
        #expect(machine.requestPartReceived(.body(ByteBuffer(string: String(repeating: "b", count: 20)))).label == "answer(bufferFull, close)")
        #expect(budget.current == 100, "the refused request's 40 bytes went back with it; the other's are held")
        _ = other.clientClosed()
        #expect(budget.current == 0)
    }
}
