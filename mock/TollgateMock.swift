import ArgumentParser
import TollgateCore

/// `tollgate-mock`: a stand-in for the LLM providers in tests and the demo, and a client that drives it.
@main
struct TollgateMock: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tollgate-mock",
        abstract: "A local mock of the OpenAI, Azure, Anthropic and Gemini APIs, and a traffic driver that knows the ground truth.",
        discussion: """
        Tollgate meters LLM spend by proxying traffic. To check that it meters correctly \
        without paying a provider, run the mock (`serve`), point the agent's upstreams at \
        it, send known traffic through the agent (`traffic`), then compare what the agent \
        recorded with what the mock says it billed (`ledger`, `verify`).

        Usage numbers are deterministic functions of each request, so the same traffic \
        always produces the same ledger.
        """,
        version: TollgateVersion.current,
        subcommands: [Serve.self, Traffic.self, Ledger.self, Verify.self]
    )
}
