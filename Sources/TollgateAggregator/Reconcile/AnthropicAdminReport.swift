import Foundation
import TollgateCore

/// Anthropic's Admin API usage report (`/v1/organizations/usage_report/messages`, grouped by
/// model and `api_key_id`) and cost report (`/v1/organizations/cost_report`, grouped by
/// `description`, which adds the model to each line), daily buckets, every page.
///
/// Anthropic splits input three ways (`uncached_input_tokens`, `cache_read_input_tokens`,
/// `cache_creation` by TTL); Tollgate's input is their sum and its cache write the sum of
/// both TTLs. Cost amounts are decimal strings in cents.
enum AnthropicAdminReport {
    static let reportedClasses: Set<TokenClass> = [.input, .cachedInput, .cacheWrite, .output]

    struct UsagePage: Decodable {
        var data: [Bucket]
        struct Bucket: Decodable {
            var starting_at: String
            var results: [Result]
        }
        struct Result: Decodable {
            var uncached_input_tokens: Int64
            var cache_read_input_tokens: Int64?
            var cache_creation: CacheCreation?
            var output_tokens: Int64
            var api_key_id: String?
            var model: String?
        }
        struct CacheCreation: Decodable {
            var ephemeral_5m_input_tokens: Int64?
            var ephemeral_1h_input_tokens: Int64?
        }
    }

    struct CostPage: Decodable {
        var data: [Bucket]
        struct Bucket: Decodable {
            var starting_at: String
            var results: [Result]
        }
        struct Result: Decodable {
            var amount: String
            var currency: String
            var model: String?
            var cost_type: String?
            var description: String?
        }
    }

    static func fetch(_ source: AdminSource, since: Int64, until: Int64, client: AdminHTTPClient) throws(ReconcileError) -> ProviderReport {
        var report = ProviderReport(provider: .anthropic, reportedClasses: reportedClasses)
        let window: [(String, String)] = [("starting_at", rfc3339(since)), ("ending_at", rfc3339(until)), ("bucket_width", "1d"), ("limit", "31")]
        let pager = AdminPager(client: client, source: source)
        report.pages += try pager.forEachPage("/v1/organizations/usage_report/messages", window + [("group_by[]", "model"), ("group_by[]", "api_key_id")]) { body in
            report.usage += try readUsage(body)
        }
        report.pages += try pager.forEachPage("/v1/organizations/cost_report", window + [("group_by[]", "description")]) { body in
            report.costs += try readCosts(body)
        }
        return report
    }

    static func readUsage(_ body: Data) throws -> [ProviderReport.Usage] {
        try JSONDecoder().decode(UsagePage.self, from: body).data.flatMap { bucket in
            let day = try day(bucket.starting_at)
            return bucket.results.map { result in
                let read = result.cache_read_input_tokens ?? 0
                let write = (result.cache_creation?.ephemeral_5m_input_tokens ?? 0) + (result.cache_creation?.ephemeral_1h_input_tokens ?? 0)
                return ProviderReport.Usage(
                    day: day, model: ReconcileModel.normalise(result.model ?? ""), providerKeyID: result.api_key_id,
                    tokens: TokenUsage(input: result.uncached_input_tokens + read + write, cachedInput: read, cacheWrite: write, output: result.output_tokens),
                    requests: nil)
            }
        }
    }

    static func readCosts(_ body: Data) throws -> [ProviderReport.Cost] {
        try JSONDecoder().decode(CostPage.self, from: body).data.flatMap { bucket in
            let day = try day(bucket.starting_at)
            return try bucket.results.map { result in
                guard result.currency.uppercased() == "USD" else { throw AdminShapeError("a cost in \(result.currency); only USD is supported") }
                guard let amount = AdminAmount.nanodollars(decimal: result.amount, unitsPerDollar: 100) else {
                    throw AdminShapeError("cost amount '\(result.amount)' is not a decimal string of cents")
                }
                let model = result.model ?? result.cost_type ?? result.description ?? ""
                return ProviderReport.Cost(day: day, model: ReconcileModel.normalise(model), amount: amount)
            }
        }
    }

    static func rfc3339(_ seconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }

    static func day(_ text: String) throws -> Int64 {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        var date = formatter.date(from: text)
        if date == nil {
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            date = formatter.date(from: text)
        }
        guard let date else { throw AdminShapeError("bucket starting_at '\(text)' is not an RFC 3339 time") }
        return OpenAIAdminReport.utcDay(Int64(date.timeIntervalSince1970.rounded(.down)))
    }
}
