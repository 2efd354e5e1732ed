import Foundation
import TollgateCore

/// Spend policies in RocksDB: `"P"` + policy id → the `Policy` as JSON (its API form), as set
/// (validated, model names canonical). Absent: no such policy.
extension UsageStore {
    static let policyPrefix = UInt8(ascii: "P")

    func savePolicy(_ policy: Policy) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let writes = WriteBatch()
        writes.put(key: [Self.policyPrefix] + Array(policy.id.utf8), value: Array(try encoder.encode(policy)))
        try db.write(writes, sync: true)
    }

    func deletePolicy(id: String) throws {
        let writes = WriteBatch()
        writes.delete(key: [Self.policyPrefix] + Array(id.utf8))
        try db.write(writes, sync: true)
    }

    /// Every stored policy; an unreadable one is an error (it would silently stop steering spend).
    func loadPolicies() throws -> [Policy] {
        var policies: [Policy] = []
        let decoder = JSONDecoder()
        try db.scan(from: [Self.policyPrefix], to: [Self.policyPrefix + 1]) { key, value in
            do {
                policies.append(try decoder.decode(Policy.self, from: Data(value)))
            } catch {
                throw StoreError.corruptValue(reason: "a policy is not valid JSON (\(error))", key: key)
            }
        }
        return policies
    }
}
