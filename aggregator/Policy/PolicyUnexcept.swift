import ArgumentParser
import Foundation

struct PolicyUnexcept: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unexcept",
        abstract: "End one of a policy's exceptions now (numbered as `tollgate policy show` lists them).")

    @Argument(help: "Policy id.")
    var id: String

    @Argument(help: "The exception's number, from 0.")
    var index: Int

    @OptionGroup var api: APIOptions
    @OptionGroup var auth: TokenOptions
    @OptionGroup var who: ActorOptions

    func run() async throws {
        _ = try await api.send("DELETE", "/v1/policies/\(id)/exceptions/\(index)", token: try auth.token(), actor: who.actor)
        print("policy \(id): exception \(index) ended")
    }
}
