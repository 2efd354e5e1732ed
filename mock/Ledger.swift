import ArgumentParser
import Foundation
import TollgateMockProvider

struct Ledger: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print what a running mock has billed since it started.",
        discussion: """
        Reads GET MOCK-URL/_mock/ledger: every successful request the mock served, \
        streamed or not, summed per provider, API key and response model (the name the \
        provider answered with, e.g. gpt-4o-mini-2024-07-18 or claude-sonnet-4-5-20250929), \
        plus the number of requests it refused. A streamed request is billed in full \
        even when its response carried no usage.

        This is the ground truth Tollgate's totals should match, in Tollgate's classes \
        for every provider: PROMPT includes CACHED and CACHE WRITE (for Anthropic, \
        input_tokens + cache_read + cache_creation), COMPLETION includes REASONING (for \
        Gemini, candidates + thoughts).
        """
    )

    @Option(help: "Root URL of a running `tollgate-mock serve`.")
    var mockURL = "http://127.0.0.1:9700"

    @Option(help: "Output format: table or json.")
    var format: OutputFormat = .table

    func validate() throws {
        guard URL(string: mockURL)?.scheme?.hasPrefix("http") == true else {
            throw ValidationError("--mock-url '\(mockURL)' is not an http(s) URL; e.g. http://127.0.0.1:9700")
        }
    }

    func run() async throws {
        let snapshot = try await fetchLedger(mockURL: URL(string: mockURL)!)
        switch format {
        case .json:
            print(try JSONOutput.string(snapshot))
        case .table:
            print(UsageTable.render(snapshot.entries))
            print("")
            print("\(snapshot.errors) request(s) answered with an error")
        }
    }
}
