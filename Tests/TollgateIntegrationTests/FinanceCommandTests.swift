import Foundation
import TestSupport
import Testing
import TollgateCore
import TollgateMockProvider
import TollgateProviders
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `tollgate export focus` and `tollgate report` end to end: real traffic through the agent,
/// the aggregator's store, the CLI; every total checked against the mock's ledger, and the
/// export run through the FinOps Foundation's own validator.
@Suite(.serialized) struct FinanceCommandTests {
    /// Where `scripts/install-deps.sh` puts focus-validator (its own virtual environment).
    static let validatorVenv = ProcessInfo.processInfo.environment["FOCUS_VALIDATOR_VENV"] ?? "/opt/tollgate-focus-validator"

    static func taggedChat(_ agent: URL, key: String, team: String, useCase: String) async throws {
        var request = URLRequest(url: agent.appendingPathComponent("openai/v1/chat/completions"))
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
        request.setValue(team, forHTTPHeaderField: "X-Tollgate-Team")
        request.setValue(useCase, forHTTPHeaderField: "X-Tollgate-Use-Case")
        request.httpBody = Data(#"{"model":"gpt-4.1","max_tokens":40,"messages":[{"role":"user","content":"hello, finance"}]}"#.utf8)
        let (_, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
    }

    @Test func exportAndReportAgreeWithTheLedgerAndTheValidator() async throws {
        let cluster = try LocalCluster()
        defer { cluster.shutdown() }
        try await cluster.start()

        let plan = TrafficPlan(apiKeys: TrafficPlan.demoKeys(count: 3), models: ["gpt-4o-mini", "gpt-4.1"], requests: 24, concurrency: 4,
                               formats: [.openaiChat, .openaiChatStreamWithUsage, .anthropicMessages, .anthropicMessagesStream, .geminiGenerate])
        let traffic = try await runTraffic(plan: plan, agentURL: cluster.agentURL)
        #expect(traffic.failures == 0, "\(traffic.failureSamples)")
        let mlKey = "sk-finance-ml-000000000000000001"
        for _ in 0..<3 { try await Self.taggedChat(cluster.agentURL, key: mlKey, team: "ml", useCase: "review") }

        // Ground truth: the mock's ledger, priced with the catalog; wait until the aggregator has it all.
        let ledger = try await fetchLedger(mockURL: cluster.mockURL)
        let keys = KeyIdentifier(orgSecret: cluster.orgSecret)
        let expected = GroundTruth.expected(from: ledger, keys: keys, prices: DefaultPriceCatalog.load())
        let ledgerTotal = expected.values.reduce(Int64(0)) { $0 + $1.costNanousd }
        let mlTotal = expected.filter { $0.key.keyID == keys.keyID(for: mlKey) }.values.reduce(Int64(0)) { $0 + $1.costNanousd }
        #expect(ledgerTotal > 0 && mlTotal > 0)
        let usageJSON = try await eventually(until: { json in
            GroundTruth.differences(expected: expected, actual: (try? GroundTruth.actual(fromUsageJSON: Data(json.utf8))) ?? [:]).isEmpty
        }) {
            try cluster.cli(["usage", "--since", "2h", "--until", "+1h", "--by", "key,model", "--format", "json"])
        }
        let usageRows = try JSONSerialization.jsonObject(with: Data(usageJSON.utf8)) as? [[String: Any]] ?? []
        let usageTotal = usageRows.reduce(Int64(0)) { $0 + Int64($1["cost_nanousd"] as? Int ?? 0) }
        #expect(usageTotal == ledgerTotal)

        // The export: owner-only, and its BilledCost is the usage total to the nanodollar.
        let auth = ["--token-file", cluster.apiTokenFile]
        let file = cluster.directory.appendingPathComponent("focus.csv").path
        _ = try cluster.cli(["export", "focus", "--from", "2h", "--to", "+1h", "--output", file] + auth)
        let mode = (try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o600)
        let csv = try String(contentsOfFile: file, encoding: .utf8)
        let records = CSVRecords.records(csv)
        func nanodollars(_ text: String?) -> Int64 { (try? parseUSDToNanodollars(text ?? "")) ?? Int64.min / 4 }
        #expect(records.reduce(Int64(0)) { $0 + nanodollars($1["BilledCost"]) } == usageTotal, "export total against tollgate usage")
        // Per key and model too: each group's rows add up to what the mock billed it.
        var exported: [String: Int64] = [:]
        for record in records {
            exported["\(record["ResourceId"] ?? "") \(record["x_ModelId"] ?? "")", default: 0] += nanodollars(record["BilledCost"])
        }
        let billed = Dictionary(uniqueKeysWithValues: expected.map { ("\($0.key.keyID) \($0.key.model)", $0.value.costNanousd) })
        #expect(exported == billed, "export per key and model against the ledger")
        #expect(records.allSatisfy { $0["ServiceCategory"] == "AI and Machine Learning" && $0["ChargeCategory"] == "Usage" })
        #expect(records.contains { $0["Tags"] == #"{"team":"ml","use_case":"review"}"# }, "\(records.prefix(3))")
        #expect(Set(records.compactMap { $0["x_TokenClass"] }).isSuperset(of: ["input", "output"]))
        try Self.validate(file, in: cluster.directory)

        // The month's showback: the ledger's total, the ml team's share of it.
        let month = ThisMonth.current
        let json = try cluster.cli(["report", "--month", month, "--by", "team", "--format", "json"] + auth)
        let report = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] ?? [:]
        let total = report["total"] as? [String: Any] ?? [:]
        #expect(total["spend_nanousd"] as? Int == Int(ledgerTotal), "\(json)")
        #expect(total["previous_spend_nanousd"] as? Int == 0)
        let rows = report["rows"] as? [[String: Any]] ?? []
        let ml = rows.first { $0["value"] as? String == "ml" }
        #expect(ml?["spend_nanousd"] as? Int == Int(mlTotal), "\(rows)")
        #expect((ml?["top_use_cases"] as? [[String: Any]])?.first?["name"] as? String == "review")
        let untagged = rows.first(where: { $0["value"] as? String == "" })
        #expect(untagged?["spend_nanousd"] as? Int == Int(ledgerTotal - mlTotal), "\(rows)")
        let table = try cluster.cli(["report", "--month", month] + auth)
        #expect(table.contains("TOTAL") && table.contains("ml") && table.contains("no budget") && table.contains("review"), "\(table)")
        let csvReport = CSVRecords.records(try cluster.cli(["report", "--month", month, "--format", "csv"] + auth))
        #expect(csvReport.last?["team"] == "TOTAL" && nanodollars(csvReport.last?["spend_usd"]) == ledgerTotal)
    }

    @Test func badMonthsAndRangesAreRefusedWithWhatIsExpected() async throws {
        let cluster = try LocalCluster()
        defer { cluster.shutdown() }
        try await cluster.start()
        let auth = ["--token-file", cluster.apiTokenFile, "--api", cluster.apiURL.absoluteString]
        let month = try Self.tollgate(["report", "--month", "2026-13"] + auth)
        #expect(month.status != 0 && month.stderr.contains("expected YYYY-MM"), "\(month.stderr)")
        let range = try Self.tollgate(["export", "focus", "--from", "2026-12-01", "--to", "2026-11-01"] + auth)
        #expect(range.status != 0 && range.stderr.contains("before it starts"), "\(range.stderr)")
        // An empty month is a report of zeros, not an error.
        let empty = try Self.tollgate(["report", "--month", "2031-02", "--format", "json"] + auth)
        #expect(empty.status == 0 && empty.stdout.contains(#""spend_nanousd" : 0"#), "\(empty.stdout)\(empty.stderr)")
        let unauthorized = try Self.tollgate(["report", "--month", "2026-11", "--token-file", "/dev/null", "--api", cluster.apiURL.absoluteString])
        #expect(unauthorized.status != 0)
    }

    /// Runs focus-validator on the export. The newest release (1.0.0) validates FOCUS up to
    /// 1.0, so it reads a copy whose header gives the four columns renamed since 1.0 their
    /// 1.0 names (ServiceProvider… are checked by the tests above); every value is as exported.
    /// One rule is skipped, named in the override file: SkuPriceId_Nullable queries a
    /// `ChargeType` column that FOCUS 1.0 does not have (the validator's own defect; our
    /// SkuPriceId is never null, which `records` shows). Everything else must pass.
    static func validate(_ file: String, in directory: URL) throws {
        let validator = validatorVenv + "/bin/focus-validator"
        guard FileManager.default.isExecutableFile(atPath: validator) else {
            Issue.record("focus-validator is not installed at \(validator): run scripts/install-deps.sh (or set FOCUS_VALIDATOR_VENV)")
            return
        }
        let renamed = ["ProviderName": "Provider", "PublisherName": "Publisher", "InvoiceIssuerName": "InvoiceIssuer", "ResourceId": "ResourceID"]
        let csv = try String(contentsOfFile: file, encoding: .utf8)
        let headerEnd = try #require(csv.range(of: "\r\n"))
        let header = csv[..<headerEnd.lowerBound].split(separator: ",").map { renamed[String($0)] ?? String($0) }.joined(separator: ",")
        let copy = directory.appendingPathComponent("focus-1.0-names.csv")
        try (header + csv[headerEnd.lowerBound...]).write(to: copy, atomically: true, encoding: .utf8)
        let overrides = directory.appendingPathComponent("focus-overrides.yaml")
        try "overrides:\n  - SkuPriceId_Nullable\n".write(to: overrides, atomically: true, encoding: .utf8)
        let report = directory.appendingPathComponent("focus-validation.xml")
        // It reads its currency list from a path relative to its package's parent directory.
        let sitePackages = try run(validatorVenv + "/bin/python", ["-c", "import focus_validator, os; print(os.path.dirname(os.path.dirname(focus_validator.__file__)))"])
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let result = try run(validator, ["--data-file", copy.path, "--validate-version", "1.0", "--override-file", overrides.path,
                                         "--output-type", "unittest", "--output-destination", report.path], directory: sitePackages)
        let xml = (try? String(contentsOf: report, encoding: .utf8)) ?? ""
        func count(_ attribute: String) -> Int? {
            guard let range = xml.range(of: #"<testsuites [^>]*\#(attribute)="(\d+)""#, options: .regularExpression) else { return nil }
            return Int(xml[range].split(separator: "\"").last ?? "")
        }
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(count("tests") ?? 0 >= 100, "\(xml.prefix(500))\(result.stderr)")
        #expect(count("failures") == 0 && count("errors") == 0, "focus-validator: \(xml)")
        #expect(count("skipped") == 1)
    }

    static func run(_ executable: String, _ arguments: [String], directory: String? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }

    static func tollgate(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try run(try LocalCluster.binary("tollgate").path, arguments)
    }
}

private enum ThisMonth {
    /// This UTC month, `YYYY-MM`: the traffic above was all sent in it.
    static var current: String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month], from: Date())
        return String(format: "%04d-%02d", parts.year ?? 1970, parts.month ?? 1)
    }
}
