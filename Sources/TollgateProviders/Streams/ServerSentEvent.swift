/// One Server-Sent Event as a meter needs it: the `event:` name and the `data:` lines.
public struct ServerSentEvent: Equatable, Sendable {
    /// The `event:` field; nil when the stream gave none (the spec's default "message").
    public var event: String?
    /// The `data:` lines joined with "\n".
    public var data: String

    public init(event: String? = nil, data: String) {
        self.event = event
        self.data = data
    }
}
