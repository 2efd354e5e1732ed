import Foundation

/// The agent's persistent identity and batch numbering, kept in the state directory.
///
/// `agent_id` names this agent's usage stream at the aggregator, and `next_seq` keeps
/// numbering increasing across restarts: a restarted agent that reused numbers would
/// have its new batches taken for duplicates and dropped.
struct AgentIdentity: Codable, Equatable {
    var agentID: String
    var nextSeq: UInt64

    enum CodingKeys: String, CodingKey {
        case agentID = "agent_id"
        case nextSeq = "next_seq"
    }

    static func fileURL(in directory: String) -> URL {
        URL(fileURLWithPath: directory).appendingPathComponent("agent.json")
    }

    /// Reads the identity, creating a fresh one on first start.
    static func loadOrCreate(in directory: String) throws -> AgentIdentity {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let url = fileURL(in: directory)
        if let data = FileManager.default.contents(atPath: url.path) {
            do {
                return try JSONDecoder().decode(AgentIdentity.self, from: data)
            } catch {
                throw AgentError.corruptState(path: url.path, reason: "\(error)")
            }
        }
        let identity = AgentIdentity(agentID: UUID().uuidString.lowercased(), nextSeq: 1)
        try identity.save(in: directory)
        return identity
    }

    /// Replaced atomically, so a crash leaves the old or the new identity, never half.
    func save(in directory: String) throws {
        try DurableFile.writeAtomically(try JSONEncoder().encode(self), to: Self.fileURL(in: directory).path)
    }
}
