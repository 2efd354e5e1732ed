import ArgumentParser
import Foundation
import TollgateCore
import TollgateMockProvider
import TollgateProviders
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check that Tollgate's aggregator totals equal what the mock served, exactly.",
        discussion: """
        Fetches the mock's ledger, turns each API key into its key_id with the org secret \
        and prices each group with the built-in catalog, then polls the aggregator's \
        GET /v1/usage?by=key,model until every group's requests, token classes (input, \
        cached input, cache writes, output, reasoning) and cost_nanousd match, or --timeout passes. Prints the differences and exits 1 if \
        they never match.
        """)

    @Option(help: "The mock provider's root URL.")
    var mock = "http://127.0.0.1:9700"

    @Option(help: "The aggregator's HTTP API.")
    var api = "http://127.0.0.1:7601"

    @Option(help: "The org secret file the agent hashes API keys with.")
    var orgSecretFile: String

    @Option(help: "File holding an aggregator API token (the read-only one suffices; default: $TOLLGATE_TOKEN).")
    var tokenFile: String?

    @Option(help: "Seconds to wait for usage to arrive at the aggregator.")
    var timeout: Double = 30

    func run() async throws {
        guard let mockURL = URL(string: mock), let usageURL = URL(string: api + "/v1/usage?since=0&by=key,model") else {
            throw ValidationError("--mock and --api must be URLs")
        }
        guard let secret = FileManager.default.contents(atPath: orgSecretFile) else {
            throw ValidationError("cannot read --org-secret-file \(orgSecretFile)")
        }
        let trimmed = String(decoding: secret, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let ledger = try await fetchLedger(mockURL: mockURL)
        let expected = GroundTruth.expected(from: ledger, keys: KeyIdentifier(orgSecret: Array(trimmed.utf8)),
                                            prices: DefaultPriceCatalog.load())
        var request = URLRequest(url: usageURL)
        let token = try tokenFile.map { file -> String in
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw ValidationError("cannot read --token-file \(file)") }
            return text
        } ?? ProcessInfo.processInfo.environment["TOLLGATE_TOKEN"]
        if let token { request.setValue("Bearer \(token.trimmingCharacters(in: .whitespacesAndNewlines))", forHTTPHeaderField: "Authorization") }
        let deadline = Date().addingTimeInterval(timeout)
        var differences: [String] = []
        repeat {
            let (data, response) = try await URLSession.shared.data(for: request)
            if (response as? HTTPURLResponse)?.statusCode == 401 {
                throw ValidationError("the aggregator refused the usage read (401): pass --token-file with its api-read-token or api-token, or set TOLLGATE_TOKEN")
            }
            differences = GroundTruth.differences(expected: expected, actual: try GroundTruth.actual(fromUsageJSON: data))
            if differences.isEmpty { break }
            try await Task.sleep(for: .milliseconds(250))
        } while Date() < deadline
        guard differences.isEmpty else {
            print("MISMATCH between the mock's ledger and the aggregator:")
            differences.forEach { print("  \($0)") }
            throw ExitCode(1)
        }
        let requests = expected.values.reduce(0) { $0 + $1.requests }
        let cost = Nanodollars(expected.values.reduce(0) { $0 + $1.costNanousd })
        print("OK: \(expected.count) key/model groups, \(requests) requests, \(cost.formatted) (\(cost.value) nanodollars): "
            + "the aggregator's totals equal the mock's ground truth for every token class and cost")
    }
}
