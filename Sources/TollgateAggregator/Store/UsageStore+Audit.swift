import Foundation

/// The audit log in RocksDB: `"U"` + time (8 bytes, big-endian, sign bit flipped, so keys
/// sort by time) + the entry's order within its millisecond (4 bytes) + 4 random bytes (a
/// restart within the same millisecond must not overwrite) → the `AuditEntry` as JSON.
/// Written with a sync: an acknowledged change is in the log after a crash.
extension UsageStore {
    static let auditPrefix = UInt8(ascii: "U")

    /// `order`: how many entries this process wrote before in the same millisecond.
    func appendAudit(_ entry: AuditEntry, order: UInt32) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let writes = WriteBatch()
        writes.put(key: Self.auditKey(unixMs: entry.atUnixMs) + Self.bytes(UInt64(order) << 32 | UInt64(UInt32.random(in: .min ... .max))), value: Array(try encoder.encode(entry)))
        try db.write(writes, sync: true)
    }

    /// Entries in [`fromMs`, `toMs`), oldest first, kept by `include`.
    func auditEntries(fromMs: Int64, toMs: Int64, where include: (AuditEntry) -> Bool) throws -> [AuditEntry] {
        guard fromMs < toMs else { return [] }
        var entries: [AuditEntry] = []
        let decoder = JSONDecoder()
        try db.scan(from: Self.auditKey(unixMs: fromMs), to: Self.auditKey(unixMs: toMs)) { key, value in
            let entry: AuditEntry
            do {
                entry = try decoder.decode(AuditEntry.self, from: Data(value))
            } catch {
                throw StoreError.corruptValue(reason: "an audit entry is not valid JSON (\(error))", key: key)
            }
            if include(entry) { entries.append(entry) }
        }
        return entries
    }

    private static func auditKey(unixMs: Int64) -> [UInt8] {
        [auditPrefix] + bytes(UInt64(bitPattern: unixMs) ^ (1 << 63))
    }

    private static func bytes(_ value: UInt64) -> [UInt8] {
        stride(from: 56, through: 0, by: -8).map { UInt8(truncatingIfNeeded: value >> UInt64($0)) }
    }
}
