import Foundation

/// The server's running ledger, written from every event loop thread at once.
///
/// A plain lock rather than `NIOLockedValueBox`: the target links NIO's public products
/// only, and the critical sections are a dictionary update.
final class LedgerRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var tally = UsageTally()
    private var errors = 0

    func recordSuccess(apiKey: String, model: String, usage: SimulatedUsage) {
        lock.lock()
        defer { lock.unlock() }
        tally.add(
            apiKey: apiKey, model: model, prompt: usage.promptTokens, cached: usage.cachedTokens,
            completion: usage.completionTokens, reasoning: usage.reasoningTokens
        )
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
