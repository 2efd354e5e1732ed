import Foundation
import NIOCore
import TollgateCore
import TollgateProviders

/// Where every forwarded exchange ends, exactly once, however it ended (response done,
/// client gone, provider failed): metered when it carries usage and its request reached the
/// provider (an exchange cut short is estimated, see `ExchangeMeter`),
/// timed, its quota reservation settled, and no longer in flight.
struct ExchangeCompletion {
    let services: ProxyServices

    func complete(_ exchange: ProxyExchange) {
        services.inFlight.end()
        let seconds = Double((NIODeadline.now() - exchange.startedAt).nanoseconds) / 1e9
        services.metrics.requestDuration(exchange.route.provider).record(seconds)
        meter(exchange)
    }

    private func meter(_ exchange: ProxyExchange) {
        guard let request = exchange.request, let caller = exchange.caller, exchange.responseStatus != nil || exchange.requestSent else {
            // Never reached the provider: nothing was spent, so the reservation simply lapses.
            services.gate?.book.settle(exchange.reservation, spent: nil)
            exchange.reservation = .none
            return
        }
        let completed = CompletedExchange(
            request: request,
            attribution: caller.attribution,
            keyID: caller.keyID,
            keyHint: caller.keyHint,
            status: exchange.responseStatus,
            endedCleanly: exchange.endedCleanly,
            tap: exchange.tap?.finish() ?? TapResult(),
            requestBodyBytes: exchange.requestBodyBytes,
            completedAt: services.clock.date,
            routedFrom: exchange.routedFrom)
        let outcome = services.meter.meter(completed)
        // Settled first: the ledger must hold the event's ticket before the shipper can cut it.
        let ticket = services.gate?.book.settle(exchange.reservation, spent: outcome.event) ?? 0
        exchange.reservation = .none
        services.pipeline.record(outcome.event, ticket: ticket)
        services.metrics.requests(request.provider, request.endpoint).increment()
        for problem in outcome.problems {
            services.metrics.usageProblems(problem).increment()
        }
        if outcome.event.flags.contains(.estimated) { services.metrics.estimatedRequests.increment() }
        if outcome.event.flags.contains(.unpriced) {
            services.metrics.unpricedRequests.increment()
            services.logger.warning("no price for model \(outcome.event.dimensions.model); charged at the fallback rate")
        }
    }
}
