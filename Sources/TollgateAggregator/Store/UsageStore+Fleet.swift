import Foundation

/// The fleet registry's records: `"f"` + agent id → the `AgentRecord` as JSON.
///
/// Written without a sync when a report changes who the agent is, else at most once a minute
/// per agent (`FleetRoster.storeInterval`): after a restart an agent's last report may be up
/// to a minute older than the one it really sent last. Read once, at start. Agents that shipped before this aggregator
/// kept fleet records are found through their last seq (`"a"` + agent id), so an upgraded
/// aggregator lists every agent that ever shipped.
extension UsageStore {
    static let fleetPrefix = UInt8(ascii: "f")

    func saveAgent(_ record: AgentRecord) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let writes = WriteBatch()
        writes.put(key: [Self.fleetPrefix] + Array(record.agentID.utf8), value: Array(try encoder.encode(record)))
        try db.write(writes, sync: false)
    }

    /// Every stored record, plus a bare one for each agent known only by its last seq.
    /// Unreadable records are skipped and counted, not fatal: they only describe the fleet.
    func loadAgents() throws -> (records: [AgentRecord], unreadable: Int) {
        var records: [String: AgentRecord] = [:]
        var unreadable = 0
        let decoder = JSONDecoder()
        try db.scan(from: [Self.fleetPrefix], to: [Self.fleetPrefix + 1]) { _, value in
            guard let record = try? decoder.decode(AgentRecord.self, from: Data(value)) else {
                unreadable += 1
                return
            }
            records[record.agentID] = record
        }
        try db.scan(from: [CellKeyCodec.agentPrefix], to: [CellKeyCodec.agentPrefix + 1]) { key, value in
            let agentID = String(decoding: key.dropFirst(), as: UTF8.self)
            let seq = try CellKeyCodec.decodeSeq(value, key: key)
            var record = records[agentID] ?? AgentRecord(agentID: agentID, firstSeenUnixMs: 0)
            record.appliedSeq = max(record.appliedSeq, seq)
            records[agentID] = record
        }
        return (Array(records.values), unreadable)
    }
}
