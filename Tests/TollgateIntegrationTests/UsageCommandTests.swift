import Foundation
import Testing
import TollgateCore
import TollgateMockProvider
import TollgateProviders

/// `tollgate usage` for analysts, end to end: real traffic through the agent, and every
/// shape of the answer (a daily series as CSV, a filter, a top-N) held to the mock's
/// ledger to the nanodollar. Bad flags fail before anything is asked, naming what is expected.
@Suite(.serialized) struct UsageCommandTests {
    @Test func seriesFiltersAndRankingsAgreeWithTheLedger() async throws {
        let cluster = try LocalCluster(extraAgentConfig: "attribution:\n  team: ml\n  use_case: nightly-eval")
        defer { cluster.shutdown() }
        try await cluster.start()
        let plan = TrafficPlan(apiKeys: TrafficPlan.demoKeys(count: 3), models: ["gpt-4o-mini", "gpt-4.1"], requests: 24, concurrency: 4,
                               formats: [.openaiChat, .openaiChatStreamWithUsage, .anthropicMessages])
        let traffic = try await runTraffic(plan: plan, agentURL: cluster.agentURL)
        #expect(traffic.failures == 0, "\(traffic.failureSamples)")
        let ledger = try await fetchLedger(mockURL: cluster.mockURL)
        let keys = KeyIdentifier(orgSecret: cluster.orgSecret), prices = DefaultPriceCatalog.load()
        let expected = GroundTruth.expected(from: ledger, keys: keys, prices: prices)
        let arrived = try await eventually(until: { $0.isEmpty }) {
            let json = try cluster.cli(["usage", "--since", "1h", "--by", "key,model", "--format", "json"])
            return GroundTruth.differences(expected: expected, actual: try GroundTruth.actual(fromUsageJSON: Data(json.utf8)))
        }
        #expect(arrived.isEmpty, "\(arrived)")
        let total = expected.values.reduce(into: GroundTruth.Totals()) { $0.add($1) }

        // A daily series as CSV: RFC 4180 records, summed over buckets, equal the ledger per group.
        let csv = try cluster.cli(["usage", "--since", "1h", "--every", "day", "--by", "key,model", "--format", "csv"])
        #expect(csv.hasSuffix("\r\n") && !csv.replacingOccurrences(of: "\r\n", with: "").contains("\n"), "CRLF only")
        let records = try UsageCSVRecords.parse(csv)
        #expect(records.first?.prefix(4) == ["bucket", "key", "model", "key_hint"])
        #expect(GroundTruth.differences(expected: expected, actual: try UsageCSVRecords.groups(records)).isEmpty)
        let hourly = try UsageCSVRecords.groups(try UsageCSVRecords.parse(
            try cluster.cli(["usage", "--since", "1h", "--every", "hour", "--by", "key,model", "--format", "csv"])))
        #expect(GroundTruth.differences(expected: expected, actual: hourly).isEmpty)

        // --where: the anthropic calls alone are the ledger's anthropic entries.
        let anthropicLedger = LedgerSnapshot(entries: ledger.entries.filter { $0.provider == "anthropic" }, errors: 0)
        #expect(!anthropicLedger.entries.isEmpty)
        let anthropic = try cluster.cli(["usage", "--since", "1h", "--by", "key,model", "--where", "provider=anthropic", "--format", "json"])
        #expect(GroundTruth.differences(expected: GroundTruth.expected(from: anthropicLedger, keys: keys, prices: prices),
                                        actual: try GroundTruth.actual(fromUsageJSON: Data(anthropic.utf8))).isEmpty)
        // The host's attribution tags every call; filters on two dimensions both apply.
        let ml = try Self.totals(cluster.cli(["usage", "--since", "1h", "--by", "team", "--where", "team=ml", "--where", "use_case=nightly-eval",
                                              "--format", "json"]))
        #expect(ml == total)
        let web = try cluster.cli(["usage", "--since", "1h", "--by", "team", "--where", "team=web", "--format", "json"])
        #expect((try JSONSerialization.jsonObject(with: Data(web.utf8)) as? [Any])?.isEmpty == true, "\(web)")

        // --top 1 by key: the costliest key, then one row for the other two; the sum is whole.
        let top = try JSONSerialization.jsonObject(with: Data(try cluster.cli(["usage", "--since", "1h", "--by", "key", "--top", "1",
                                                                              "--format", "json"]).utf8)) as? [[String: Any]] ?? []
        #expect(top.count == 2 && top[1]["other_groups"] as? Int == 2 && top[1]["key"] == nil, "\(top)")
        let byKey = try JSONSerialization.jsonObject(with: Data(try cluster.cli(["usage", "--since", "1h", "--by", "key",
                                                                                "--format", "json"]).utf8)) as? [[String: Any]] ?? []
        #expect(byKey.count == 3 && top.first?["key"] as? String == byKey.first?["key"] as? String)
        #expect(byKey.compactMap { $0["cost_nanousd"] as? Int }.max() == top.first?["cost_nanousd"] as? Int)
        #expect(try Self.totals(cluster.cli(["usage", "--since", "1h", "--by", "key", "--top", "1", "--format", "json"])) == total)

        // The table: a bucket column, the other row, and a TOTAL that equals the ledger's cost.
        let table = try cluster.cli(["usage", "--since", "1h", "--every", "day", "--by", "key", "--top", "1"])
        let lines = table.split(separator: "\n")
        #expect(lines.first?.hasPrefix("BUCKET") == true && lines.contains { $0.contains("(other: 2)") }, "\(table)")
        #expect(lines.last?.hasPrefix("TOTAL") == true && lines.last?.hasSuffix(Nanodollars(total.costNanousd).formatted) == true, "\(table)")

        // An empty window is an empty table with zero totals, not an error.
        let empty = try cluster.cli(["usage", "--since", "2020-01-01", "--until", "2020-02-01", "--every", "day", "--by", "team"])
        #expect(empty.split(separator: "\n").count == 2 && empty.contains("TOTAL") && empty.contains("$0.00"), "\(empty)")
        #expect(try cluster.cli(["usage", "--since", "2020-01-01", "--until", "2020-02-01", "--format", "csv"]).components(separatedBy: "\r\n").count == 2)
    }

    @Test(arguments: [
        (["--since", "2026-12-01", "--until", "2026-11-01"], "--until 2026-11-01 is before --since 2026-12-01"),
        (["--where", "tema=ml"], "unknown dimension 'tema'; expected one of: key, provider, model"),
        (["--where", "team"], "is not dimension=value"),
        (["--where", "team=ml", "--where", "team=web"], "team is given twice"),
        (["--by", "team,teem"], "unknown dimension 'teem'"),
        (["--every", "fortnight"], "hour"),
        (["--top", "0"], "expected a whole number from 1 to 10000"),
        (["--format", "xml"], "csv"),
        (["--since", "yesterday"], "a date (2026-11-01"),
    ])
    func badFlagsAreRefusedWithWhatIsExpected(_ arguments: [String], _ message: String) throws {
        // No aggregator listens there: each flag is refused before anything is asked.
        let result = try ReconcileCommandTests.tollgate(["usage", "--api", "http://127.0.0.1:9"] + arguments)
        #expect(result.status != 0)
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }

    static func totals(_ json: String) throws -> GroundTruth.Totals {
        let rows = try JSONDecoder().decode([GroundTruth.Totals].self, from: Data(json.utf8))
        return rows.reduce(into: GroundTruth.Totals()) { $0.add($1) }
    }
}

extension GroundTruth.Totals {
    mutating func add(_ other: GroundTruth.Totals) {
        requests += other.requests
        inputTokens += other.inputTokens
        cachedInputTokens += other.cachedInputTokens
        cacheWriteTokens += other.cacheWriteTokens
        cacheWrite1hTokens += other.cacheWrite1hTokens
        outputTokens += other.outputTokens
        reasoningTokens += other.reasoningTokens
        costNanousd += other.costNanousd
    }
}

/// Reads `tollgate usage --format csv` back, strictly: RFC 4180 quoting, CRLF records, and
/// `cost_usd` as exact decimal dollars turned back into nanodollars.
enum UsageCSVRecords {
    struct Malformed: Error, CustomStringConvertible { var description: String }

    static func parse(_ text: String) throws -> [[String]] {
        var records: [[String]] = [], fields: [String] = [], field = ""
        var quoted = false, wasQuoted = false
        var characters = Array(text)[...]
        while let character = characters.popFirst() {
            if quoted {
                if character == "\"" {
                    if characters.first == "\"" { field.append("\""); characters.removeFirst() } else { quoted = false }
                } else {
                    field.append(character)
                }
            } else if character == "\"" && field.isEmpty && !wasQuoted {
                quoted = true
                wasQuoted = true
            } else if character == "," {
                fields.append(field); field = ""; wasQuoted = false
            } else if character == "\r\n" {
                fields.append(field); records.append(fields); fields = []; field = ""; wasQuoted = false
            } else if character == "\n" || character == "\r" || wasQuoted {
                throw Malformed(description: "bare line break or text after a closing quote in \(text.debugDescription)")
            } else {
                field.append(character)
            }
        }
        guard fields.isEmpty && field.isEmpty && !quoted else { throw Malformed(description: "the last record has no CRLF") }
        return records
    }

    /// Sums the records per key and model (over buckets, in a series).
    static func groups(_ records: [[String]]) throws -> [GroundTruth.Group: GroundTruth.Totals] {
        guard let header = records.first else { throw Malformed(description: "no header") }
        func column(_ name: String) throws -> Int {
            guard let index = header.firstIndex(of: name) else { throw Malformed(description: "no \(name) column in \(header)") }
            return index
        }
        let key = try column("key"), model = try column("model"), cost = try column("cost_usd")
        let names = ["requests", "input_tokens", "cached_input_tokens", "cache_write_tokens", "cache_write_1h_tokens",
                     "output_tokens", "reasoning_tokens"]
        let counts = try names.map(column)
        var sums: [String: [String: Int64]] = [:]
        for record in records.dropFirst() {
            guard record.count == header.count else { throw Malformed(description: "\(record) has not \(header.count) fields") }
            var row = sums[record[key] + "|" + record[model], default: [:]]
            for (name, index) in zip(names, counts) {
                guard let value = Int64(record[index]) else { throw Malformed(description: "'\(record[index])' is not an integer") }
                row[name, default: 0] += value
            }
            row["cost_nanousd", default: 0] += try nanodollars(record[cost])
            sums[record[key] + "|" + record[model]] = row
        }
        // Back through the ledger's own reader, as rows of JSON.
        let rows: [[String: Any]] = sums.map { group, totals in
            let parts = group.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            return totals.reduce(into: ["key": parts[0], "model": parts[1]] as [String: Any]) { $0[$1.key] = $1.value }
        }
        return try GroundTruth.actual(fromUsageJSON: JSONSerialization.data(withJSONObject: rows))
    }

    /// `12.000350000` → 12_000_350_000: nine decimals exactly, or it is not what we promised.
    static func nanodollars(_ text: String) throws -> Int64 {
        let parts = text.split(separator: ".")
        guard parts.count == 2, parts[1].count == 9, let whole = Int64(parts[0]), let fraction = Int64(parts[1]) else {
            throw Malformed(description: "cost_usd '\(text)' is not exact decimal dollars")
        }
        return whole * 1_000_000_000 + fraction
    }
}
