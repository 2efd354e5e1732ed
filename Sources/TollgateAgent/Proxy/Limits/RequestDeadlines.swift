import NIOCore

/// The two clocks on a request's upload, so a client that sends a head and then trickles
/// (or stops sending) its body cannot hold a connection and its buffered bytes forever:
/// - **body idle**: some bytes must arrive at least every `bodyIdle`
///   (`limits.body_idle_timeout_ms`);
/// - **request**: the whole request must be in within `request` of its head
///   (`limits.request_timeout_ms`).
/// Both cover the upload only: once the request is complete they stop, so a long streaming
/// response is never cut by them (the provider's side has `upstream_idle_timeout_ms`).
///
/// A value driven with explicit times (the event loop's `now`), so tests move time by hand.
/// It is armed only when a read ends with a request still incomplete: a request that
/// arrives in one read, the common case, never touches a clock or a timer.
struct RequestDeadlines {
    enum Expiry: Equatable {
        case bodyIdle
        case request

        /// The label of `tollgate_agent_rejected_requests_total`.
        var rejectionReason: String {
            switch self {
            case .bodyIdle: "body_timeout"
            case .request: "request_timeout"
            }
        }
    }

    let bodyIdle: TimeAmount
    let request: TimeAmount
    private var startedAt: NIODeadline?
    private var lastProgress = NIODeadline.uptimeNanoseconds(0)

    init(bodyIdle: TimeAmount, request: TimeAmount) {
        self.bodyIdle = bodyIdle
        self.request = request
    }

    var isArmed: Bool { startedAt != nil }

    /// Bytes of an incomplete request arrived at `now`. Returns when to check next if this
    /// armed the deadlines (the caller then schedules one check), nil if they already ran.
    mutating func progressed(at now: NIODeadline) -> NIODeadline? {
        lastProgress = now
        guard startedAt == nil else { return nil }
        startedAt = now
        return nextCheck
    }

    /// The request is complete (or the connection moved on): nothing is timed any more.
    mutating func disarm() {
        startedAt = nil
    }

    /// Which deadline has passed at `now`, if any; the request's own first, as it is the
    /// one a client cannot escape by trickling.
    func expired(at now: NIODeadline) -> Expiry? {
        guard let startedAt else { return nil }
        if now >= startedAt + request { return .request }
        if now >= lastProgress + bodyIdle { return .bodyIdle }
        return nil
    }

    /// The earlier of the two deadlines; nil while disarmed.
    var nextCheck: NIODeadline? {
        guard let startedAt else { return nil }
        return min(startedAt + request, lastProgress + bodyIdle)
    }
}
