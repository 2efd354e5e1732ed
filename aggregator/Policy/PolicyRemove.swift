import ArgumentParser
import Foundation

struct PolicyRemove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm",
        abstract: "Remove a policy; agents stop applying it within about a second. Its history stays in the audit log.")

    @Argument(help: "Policy id.")
    var id: String

    @OptionGroup var api: APIOptions
    @OptionGroup var auth: TokenOptions
    @OptionGroup var who: ActorOptions

    func run() async throws {
        _ = try await api.send("DELETE", "/v1/policies/\(id)", token: try auth.token(), actor: who.actor)
        print("removed policy \(id)")
    }
}
