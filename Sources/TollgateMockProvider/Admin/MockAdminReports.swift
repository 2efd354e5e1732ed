import Foundation
import NIOConcurrencyHelpers
import TollgateCore
import TollgateProviders

/// The state behind the mock's admin usage and cost reports: what it billed per day (fed by
/// the ledger as it bills), the admin keys it accepts, how many day buckets it puts on a
/// page, and what a test injected: extra usage the "provider" claims on some day, or a fault
/// (an HTTP status, or a body that is not JSON) for every admin request.
public final class MockAdminReports: @unchecked Sendable {
    /// What the next admin requests get instead of a report.
    public enum Fault: Equatable, Sendable {
        case status(Int)
        case malformedJSON
    }

    public static let defaultOpenAIAdminKey = "sk-admin-mock-openai-0000"
    public static let defaultAnthropicAdminKey = "sk-ant-admin01-mock-0000"

    private let lock = NIOLock()
    private var usage: DailyUsage
    private var fault: Fault?
    private let now: @Sendable () -> Date
    let openAIAdminKey: String
    let anthropicAdminKey: String
    /// The real APIs default to 7 daily buckets a page (max 31); tests lower it to force
    /// several pages.
    let maxBucketsPerPage: Int

    public init(openAIAdminKey: String = defaultOpenAIAdminKey, anthropicAdminKey: String = defaultAnthropicAdminKey,
                maxBucketsPerPage: Int = 7, prices: PriceCatalog = DefaultPriceCatalog.load(),
                now: @escaping @Sendable () -> Date = Date.init) {
        self.openAIAdminKey = openAIAdminKey
        self.anthropicAdminKey = anthropicAdminKey
        self.maxBucketsPerPage = max(1, maxBucketsPerPage)
        self.now = now
        usage = DailyUsage(prices: prices)
    }

    /// Called by the ledger for every billed request, on the day it is billed.
    func record(_ request: BilledRequest) {
        let day = DailyUsage.utcDay(now())
        lock.withLock { usage.add(request, day: day) }
    }

    /// Makes the reports claim usage that was never served: `requests` calls by `apiKey` on
    /// `model`, with these tokens (Tollgate's classes), on the UTC day holding `day`. The
    /// ledger is untouched, so the meter and the ledger still agree and only the provider's
    /// report differs: a disagreement for reconciliation to find.
    public func inject(provider: String, apiKey: String, model: String, tokens: TokenUsage, requests: Int = 1, day: Date) throws {
        guard let kind = MockProvider(rawValue: provider), kind == .openai || kind == .anthropic else {
            throw AdminInjectionError("provider '\(provider)': the admin reports exist for openai and anthropic only")
        }
        lock.withLock {
            usage.add(BilledRequest(provider: kind, apiKey: apiKey, model: model, tokens: tokens), day: DailyUsage.utcDay(day), requests: Int64(requests))
        }
    }

    public func setFault(_ fault: Fault?) {
        lock.withLock { self.fault = fault }
    }

    var currentFault: Fault? { lock.withLock { fault } }

    var currentTime: Date { now() }

    func entries(providers: Set<MockProvider>, from: Int64, to: Int64) -> [(key: DailyUsage.Key, tally: DailyUsage.Tally)] {
        lock.withLock { usage.entries(providers: providers, from: from, to: to) }
    }
}

public struct AdminInjectionError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
