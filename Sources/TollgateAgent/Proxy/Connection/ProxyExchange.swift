import NIOCore
import TollgateHTTP1
import TollgateProviders

/// One request/response pair in flight. A class: the state machine hands it from state to
/// state many times per request, and a struct this size was copied (and every reference in
/// it retained) each time.
final class ProxyExchange {
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
    /// The request went out to the provider, which may bill it from then on, answer or not.
    var requestSent = false
    var responseStatus: Int?
    /// The response ended as framed; false until then, so an exchange completed any other
    /// way (client gone, connection cut, timeout) is metered as cut short.
    var endedCleanly = false
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
    /// The model the client asked for, when a policy sent the request to another one
    /// (`request.model` is then the one served): what usage records as requested.
    var routedFrom: String?
    /// Set when the request first waits on a lease answer: it is refused if still waiting then.
    var leaseWaitDeadline: NIODeadline?
    /// Where the body's bytes are counted (`limits.max_buffered_bytes`), and how many are.
    private let bodyBudget: RequestBodyBudget?
    private var heldBodyBytes = 0
    /// The body's size once `dropBody()` let it go.
    private var droppedBodyBytes: Int?

    init(head: HTTPRequestHeadBytes, route: ProviderRoute, body: ByteBuffer, bodyBudget: RequestBodyBudget? = nil) {
        self.head = head
        self.route = route
        self.body = body
        self.bodyBudget = bodyBudget
    }

    /// However the exchange ended (answered, refused, timed out, client gone), its bytes
    /// go back to the budget with it.
    deinit {
        bodyBudget?.release(heldBodyBytes)
    }

    /// Appends a chunk of the request body, if the budget shared by all connections has
    /// room for it; false (nothing appended) when it has not.
    func appendBody(_ chunk: inout ByteBuffer) -> Bool {
        if let bodyBudget {
            guard bodyBudget.reserve(chunk.readableBytes) else { return false }
            heldBodyBytes += chunk.readableBytes
        }
        body.writeBuffer(&chunk)
        return true
    }

    /// The provider has begun to answer, so the request will not be sent again: its body is
    /// let go now rather than when a long stream ends, and its bytes return to the budget.
    func dropBody() {
        guard droppedBodyBytes == nil else { return }
        droppedBodyBytes = body.readableBytes
        body = ByteBuffer()
        bodyBudget?.release(heldBodyBytes)
        heldBodyBytes = 0
    }

    /// The size of the request body as sent, for metering.
    var requestBodyBytes: Int { droppedBodyBytes ?? body.readableBytes }

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

    /// The client may send another request on the connection once this response ended.
    var clientKeepAlive: Bool { head.isKeepAlive && clientFraming != .close }
}
