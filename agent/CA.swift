import ArgumentParser

struct Ca: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ca",
        abstract: "Manage the local CA the agent uses to intercept HTTPS to provider hosts.",
        discussion: """
        With HTTPS_PROXY pointing at the agent, it terminates TLS for provider hosts
        (api.openai.com, api.anthropic.com, …) with certificates signed by this CA,
        meters each call and re-encrypts it to the real provider. Clients must trust
        the CA: create it with `tollgate-agent ca init`; `tollgate-agent ca init
        --help` shows how to trust it from curl, Python, Node and the system store.
        """,
        subcommands: [Init.self, Export.self])
}
