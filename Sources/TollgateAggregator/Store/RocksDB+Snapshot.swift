import CRocksDB
import Glibc

/// One point-in-time view of the database that several scans share: a query that reads
/// day, hour and minute cells must not see a batch in one of them and miss it in another,
/// and the rollup builder must read exactly the minutes it was handed.
final class RocksDBSnapshot {
    private let database: RocksDB
    private let snapshot: OpaquePointer

    fileprivate init(_ database: RocksDB) {
        self.database = database
        snapshot = rocksdb_create_snapshot(database.db)!
    }

    deinit {
        // A snapshot outliving `close` would be released on a closed handle.
        if (try? database.ensureOpen()) != nil { rocksdb_release_snapshot(database.db, snapshot) }
    }

    /// Calls `body` with every key in [`from`, `to`) and its value, in byte order, as views
    /// into RocksDB's own buffers (valid only during the call): a query over millions of
    /// cells must not copy each key and value into arrays.
    func scan(from: [UInt8], to: [UInt8],
              _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Void) throws {
        try database.ensureOpen()
        try to.withUnsafeBytes { limit in
            // The bound lets RocksDB skip the table files and blocks past `to` rather than
            // open them to find the first key there; it must outlive the iterator.
            let options = rocksdb_readoptions_create()!
            defer { rocksdb_readoptions_destroy(options) }
            rocksdb_readoptions_set_snapshot(options, snapshot)
            rocksdb_readoptions_set_iterate_upper_bound(options, limit.baseAddress?.assumingMemoryBound(to: CChar.self), limit.count)
            let iterator = rocksdb_create_iterator(database.db, options)!
            defer { rocksdb_iter_destroy(iterator) }
            try Self.walk(iterator, from: from, before: limit, body)
        }
    }

    /// `scan` over several ranges with one iterator, seeking to each in turn: every new
    /// iterator sorts a copy of the vector memtable, so a reader of many small ranges (the
    /// anomaly scan: 8 windows of up to 3 pieces each) pays that sort once, not per range.
    func scan(ranges: [(from: [UInt8], to: [UInt8])],
              _ body: (_ range: Int, UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Void) throws {
        try database.ensureOpen()
        // No upper bound: one iterator serves every range.
        let options = rocksdb_readoptions_create()!
        defer { rocksdb_readoptions_destroy(options) }
        rocksdb_readoptions_set_snapshot(options, snapshot)
        let iterator = rocksdb_create_iterator(database.db, options)!
        defer { rocksdb_iter_destroy(iterator) }
        for (index, range) in ranges.enumerated() {
            try range.to.withUnsafeBytes { limit in
                try Self.walk(iterator, from: range.from, before: limit) { key, value in try body(index, key, value) }
            }
        }
    }

    /// Seeks `iterator` to `from` and calls `body` with every key before `limit` and its
    /// value, then reports the iterator's error, if any.
    private static func walk(_ iterator: OpaquePointer, from: [UInt8], before limit: UnsafeRawBufferPointer,
                             _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Void) throws {
        from.withUnsafeBytes { from in
            rocksdb_iter_seek(iterator, from.baseAddress?.assumingMemoryBound(to: CChar.self), from.count)
        }
        while rocksdb_iter_valid(iterator) != 0 {
            var keyLength = 0
            let key = UnsafeRawBufferPointer(start: rocksdb_iter_key(iterator, &keyLength), count: keyLength)
            guard precedes(key, limit) else { break }
            var valueLength = 0
            let value = UnsafeRawBufferPointer(start: rocksdb_iter_value(iterator, &valueLength), count: valueLength)
            try body(key, value)
            rocksdb_iter_next(iterator)
        }
        var errorPointer: UnsafeMutablePointer<CChar>?
        rocksdb_iter_get_error(iterator, &errorPointer)
        if let message = RocksDB.take(errorPointer) { throw StoreError.scanFailed(message: message) }
    }

    /// The first key at or after `from` and before `to`; nil when there is none.
    func firstKey(from: [UInt8], to: [UInt8]) throws -> [UInt8]? {
        var found: [UInt8]?
        // A scan that stops at its first key: `body` throws nothing, so a sentinel ends it.
        struct Stop: Error {}
        do {
            try scan(from: from, to: to) { key, _ in
                found = Array(key)
                throw Stop()
            }
        } catch is Stop {}
        return found
    }

    /// Bytewise order, RocksDB's default comparator.
    @inline(__always)
    static func precedes(_ key: UnsafeRawBufferPointer, _ limit: UnsafeRawBufferPointer) -> Bool {
        let common = min(key.count, limit.count)
        if common > 0 {
            let order = memcmp(key.baseAddress!, limit.baseAddress!, common)
            if order != 0 { return order < 0 }
        }
        return key.count < limit.count
    }
}

extension RocksDB {
    /// A view of the database as it is now; released when the last reference goes.
    func snapshot() throws -> RocksDBSnapshot {
        try ensureOpen()
        return RocksDBSnapshot(self)
    }
}

extension RocksDB {
    /// Writes the active memtable to a table file (waiting for it) when it holds more than
    /// `threshold` bytes. The memtable is a vector, sorted afresh by every iterator that
    /// reads it; the rollup builder flushes first, a sort RocksDB would do at its next flush
    /// anyway, so its reads skip the sort. Small memtables are left alone (flushing each
    /// would pile up tiny level-0 files).
    func flushMemtable(ifLargerThan threshold: UInt64) throws {
        try ensureOpen()
        var size: UInt64 = 0
        guard rocksdb_property_int(db, "rocksdb.cur-size-active-mem-table", &size) == 0, size > threshold else { return }
        let options = rocksdb_flushoptions_create()!
        defer { rocksdb_flushoptions_destroy(options) }
        rocksdb_flushoptions_set_wait(options, 1)
        var errorPointer: UnsafeMutablePointer<CChar>?
        rocksdb_flush(db, options, &errorPointer)
        if let message = RocksDB.take(errorPointer) { throw StoreError.writeFailed(message: message) }
    }
}

extension UsageStore {
    /// Writes the memtable to a table file now, as RocksDB does by itself once it fills:
    /// a benchmark calls it so that each run pays for sorting and writing what it ingested.
    public func flushMemtable() throws {
        try db.flushMemtable(ifLargerThan: 0)
    }
}
