import Foundation
import TollgateCore

/// Compares what Tollgate's aggregator reports with what the mock provider really served.
///
/// The expected side is computed from the mock's ledger alone: key ids with the org
/// secret, costs with the price catalog. The actual side is the aggregator's usage JSON
/// grouped by `key,model` (`tollgate usage --format json` or `GET /v1/usage`). Groups
/// merge providers: a key's spend on one model is one group whichever API served it. The
/// model is canonical (the catalog's id): the ledger's served snapshot resolved through the
/// same catalog, so the mock's answer of `gpt-4o-2024-08-06` to `gpt-4o` is one group.
public enum GroundTruth {
    public struct Group: Hashable, Sendable, CustomStringConvertible {
        public var keyID: String
        public var model: String
        public var description: String { "key \(keyID.prefix(8)) model \(model)" }
    }

    /// Token classes in Tollgate's convention: `inputTokens` includes cache reads and writes,
    /// `outputTokens` includes reasoning.
    public struct Totals: Hashable, Sendable, Decodable {
        public var requests: Int64 = 0
        public var inputTokens: Int64 = 0
        public var cachedInputTokens: Int64 = 0
        public var cacheWriteTokens: Int64 = 0
        public var cacheWrite1hTokens: Int64 = 0
        public var outputTokens: Int64 = 0
        public var reasoningTokens: Int64 = 0
        public var costNanousd: Int64 = 0

        enum CodingKeys: String, CodingKey {
            case requests
            case inputTokens = "input_tokens"
            case cachedInputTokens = "cached_input_tokens"
            case cacheWriteTokens = "cache_write_tokens"
            case cacheWrite1hTokens = "cache_write_1h_tokens"
            case outputTokens = "output_tokens"
            case reasoningTokens = "reasoning_tokens"
            case costNanousd = "cost_nanousd"
        }

        public init() {}

        /// A class missing from the aggregator's JSON is zero, as it would be in its counters.
        public init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            func int(_ key: CodingKeys) throws -> Int64 { try container.decodeIfPresent(Int64.self, forKey: key) ?? 0 }
            requests = try int(.requests)
            inputTokens = try int(.inputTokens)
            cachedInputTokens = try int(.cachedInputTokens)
            cacheWriteTokens = try int(.cacheWriteTokens)
            cacheWrite1hTokens = try int(.cacheWrite1hTokens)
            outputTokens = try int(.outputTokens)
            reasoningTokens = try int(.reasoningTokens)
            costNanousd = try int(.costNanousd)
        }
    }

    /// Per-request costs of the built-in catalog never round (see its tests), so pricing
    /// the summed tokens of a group gives exactly the sum of per-request costs.
    public static func expected(from ledger: LedgerSnapshot, keys: KeyIdentifier, prices: PriceCatalog) -> [Group: Totals] {
        var result: [Group: Totals] = [:]
        for entry in ledger.entries {
            // Ledger entries are already in Tollgate's classes, for every provider.
            let tokens = TokenUsage(input: Int64(entry.promptTokens), cachedInput: Int64(entry.cachedTokens),
                                    cacheWrite: Int64(entry.cacheWriteTokens), cacheWrite1h: Int64(entry.cacheWrite1hTokens),
                                    output: Int64(entry.completionTokens), reasoning: Int64(entry.reasoningTokens))
            let price: ModelPrice
            switch prices.lookup(entry.model) {
            case .priced(_, let found): price = found
            case .unpriced(let fallback): price = fallback
            }
            let group = Group(keyID: keys.keyID(for: entry.apiKey), model: prices.canonicalModel(entry.model))
            var totals = result[group, default: Totals()]
            totals.requests += Int64(entry.requests)
            totals.inputTokens += tokens.input
            totals.cachedInputTokens += tokens.cachedInput
            totals.cacheWriteTokens += tokens.cacheWrite
            totals.cacheWrite1hTokens += tokens.cacheWrite1h
            totals.outputTokens += tokens.output
            totals.reasoningTokens += tokens.reasoning
            // A group's summed prompt may pass a long-context threshold no single request
            // came near: the mock's prompts are a few thousand tokens, far below every band.
            totals.costNanousd += price.cost(of: BillableUsage(tokens: tokens), longContext: false).value
            result[group] = totals
        }
        return result
    }

    /// Reads the aggregator's rows grouped by `key,model`.
    public static func actual(fromUsageJSON data: Data) throws -> [Group: Totals] {
        struct Row: Decodable {
            var key: String
            var model: String
            var totals: Totals
            enum CodingKeys: String, CodingKey { case key, model }
            init(from decoder: Decoder) throws {
                let container = try decoder.container(keyedBy: CodingKeys.self)
                key = try container.decode(String.self, forKey: .key)
                model = try container.decode(String.self, forKey: .model)
                totals = try Totals(from: decoder)
            }
        }
        var result: [Group: Totals] = [:]
        for row in try JSONDecoder().decode([Row].self, from: data) {
            result[Group(keyID: row.key, model: row.model)] = row.totals
        }
        return result
    }

    /// Human-readable differences; empty when the two agree exactly.
    public static func differences(expected: [Group: Totals], actual: [Group: Totals]) -> [String] {
        var lines: [String] = []
        for group in Set(expected.keys).union(actual.keys).sorted(by: { "\($0)" < "\($1)" }) {
            let want = expected[group]
            let got = actual[group]
            if want != got {
                lines.append("\(group): expected \(want.map { "\($0)" } ?? "nothing"), aggregator has \(got.map { "\($0)" } ?? "nothing")")
            }
        }
        return lines
    }
}
