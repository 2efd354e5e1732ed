import Foundation
import NIOConcurrencyHelpers

/// The server's running ledger, written from every event loop thread at once.
final class LedgerRecorder: @unchecked Sendable {
    private let lock = NIOLock()
    private var tally = UsageTally()
    private var errors = 0
    private var aborted: [AbortedStream] = []

    /// A whole answer is billed when it is decided; a stream when its last event went out
    /// (`recordAbort` if the client left first). A stream's usage is billed whether or not
    /// the response shows it (a chat stream without `include_usage`).
    func record(_ request: BilledRequest) {
        lock.lock()
        defer { lock.unlock() }
        tally.add(request)
    }

    /// A stream whose client left before its end: like the real providers, the mock bills
    /// what it generated until it noticed, which is when its connection closed. The close is
    /// kept with its time, so a test can measure how long a proxy kept the provider going.
    func recordAbort(_ request: BilledRequest, eventsSent: Int, eventsTotal: Int, closedAt: Date) {
        lock.lock()
        defer { lock.unlock() }
        tally.add(request)
        aborted.append(AbortedStream(
            provider: request.provider.rawValue, apiKey: request.apiKey, model: request.model,
            promptTokens: Int(request.tokens.input), completionTokens: Int(request.tokens.output),
            eventsSent: eventsSent, eventsTotal: eventsTotal,
            closedAtMs: Int64((closedAt.timeIntervalSince1970 * 1000).rounded())))
    }

    func recordError() {
        lock.lock()
        defer { lock.unlock() }
        errors += 1
    }

    var snapshot: LedgerSnapshot {
        lock.lock()
        defer { lock.unlock() }
        return LedgerSnapshot(entries: tally.entries, errors: errors, aborted: aborted)
    }
}

extension LedgerRecorder {
    /// An endpoint's answer: a refusal counts as an error in the ledger, a success passes
    /// through (the endpoint recorded its usage when it decided to answer).
    func settle<Failure: ProviderError>(_ result: Result<MockHTTPResponse, Failure>) -> MockHTTPResponse {
        switch result {
        case .success(let response): response
        case .failure(let error): refuse(error)
        }
    }

    func refuse(_ error: some ProviderError) -> MockHTTPResponse {
        recordError()
        return .error(error)
    }
}
