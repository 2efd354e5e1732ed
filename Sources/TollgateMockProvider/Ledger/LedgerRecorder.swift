import Foundation
import NIOConcurrencyHelpers

/// The server's running ledger, written from every event loop thread at once.
final class LedgerRecorder: @unchecked Sendable {
    private let lock = NIOLock()
    private var tally = UsageTally()
    private var errors = 0
    /// The per-day view the admin usage and cost reports are served from.
    let reports: MockAdminReports

    init(reports: MockAdminReports = MockAdminReports()) {
        self.reports = reports
    }

    /// Called when the response is decided, before any byte is sent: like the real
    /// providers, a streamed request is billed in full whether or not its usage is ever
    /// sent, and whether or not the client reads to the end.
    func record(_ request: BilledRequest) {
        lock.withLock { tally.add(request) }
        reports.record(request)
    }

    func recordError() {
        lock.lock()
        defer { lock.unlock() }
        errors += 1
    }

    var snapshot: LedgerSnapshot {
        lock.lock()
        defer { lock.unlock() }
        return LedgerSnapshot(entries: tally.entries, errors: errors)
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
