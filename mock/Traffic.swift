import ArgumentParser
import Foundation
import TollgateMockProvider

struct Traffic: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send known traffic in any provider's wire format and report what the clients were billed.",
        discussion: """
        Sends --requests requests. With --agent-url ROOT (the agent's root, or the mock's) \
        OpenAI formats go to ROOT/openai/v1/…, Anthropic to ROOT/anthropic/v1/messages, \
        Gemini to ROOT/gemini/v1beta/models/…, Azure to ROOT/openai/deployments/…. Without \
        it, --base-url is the OpenAI route (http://127.0.0.1:8787/openai) and the other \
        providers' routes are taken to sit beside it.

        --formats picks wire formats (comma-separated, or all); request i uses format \
        i mod formats: \(TrafficFormat.allCases.map(\.rawValue).joined(separator: ", ")). \
        openaiChatStream streams without stream_options.include_usage: the mock bills it \
        but the client never sees its usage.

        Keys are fixed, not random, so reruns attribute spend to the same keys: \
        sk-tollgate-demo-0000000000000000000001 up to --keys. Request i uses key i mod keys \
        and model (i / keys) mod n of its format's list: --models for OpenAI chat, \
        Responses and Azure deployments, and separate lists for Anthropic, Gemini, \
        embeddings and legacy completions. About one request in five has a long system \
        prompt (cached input; an Anthropic cache_control breakpoint), one in four a small \
        output limit, and bodies are byte-identical across runs, so the mock's ledger is \
        reproducible.

        Streams are read to their end. The report sums the usage each client saw, grouped \
        by provider, key and the model the response named, and counts requests per format. \
        With --compare-ledger MOCK-URL it also fetches the mock's ledger and fails unless \
        the two agree, which only holds if the mock served nothing else since it started \
        (when some usage was hidden, only request counts can be compared). Exits non-zero \
        if any request failed.
        """
    )

    @Option(help: "Where to send OpenAI traffic: the agent's OpenAI route or the mock's root URL.")
    var baseURL = "http://127.0.0.1:8787/openai"

    @Option(help: "The agent's (or the mock's) root URL; overrides --base-url and routes every provider under it.")
    var agentURL: String?

    @Option(help: "Comma-separated wire formats, or all.")
    var formats = "openaiChat"

    @Option(help: "Number of requests to send.")
    var requests = 300

    @Option(help: "Number of demo API keys to spread the requests over.")
    var keys = 4

    @Option(help: "Comma-separated OpenAI models (also Azure deployment names).")
    var models = "gpt-4o,gpt-4o-mini,gpt-4.1-mini"

    @Option(help: "Comma-separated Anthropic models.")
    var anthropicModels = TrafficPlan.defaultAnthropicModels.joined(separator: ",")

    @Option(help: "Comma-separated Gemini models.")
    var geminiModels = TrafficPlan.defaultGeminiModels.joined(separator: ",")

    @Option(help: "Comma-separated embedding models.")
    var embeddingModels = TrafficPlan.defaultEmbeddingModels.joined(separator: ",")

    @Option(help: "Comma-separated legacy completion models.")
    var completionModels = TrafficPlan.defaultCompletionModels.joined(separator: ",")

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
        if let agentURL, URL(string: agentURL)?.scheme?.hasPrefix("http") != true {
            throw ValidationError("--agent-url '\(agentURL)' is not an http(s) URL; e.g. http://127.0.0.1:8787")
        }
        if let compareLedger, URL(string: compareLedger)?.scheme?.hasPrefix("http") != true {
            throw ValidationError("--compare-ledger '\(compareLedger)' is not an http(s) URL; e.g. http://127.0.0.1:9700")
        }
        guard requests >= 0 else { throw ValidationError("--requests must be 0 or more") }
        guard keys >= 1 else { throw ValidationError("--keys must be at least 1") }
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        do {
            try plan.validate()
        } catch {
            throw ValidationError("\(error)")
        }
    }

    private var plan: TrafficPlan {
        get throws {
            TrafficPlan(
                apiKeys: TrafficPlan.demoKeys(count: keys), models: Self.list(models),
                requests: requests, concurrency: concurrency, formats: try TrafficFormat.parseList(formats),
                anthropicModels: Self.list(anthropicModels), geminiModels: Self.list(geminiModels),
                embeddingModels: Self.list(embeddingModels), completionModels: Self.list(completionModels)
            )
        }
    }

    private static func list(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    func run() async throws {
        let plan = try self.plan
        let started = Date()
        let report = if let agentURL {
            try await runTraffic(plan: plan, agentURL: URL(string: agentURL)!)
        } else {
            try await runTraffic(plan: plan, baseURL: URL(string: baseURL)!)
        }
        let elapsed = Date().timeIntervalSince(started)

        var comparison: LedgerComparison?
        if let compareLedger {
            comparison = LedgerComparison(report: report, ledger: try await fetchLedger(mockURL: URL(string: compareLedger)!))
        }

        switch format {
        case .json:
            print(try JSONOutput.string(report))
        case .table:
            print(UsageTable.render(report.entries))
            print("")
            for count in report.formats {
                let hidden = count.usageHidden > 0 ? ", \(count.usageHidden) without visible usage" : ""
                print("  \(count.format.rawValue): \(count.requests - count.failures)/\(count.requests) succeeded\(hidden)")
            }
            print("\(report.requests - report.failures)/\(report.requests) requests succeeded in \(String(format: "%.2f", elapsed)) s")
            for sample in report.failureSamples { print("  failure: \(sample)") }
            if let comparison { print(comparison.summary) }
        }

        if report.failures > 0 {
            printError("\(report.failures) of \(report.requests) requests failed; first: \(report.failureSamples.first ?? "?")")
            throw ExitCode(1)
        }
        if comparison?.matches == false {
            printError("the mock's ledger differs from what the clients saw; was the mock used by anything else since it started?")
            throw ExitCode(2)
        }
    }
}

/// The report against the mock's ledger: exactly equal, or, when some streamed usage was
/// invisible to the clients, equal in requests per provider, key and model.
struct LedgerComparison {
    var report: TrafficReport
    var ledger: LedgerSnapshot

    var tokensComparable: Bool { report.usageHidden == 0 }

    var matches: Bool {
        tokensComparable ? ledger.entries == report.entries : requestCounts(ledger.entries) == requestCounts(report.entries)
    }

    var summary: String {
        switch (matches, tokensComparable) {
        case (true, true):
            "ledger matches the report"
        case (true, false):
            "ledger matches the report in requests per key and model; \(report.usageHidden) streamed request(s) "
                + "showed no usage (no stream_options.include_usage), so tokens cannot be compared"
        case (false, _):
            "LEDGER MISMATCH; the mock billed:\n\(UsageTable.render(ledger.entries))"
        }
    }

    private func requestCounts(_ entries: [LedgerEntry]) -> [String: Int] {
        Dictionary(entries.map { ("\($0.provider) \($0.apiKey) \($0.model)", $0.requests) }, uniquingKeysWith: +)
    }
}

/// Diagnostics go to stderr so `--format json` output stays parseable.
func printError(_ message: String) {
    FileHandle.standardError.write(Data("tollgate-mock: \(message)\n".utf8))
}
