import NIOCore

/// The upstream half of an exchange: which connection carries it (an idle pooled one if
/// any, else a new one on the client's own event loop), and where that connection goes once
/// the response ended.
struct UpstreamCheckout {
    let services: ProxyServices

    /// An idle pooled connection to `upstream` whose relay is between responses.
    func pooledConnection(to upstream: UpstreamURL, on eventLoop: EventLoop) -> (Channel, UpstreamResponseRelay)? {
        while let channel = services.upstreamPool.take(upstream, on: eventLoop) {
            guard let relay = try? channel.pipeline.syncOperations.handler(type: UpstreamResponseRelay.self), relay.isReusable else {
                channel.close(promise: nil)
                continue
            }
            services.metrics.upstreamConnectionsReused.increment()
            return (channel, relay)
        }
        return nil
    }

    func open(to upstream: UpstreamURL, on eventLoop: EventLoop, relay: UpstreamResponseRelay) -> EventLoopFuture<Channel> {
        services.metrics.upstreamConnectionsOpened.increment()
        return services.upstreamConnector.connect(to: upstream, on: eventLoop, services: services, relay: relay)
    }

    /// The client left mid-exchange: the provider must stop generating (and billing) now, so
    /// its connection is closed at once, never pooled, and no longer reports to the client's
    /// handler. A provider notices a cancelled request by its connection closing; this close
    /// does not wait for its TLS close_notify (`Agent.upstreamTLSContext`).
    func abandon(_ exchange: ProxyExchange) {
        guard let channel = exchange.upstream else { return }
        exchange.upstream = nil
        (try? channel.pipeline.syncOperations.handler(type: UpstreamResponseRelay.self))?.detach()
        channel.close(promise: nil)
    }

    /// Returns a cleanly finished keep-alive connection to the pool; closes anything else.
    func checkIn(_ exchange: ProxyExchange) {
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
}
