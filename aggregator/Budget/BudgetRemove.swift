import ArgumentParser
import Foundation
import TollgateCore

struct BudgetRemove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm",
        abstract: "Remove a budget. Its exemptions stay on record (audit trail).")

    @Argument(help: "Budget id.")
    var id: String

    @OptionGroup var api: APIOptions
    @OptionGroup var auth: TokenOptions
    @OptionGroup var who: ActorOptions

    func run() async throws {
        _ = try await api.send("DELETE", "/v1/budgets/\(id)", token: try auth.token(), actor: who.actor)
        print("removed budget \(id)")
    }
}
