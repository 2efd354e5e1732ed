import Foundation

/// The topics of the quota channel (ZeroMQ PUB/SUB, which filters on the first frame's
/// prefix), so the aggregator can answer one agent's subscription with a snapshot for that
/// agent alone instead of a broadcast every subscriber pays for.
///
/// - A **broadcast** message (deltas, heartbeats, snapshots for agents that subscribe to
///   everything) is one frame, the encoded `QuotaUpdate`. Its encoding always begins with
///   field 1, the version (never 0), whose tag byte is 0x08: subscribing to that byte is
///   subscribing to every broadcast and nothing else. Agents from before topics subscribe
///   to the empty prefix and read these frames unchanged.
/// - An **addressed** message is two frames: `agent/<agent id>` and a NUL, then the encoded
///   update. The NUL ends the topic, so agent `a1` does not match `a10`'s messages; no
///   topic starts with 0x08, so broadcast subscribers never see one.
public enum QuotaTopic: Equatable, Sendable {
    /// Every broadcast message.
    case broadcast
    /// Messages for one agent: its snapshots.
    case agent(String)
    /// The empty prefix: everything, how agents before topics subscribe.
    case everything

    /// The first byte of every encoded `QuotaUpdate` (field 1, varint).
    static let broadcastPrefix = Data([0x08])
    private static let agentPrefix = Data("agent/".utf8)

    /// The bytes a SUB subscribes to, and (for `.agent`) the first frame of its messages.
    public var bytes: Data {
        switch self {
        case .broadcast: Self.broadcastPrefix
        case .agent(let id): Self.agentPrefix + Data(id.utf8) + Data([0])
        case .everything: Data()
        }
    }

    /// Reads an XPUB subscription's topic (the bytes after the 1/0 flag byte); nil for one
    /// no Tollgate agent sends.
    public init?(subscription topic: Data) {
        if topic.isEmpty {
            self = .everything
        } else if topic == Self.broadcastPrefix {
            self = .broadcast
        } else if topic.starts(with: Self.agentPrefix), topic.last == 0,
                  let id = String(data: topic.dropFirst(Self.agentPrefix.count).dropLast(), encoding: .utf8), !id.isEmpty, !id.contains("\0") {
            self = .agent(id)
        } else {
            return nil
        }
    }
}
