import ArgumentParser
import Foundation
import TollgateMockProvider

struct Ledger: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print what a running mock has billed since it started.",
        discussion: """
        Reads GET MOCK-URL/_mock/ledger: every successful completion the mock served, \
        summed per API key and per response model (the dated snapshot, e.g. \
        gpt-4o-mini-2024-07-18), plus the number of completion requests it refused. \
        This is the ground truth Tollgate's totals should match: PROMPT includes CACHED, \
        COMPLETION includes REASONING, as in OpenAI's usage object.
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
            print("\(snapshot.errors) completion request(s) answered with an error")
        }
    }
}
