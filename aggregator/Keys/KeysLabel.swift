import ArgumentParser
import Foundation
import TollgateAggregator
import TollgateCore

struct KeysLabel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "label",
        abstract: "Name a key and tie it to a team, project, owner and cost center.",
        discussion: """
        KEY is a key id (32 hex characters), its first 8 characters as reports show them, or
        its hint (openai:sk-…0001, sk-…0001, …0001). It must be a key the aggregator has
        seen; a reference that matches several keys is refused with the list.

        Only the fields given change; --field "" empties one; --clear removes the label.
        The team and project count for requests made with the key that carry no
        X-Tollgate-Team / X-Tollgate-Project header of their own, on every agent, from the
        moment the agents receive the label (within a second) — not for earlier usage.
        """)

    @Argument(help: "Key id, its first 8 characters, or its hint.")
    var key: String

    @Option(help: "A name for reports (e.g. nightly-evals).")
    var name: String?
    @Option(help: "The team its un-attributed requests count for.")
    var team: String?
    @Option(help: "The project its un-attributed requests count for.")
    var project: String?
    @Option(help: "Who answers for the key (e.g. alice@example.com).")
    var owner: String?
    @Option(help: "The cost center that pays for it.")
    var costCenter: String?
    @Flag(help: "Remove the key's label.")
    var clear = false

    @OptionGroup var api: APIOptions
    @OptionGroup var auth: TokenOptions
    @OptionGroup var who: ActorOptions

    func validate() throws {
        let changes = [name, team, project, owner, costCenter].compactMap { $0 }
        if clear, !changes.isEmpty { throw ValidationError("--clear removes the whole label; give it without --name/--team/--project/--owner/--cost-center") }
        if !clear, changes.isEmpty { throw ValidationError("give at least one of --name, --team, --project, --owner, --cost-center (or --clear)") }
    }

    func run() async throws {
        let token = try auth.token()
        let keys = try await KeysList.fetch(api: api, token: token)
        let sightings = keys.map { KeySighting(keyID: $0.keyID, hint: $0.keyHint, firstMinute: $0.firstSeenUnix / 60, lastMinute: $0.lastSeenUnix / 60) }
        let lookup = KeyLookup.resolve(key, among: sightings)
        guard case .found(let sighting) = lookup, let current = keys.first(where: { $0.keyID == sighting.keyID }) else {
            throw CLIError(KeyLookup.problem(lookup) ?? "no key matches '\(key)'")
        }
        let path = "/v1/keys/\(current.keyID)"
        let data: Data
        if clear {
            data = try await api.send("DELETE", path, token: token, actor: who.actor)
        } else {
            let body = KeyLabelBody(name: name ?? current.name, team: team ?? current.team, project: project ?? current.project,
                                    owner: owner ?? current.owner, costCenter: costCenter ?? current.costCenter)
            data = try await api.send("PUT", path, body: try JSONEncoder().encode(body), token: token, actor: who.actor)
        }
        let view = try JSONDecoder().decode(KeyView.self, from: data)
        print(KeysTable(keys: [view]).render())
    }
}
