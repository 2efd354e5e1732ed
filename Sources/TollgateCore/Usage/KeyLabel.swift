/// What an operator says about one API key (by its `key_id`): a name for reports, and the
/// team and project its requests count for when they carry no attribution of their own.
///
/// Owner and cost center are for showback: who answers for the key, and whose budget line
/// pays. Only team and project travel to agents (with the quota state); the rest stays on
/// the aggregator.
public struct KeyLabel: Equatable, Hashable, Sendable, Codable {
    public var keyID: String
    public var name: String
    public var team: String
    public var project: String
    public var owner: String
    public var costCenter: String

    public init(keyID: String, name: String = "", team: String = "", project: String = "", owner: String = "", costCenter: String = "") {
        self.keyID = keyID
        self.name = name
        self.team = team
        self.project = project
        self.owner = owner
        self.costCenter = costCenter
    }

    enum CodingKeys: String, CodingKey {
        case keyID = "key_id", name, team, project, owner
        case costCenter = "cost_center"
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        keyID = try container.decode(String.self, forKey: .keyID)
        func text(_ key: CodingKeys) throws -> String { try container.decodeIfPresent(String.self, forKey: key) ?? "" }
        name = try text(.name)
        team = try text(.team)
        project = try text(.project)
        owner = try text(.owner)
        costCenter = try text(.costCenter)
    }

    /// Nothing but the key id: the same as no label.
    public var isEmpty: Bool { name.isEmpty && team.isEmpty && project.isEmpty && owner.isEmpty && costCenter.isEmpty }

    /// Labels are names, not payloads: short and free of control characters, like
    /// attribution headers (a team set here must be a value a budget selector can name).
    public static let maxFieldLength = 128

    /// Throws `KeyLabelError` naming the first field that is not a usable label.
    public func validate() throws {
        guard keyID.count == 32, keyID.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
            throw KeyLabelError("key id '\(keyID)' is not a key id: 32 lowercase hex characters, as `tollgate keys list` shows them")
        }
        for (field, value) in [("name", name), ("team", team), ("project", project), ("owner", owner), ("cost_center", costCenter)] {
            guard value.count <= Self.maxFieldLength else {
                throw KeyLabelError("\(field) is \(value.count) characters; at most \(Self.maxFieldLength)")
            }
            guard value.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else {
                throw KeyLabelError("\(field) contains a control character; use plain text")
            }
        }
    }
}

public struct KeyLabelError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
