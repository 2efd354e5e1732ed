import ArgumentParser

struct Ca: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ca",
        abstract: "Manage the local CA the agent uses to intercept HTTPS to provider hosts.",
        discussion: """
        With HTTPS_PROXY pointing at the agent, the agent terminates TLS for provider hosts
        (api.openai.com, api.anthropic.com, …) with certificates signed by this CA, meters the
        call and re-encrypts it to the real provider. Clients must trust the CA: create it with
        `tollgate-agent ca init`, then see `tollgate-agent ca init --help` for how to trust it.
        """,
        subcommands: [Init.self, Export.self])
}
