import TollgateCore

/// One key as `GET /v1/keys` gives it and `tollgate keys list` reads it: its label (empty
/// strings when unlabelled), when it was first and last seen, and its spend this month
/// (UTC calendar month, exact in `month_cost_nanousd`).
public struct KeyView: Codable, Equatable, Sendable {
    public var keyID: String
    public var keyHint: String
    public var labelled: Bool
    public var name: String
    public var team: String
    public var project: String
    public var owner: String
    public var costCenter: String
    public var firstSeenUnix: Int64
    public var lastSeenUnix: Int64
    public var monthStartUnix: Int64
    public var monthRequests: Int64
    public var monthCostNanousd: Int64
    public var monthCostUSD: String

    enum CodingKeys: String, CodingKey {
        case keyID = "key_id", keyHint = "key_hint", labelled, name, team, project, owner, costCenter = "cost_center"
        case firstSeenUnix = "first_seen_unix", lastSeenUnix = "last_seen_unix", monthStartUnix = "month_start_unix"
        case monthRequests = "month_requests", monthCostNanousd = "month_cost_nanousd", monthCostUSD = "month_cost_usd"
    }

    init(sighting: KeySighting, label: KeyLabel?, monthStartMinute: Int64, month: UsageCounters?) {
        keyID = sighting.keyID
        keyHint = sighting.hint
        labelled = label != nil
        name = label?.name ?? ""
        team = label?.team ?? ""
        project = label?.project ?? ""
        owner = label?.owner ?? ""
        costCenter = label?.costCenter ?? ""
        firstSeenUnix = sighting.firstMinute * 60
        lastSeenUnix = sighting.lastMinute * 60
        monthStartUnix = monthStartMinute * 60
        monthRequests = month?.requests ?? 0
        monthCostNanousd = month?.cost.value ?? 0
        monthCostUSD = (month?.cost ?? .zero).decimalUSD
    }
}

/// The body of `PUT /v1/keys/{key_id}`: the whole label (a field left out is empty).
public struct KeyLabelBody: Codable, Equatable, Sendable {
    public var name: String?
    public var team: String?
    public var project: String?
    public var owner: String?
    public var costCenter: String?

    public init(name: String? = nil, team: String? = nil, project: String? = nil, owner: String? = nil, costCenter: String? = nil) {
        self.name = name
        self.team = team
        self.project = project
        self.owner = owner
        self.costCenter = costCenter
    }

    enum CodingKeys: String, CodingKey {
        case name, team, project, owner, costCenter = "cost_center"
    }

    func label(keyID: String) -> KeyLabel {
        KeyLabel(keyID: keyID, name: name ?? "", team: team ?? "", project: project ?? "", owner: owner ?? "", costCenter: costCenter ?? "")
    }
}
