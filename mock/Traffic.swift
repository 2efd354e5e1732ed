import ArgumentParser
import Foundation
import TollgateMockProvider

struct Traffic: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send known chat-completion traffic and report what the clients were billed.",
        discussion: """
        Sends --requests POSTs to BASE-URL/v1/chat/completions. BASE-URL is normally the \
        agent's OpenAI route (http://127.0.0.1:8787/openai); the mock itself works too, \
        since it serves the same path.

        Keys are fixed, not random, so reruns attribute spend to the same keys: \
        sk-tollgate-demo-0000000000000000000001 up to --keys. Request i uses key i mod keys \
        and model (i / keys) mod models. About one request in five has a prompt long enough to \
        report cached tokens, one in four sets a small max_tokens, and bodies are \
        byte-identical across runs, so the mock's ledger is reproducible.

        The report sums the usage each client saw, grouped by key and by the model the \
        response named. With --compare-ledger MOCK-URL it also fetches the mock's ledger and \
        fails unless the two agree, which only holds if the mock served nothing else since \
        it started. Exits non-zero if any request failed.
        """
    )

    @Option(help: "Where to send traffic: the agent's OpenAI route or the mock's root URL.")
    var baseURL = "http://127.0.0.1:8787/openai"

    @Option(help: "Number of requests to send.")
    var requests = 300

    @Option(help: "Number of demo API keys to spread the requests over.")
    var keys = 4

    @Option(help: "Comma-separated models to request.")
    var models = "gpt-4o,gpt-4o-mini,gpt-4.1-mini"

    @Option(help: "Requests in flight at once.")
    var concurrency = 8

    @Option(help: "Fetch the ledger from this mock URL afterwards and require it to match the report.")
    var compareLedger: String?

    @Option(help: "Output format: table or json.")
    var format: OutputFormat = .table

    func validate() throws {
        guard URL(string: baseURL)?.scheme?.hasPrefix("http") == true else {
            throw ValidationError("--base-url '\(baseURL)' is not an http(s) URL; e.g. http://127.0.0.1:8787/openai")
        }
        if let compareLedger, URL(string: compareLedger)?.scheme?.hasPrefix("http") != true {
            throw ValidationError("--compare-ledger '\(compareLedger)' is not an http(s) URL; e.g. http://127.0.0.1:9700")
        }
        guard requests >= 0 else { throw ValidationError("--requests must be 0 or more") }
        guard keys >= 1 else { throw ValidationError("--keys must be at least 1") }
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        guard !modelList.isEmpty else { throw ValidationError("--models is empty; e.g. --models gpt-4o,gpt-4o-mini") }
    }

    private var modelList: [String] {
        models.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    func run() async throws {
        let plan = TrafficPlan(
            apiKeys: TrafficPlan.demoKeys(count: keys), models: modelList,
            requests: requests, concurrency: concurrency
        )
        let started = Date()
        let report = try await runTraffic(plan: plan, baseURL: URL(string: baseURL)!)
        let elapsed = Date().timeIntervalSince(started)

        var ledgerMatches: Bool?
        var ledger: LedgerSnapshot?
        if let compareLedger {
            let snapshot = try await fetchLedger(mockURL: URL(string: compareLedger)!)
            ledger = snapshot
            ledgerMatches = snapshot.entries == report.entries
        }

        switch format {
        case .json:
            print(try JSONOutput.string(report))
        case .table:
            print(UsageTable.render(report.entries))
            print("")
            print("\(report.requests - report.failures)/\(report.requests) requests succeeded in \(String(format: "%.2f", elapsed)) s")
            for sample in report.failureSamples { print("  failure: \(sample)") }
            if let ledgerMatches {
                print(ledgerMatches ? "ledger matches the report" : "LEDGER MISMATCH; the mock billed:\n\(UsageTable.render(ledger?.entries ?? []))")
            }
        }

        if report.failures > 0 {
            printError("\(report.failures) of \(report.requests) requests failed; first: \(report.failureSamples.first ?? "?")")
            throw ExitCode(1)
        }
        if ledgerMatches == false {
            printError("the mock's ledger differs from what the clients saw; was the mock used by anything else since it started?")
            throw ExitCode(2)
        }
    }
}

/// Diagnostics go to stderr so `--format json` output stays parseable.
func printError(_ message: String) {
    FileHandle.standardError.write(Data("tollgate-mock: \(message)\n".utf8))
}
