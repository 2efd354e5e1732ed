import NIOConcurrencyHelpers
import NIOCore

/// Idle keep-alive connections to providers, kept per event loop so a connection is only
/// ever used by the loop that owns it (and its client connections).
///
/// A connection returns here after a response ended cleanly on a keep-alive exchange;
/// one the provider closed while idle is skipped when next taken.
final class UpstreamPool: Sendable {
    /// Idle connections kept per (event loop, upstream).
    static let maxIdlePerUpstream = 16

    private struct Key: Hashable {
        var loop: ObjectIdentifier
        var upstream: UpstreamURL
    }

    private let idle = NIOLockedValueBox([Key: [Channel]]())

    func take(_ upstream: UpstreamURL, on loop: EventLoop) -> Channel? {
        let key = Key(loop: ObjectIdentifier(loop), upstream: upstream)
        return idle.withLockedValue { idle in
            while let channel = idle[key]?.popLast() {
                if channel.isActive { return channel }
            }
            return nil
        }
    }

    func put(_ channel: Channel, for upstream: UpstreamURL) {
        let key = Key(loop: ObjectIdentifier(channel.eventLoop), upstream: upstream)
        let kept = idle.withLockedValue { idle -> Bool in
            idle[key, default: []].removeAll { !$0.isActive }
            guard idle[key, default: []].count < Self.maxIdlePerUpstream else { return false }
            idle[key, default: []].append(channel)
            return true
        }
        if !kept { channel.close(promise: nil) }
    }

    var idleCount: Int { idle.withLockedValue { $0.values.reduce(0) { $0 + $1.count } } }
}
