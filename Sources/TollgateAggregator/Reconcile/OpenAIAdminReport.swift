import Foundation
import TollgateCore

/// OpenAI's organization Usage API (`/v1/organization/usage/completions` and
/// `/usage/embeddings`, grouped by model and `api_key_id`) and Costs API
/// (`/v1/organization/costs`, grouped by `line_item`), daily buckets, every page.
///
/// Usage `input_tokens` already includes `input_cached_tokens`, and `output_tokens` includes
/// reasoning: Tollgate's own convention, so the numbers compare as they are. The report has
/// no cache-write or reasoning split, so those classes are not compared.
enum OpenAIAdminReport {
    static let reportedClasses: Set<TokenClass> = [.input, .cachedInput, .output]

    struct UsagePage: Decodable {
        var data: [Bucket]
        struct Bucket: Decodable {
            var start_time: Int64
            var results: [Result]
        }
        struct Result: Decodable {
            var input_tokens: Int64?
            var input_cached_tokens: Int64?
            var output_tokens: Int64?
            var num_model_requests: Int64?
            var api_key_id: String?
            var model: String?
        }
    }

    struct CostPage: Decodable {
        var data: [Bucket]
        struct Bucket: Decodable {
            var start_time: Int64
            var results: [Result]
        }
        struct Result: Decodable {
            var amount: Amount?
            var line_item: String?
        }
        struct Amount: Decodable {
            /// A JSON number; read through its shortest decimal form, which is the text sent.
            var value: Double
            var currency: String
        }
    }

    static func fetch(_ source: AdminSource, since: Int64, until: Int64, client: AdminHTTPClient) throws(ReconcileError) -> ProviderReport {
        var report = ProviderReport(provider: .openai, reportedClasses: reportedClasses)
        let window: [(String, String)] = [("start_time", String(since)), ("end_time", String(until)), ("bucket_width", "1d"), ("limit", "31")]
        let pager = AdminPager(client: client, source: source)
        for path in ["/v1/organization/usage/completions", "/v1/organization/usage/embeddings"] {
            report.pages += try pager.forEachPage(path, window + [("group_by[]", "model"), ("group_by[]", "api_key_id")]) { body in
                report.usage += try readUsage(body)
            }
        }
        report.pages += try pager.forEachPage("/v1/organization/costs", window + [("group_by[]", "line_item")]) { body in
            report.costs += try readCosts(body)
        }
        return report
    }

    static func readUsage(_ body: Data) throws -> [ProviderReport.Usage] {
        try JSONDecoder().decode(UsagePage.self, from: body).data.flatMap { bucket in
            bucket.results.map { result in
                ProviderReport.Usage(
                    day: utcDay(bucket.start_time), model: ReconcileModel.normalise(result.model ?? ""), providerKeyID: result.api_key_id,
                    tokens: TokenUsage(input: result.input_tokens ?? 0, cachedInput: result.input_cached_tokens ?? 0, output: result.output_tokens ?? 0),
                    requests: result.num_model_requests ?? 0)
            }
        }
    }

    /// A line item reads `<model>, <what>` (`gpt-4o-mini-2024-07-18, input`); anything else
    /// (a tool fee) keeps its whole text as its model, so it shows as missing in Tollgate.
    static func readCosts(_ body: Data) throws -> [ProviderReport.Cost] {
        try JSONDecoder().decode(CostPage.self, from: body).data.flatMap { bucket in
            try bucket.results.compactMap { result -> ProviderReport.Cost? in
                guard let amount = result.amount else { return nil }
                guard amount.currency.lowercased() == "usd" else { throw AdminShapeError("a cost in \(amount.currency); only USD is supported") }
                guard let value = AdminAmount.nanodollars(decimal: "\(amount.value)", unitsPerDollar: 1) else {
                    throw AdminShapeError("cost amount \(amount.value) is not a decimal amount")
                }
                let item = result.line_item ?? ""
                let model = item.split(separator: ",", maxSplits: 1).first.map(String.init) ?? item
                return ProviderReport.Cost(day: utcDay(bucket.start_time), model: ReconcileModel.normalise(model), amount: value)
            }
        }
    }

    static func utcDay(_ seconds: Int64) -> Int64 {
        (seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400) * 86_400
    }
}
