import Foundation

/// The agent's `/status` document: identity and how far usage shipping has got.
struct AgentStatus: Encodable {
    var agentID: String
    var shipper: ShipperStatus

    enum CodingKeys: String, CodingKey {
        case agentID = "agent_id"
        case shipper
    }

    func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) + "\n" } ?? "{}\n"
    }
}
