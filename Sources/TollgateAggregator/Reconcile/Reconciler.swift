import Foundation
import Logging
import TollgateCore

/// Pulls each configured provider's admin reports over HTTPS, reads Tollgate's usage for the
/// same UTC days from the store, compares them (`Reconciliation`), and records the outcome in
/// `tollgate_reconcile_*`. Runs on the API's query pool: it blocks while it pages.
public struct Reconciler: Sendable {
    public var settings: ReconcileSettings
    let store: UsageStore
    let metrics: AggregatorMetrics
    var client = AdminHTTPClient()
    var logger = Logger(label: "tollgate.reconcile")
    /// At most this many days per run: a month and then some, as the providers page by 31.
    static let maxDays: Int64 = 93

    init(settings: ReconcileSettings, store: UsageStore, metrics: AggregatorMetrics) {
        self.settings = settings
        self.store = store
        self.metrics = metrics
    }

    /// Compares the whole UTC days touched by [since, until). A provider that cannot be read
    /// has its error in `providers` and no rows; the others are still compared.
    public func run(since: Int64, until: Int64, providers: Set<ReconcileProvider>? = nil, tolerance: ReconcileTolerance? = nil) throws -> ReconcileReport {
        let firstDay = OpenAIAdminReport.utcDay(since)
        let endDay = OpenAIAdminReport.utcDay(until - 1) + 86_400
        let tolerance = tolerance ?? settings.tolerance
        var outcomes: [ProviderOutcome] = []
        var rows: [ReconcileRow] = []
        let sources = settings.sources.filter { providers?.contains($0.provider) ?? true }
        let metered = try meteredByProvider(from: firstDay, to: endDay, providers: Set(sources.map(\.provider)))
        for source in sources {
            let report: ProviderReport
            do {
                report = switch source.provider {
                case .openai: try OpenAIAdminReport.fetch(source, since: firstDay, until: endDay, client: client)
                case .anthropic: try AnthropicAdminReport.fetch(source, since: firstDay, until: endDay, client: client)
                }
            } catch {
                metrics.reconcileRuns(source.provider.rawValue, error.outcome).increment()
                logger.error("reconciliation with \(source.provider.rawValue) failed: \(error)")
                outcomes.append(ProviderOutcome(provider: source.provider, outcome: error.outcome, pages: 0, error: error.description))
                continue
            }
            let comparison = Reconciliation(report: report, metered: metered[source.provider] ?? [], keyMap: source.keyMap, tolerance: tolerance)
            let (providerRows, unresolved) = comparison.rows()
            for note in unresolved { logger.warning("reconcile.\(source.provider.rawValue).keys: \(note); compared as unmapped") }
            let outcome = providerRows.allSatisfy { $0.status == .match } ? "match" : "differs"
            metrics.reconcileRuns(source.provider.rawValue, outcome).increment()
            let difference = providerRows.reduce(Int64(0)) { $0 &+ Int64(clamping: ($1.costDifference?.value ?? 0).magnitude) }
            metrics.reconcileDifference(source.provider.rawValue).set(Double(difference))
            metrics.reconcileDifferingRows(source.provider.rawValue).set(Double(providerRows.filter { $0.status != .match }.count))
            outcomes.append(ProviderOutcome(provider: source.provider, outcome: outcome, pages: report.pages))
            rows += providerRows
        }
        return ReconcileReport(since: firstDay, until: endDay, tolerance: tolerance, providers: outcomes, rows: rows)
    }

    /// Tollgate's usage per UTC day, grouped by provider, model (normalised) and key.
    func meteredByProvider(from firstDay: Int64, to endDay: Int64, providers: Set<ReconcileProvider>) throws -> [ReconcileProvider: [Reconciliation.Metered]] {
        var result: [ReconcileProvider: [Reconciliation.Metered]] = [:]
        var day = firstDay
        while day < endDay {
            let groups = try store.query(fromMinute: day / 60, toMinute: (day + 86_400) / 60, groupBy: [.provider, .model, .key])
            for group in groups {
                guard let provider = ReconcileProvider(rawValue: group.dimensions.provider), providers.contains(provider) else { continue }
                result[provider, default: []].append(Reconciliation.Metered(
                    day: day, model: ReconcileModel.normalise(group.dimensions.model), keyID: group.dimensions.keyID,
                    keyHint: group.dimensions.keyHint, counters: group.counters))
            }
            day += 86_400
        }
        return result
    }
}
