import Foundation
import TollgateCore

/// Key labels and key sightings in RocksDB:
/// - `"L"` + key id → the `KeyLabel` as JSON (absent: unlabelled).
/// - `"Y"` + key id → first minute, last minute (8 bytes each, little-endian), then the hint.
///
/// Sightings are written with the batch that moved them, in its WriteBatch, and only when
/// they move: at most once per key per minute, so ingest pays nothing per cell but a
/// comparison (`KeySightings`). `seenKeys` mirrors them for the writer.
extension UsageStore {
    static let keyLabelPrefix = UInt8(ascii: "L")
    static let keySightingPrefix = UInt8(ascii: "Y")

    /// Stores `label`, or removes the key's label when `label.isEmpty`.
    func saveKeyLabel(_ label: KeyLabel) throws {
        let writes = WriteBatch()
        let key = [Self.keyLabelPrefix] + Array(label.keyID.utf8)
        if label.isEmpty {
            writes.delete(key: key)
        } else {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            writes.put(key: key, value: Array(try encoder.encode(label)))
        }
        try db.write(writes, sync: true)
    }

    /// Every stored label; an unreadable one is an error (labels attribute spend).
    func loadKeyLabels() throws -> [KeyLabel] {
        var labels: [KeyLabel] = []
        let decoder = JSONDecoder()
        try db.scan(from: [Self.keyLabelPrefix], to: [Self.keyLabelPrefix + 1]) { key, value in
            do {
                labels.append(try decoder.decode(KeyLabel.self, from: Data(value)))
            } catch {
                throw StoreError.corruptValue(reason: "a key label is not valid JSON (\(error))", key: key)
            }
        }
        return labels
    }

    /// Every key any batch carried, with when it was first and last seen.
    public func keySightings() throws -> [KeySighting] {
        var sightings: [KeySighting] = []
        try db.scan(from: [Self.keySightingPrefix], to: [Self.keySightingPrefix + 1]) { key, value in
            sightings.append(try Self.decodeSighting(keyID: String(decoding: key.dropFirst(), as: UTF8.self), value, key: key))
        }
        return sightings
    }

    /// Adds to `writes` the sightings `batch` moves; returns them, for `seenKeys` once the
    /// batch is committed. Call with `writer` held.
    func recordSightings(_ batch: KeySightings, in writes: WriteBatch) throws -> [KeySighting] {
        var moved: [KeySighting] = []
        for entry in batch.entries {
            let keyID = String(decoding: entry.keyID, as: UTF8.self)
            let known = try storedSighting(keyID)
            var next = known ?? KeySighting(keyID: keyID, hint: String(decoding: entry.hint, as: UTF8.self),
                                            firstMinute: entry.first, lastMinute: entry.last)
            if let known {
                next.firstMinute = min(known.firstMinute, entry.first)
                next.lastMinute = max(known.lastMinute, entry.last)
                if next == known { continue }
            }
            writes.put(key: [Self.keySightingPrefix] + entry.keyID, value: Self.encodeSighting(next))
            moved.append(next)
        }
        return moved
    }

    /// Call with `writer` held.
    private func storedSighting(_ keyID: String) throws -> KeySighting? {
        if let cached = seenKeys[keyID] { return cached }
        let key = [Self.keySightingPrefix] + Array(keyID.utf8)
        guard let value = try db.get(key) else { return nil }
        let sighting = try Self.decodeSighting(keyID: keyID, value, key: key)
        seenKeys[keyID] = sighting
        return sighting
    }

    static func encodeSighting(_ sighting: KeySighting) -> [UInt8] {
        func bytes(_ value: Int64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: UInt64(bitPattern: value) >> UInt64($0 * 8)) } }
        return bytes(sighting.firstMinute) + bytes(sighting.lastMinute) + Array(sighting.hint.utf8)
    }

    static func decodeSighting(keyID: String, _ value: [UInt8], key: [UInt8]) throws -> KeySighting {
        guard value.count >= 16 else { throw StoreError.corruptValue(reason: "a key sighting is at least 16 bytes, found \(value.count)", key: key) }
        func int(_ offset: Int) -> Int64 {
            Int64(bitPattern: value[offset..<offset + 8].reversed().reduce(0) { $0 << 8 | UInt64($1) })
        }
        return KeySighting(keyID: keyID, hint: String(decoding: value[16...], as: UTF8.self), firstMinute: int(0), lastMinute: int(8))
    }
}
