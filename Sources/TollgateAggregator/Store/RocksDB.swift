import CRocksDB
import NIOConcurrencyHelpers

/// Why the usage store failed, worded for the operator who has to fix it.
public enum StoreError: Error, CustomStringConvertible, Equatable {
    case cannotCreateDirectory(path: String, reason: String)
    case openFailed(path: String, message: String)
    case readFailed(message: String)
    case writeFailed(message: String)
    case walSyncFailed(message: String)
    case scanFailed(message: String)
    case corruptKey(reason: String, key: [UInt8])
    case corruptValue(reason: String, key: [UInt8])
    case closed

    public var description: String {
        switch self {
        case .cannotCreateDirectory(let path, let reason):
            "cannot create the data directory \(path): \(reason); check the path and its permissions"
        case .openFailed(let path, let message):
            "cannot open the usage database at \(path): \(message); if another tollgate process holds it "
                + "(\"lock\" in the message), stop that process, otherwise check the directory's permissions and free disk space"
        case .readFailed(let message):
            "reading the usage database failed: \(message)"
        case .writeFailed(let message):
            "writing the usage database failed (nothing of this batch was committed): \(message); check free disk space"
        case .walSyncFailed(let message):
            "syncing the usage database's write-ahead log failed (\(message)); the batches written since the last sync "
                + "were not acknowledged, and this aggregator commits nothing more until it is restarted: it then recovers "
                + "what reached the disk, and agents resend the rest. Check the disk and free space"
        case .scanFailed(let message):
            "scanning the usage database failed: \(message)"
        case .corruptKey(let reason, let key):
            "the usage database holds a key this version cannot read (\(reason)): \(Self.hex(key)); "
                + "was the data directory written by a different program or a newer tollgate?"
        case .corruptValue(let reason, let key):
            "the usage database holds a corrupt value under key \(Self.hex(key)) (\(reason)); "
                + "was the data directory written by a different program or a newer tollgate?"
        case .closed:
            "the usage database is closed: the aggregator is shutting down"
        }
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        let shown = bytes.prefix(64).map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined()
        return bytes.count > 64 ? shown + "…" : shown
    }
}

/// A minimal, memory-safe view of a RocksDB database: get, atomic batch write, range scan.
///
/// `@unchecked Sendable` because RocksDB itself is thread-safe for concurrent gets,
/// writes and iterators on one handle, and the option objects held here are only read
/// after `init`. The ingest threads write while the HTTP API thread reads.
final class RocksDB: @unchecked Sendable {
    let db: OpaquePointer
    private let options: OpaquePointer
    let readOptions: OpaquePointer
    private let syncWriteOptions: OpaquePointer
    private let asyncWriteOptions: OpaquePointer
    let path: String
    /// Set by `close`; every operation after it throws `StoreError.closed`.
    private let isClosed = NIOLockedValueBox(false)

    init(path: String) throws {
        let options = rocksdb_options_create()!
        rocksdb_options_set_create_if_missing(options, 1)
        // Ingest rarely reads (see below), but a get for a key the memtable lacks (a new
        // agent, a new budget window) must not sort a copy of the vector memtable: the bloom
        // filters, in the memtable and in every table file, answer such misses.
        rocksdb_options_set_memtable_prefix_bloom_size_ratio(options, 0.1)
        rocksdb_options_set_memtable_whole_key_filtering(options, 1)
        // Ingest merges each cell's increment blindly (no read-modify-write), so the
        // memtable only ever appends: a vector memtable makes that O(1), and its sort moves
        // to the background flush. The price is paid by reads that hit the memtable (a
        // sorted copy per iterator or get), which is why the ingest path reads nothing
        // (UsageStore caches agent seqs and budget spend) and queries are rare.
        rocksdb_options_set_merge_operator(options, CountersMergeOperator.make())
        rocksdb_options_set_memtable_vector_rep(options)
        rocksdb_options_set_allow_concurrent_memtable_write(options, 0)
        let table = rocksdb_block_based_options_create()!
        rocksdb_block_based_options_set_filter_policy(table, rocksdb_filterpolicy_create_bloom(10))
        // 16 KiB blocks rather than 4: a usage query walks ~200 k cells of ~200 bytes, and at
        // 20 cells a block the block-cache lookup per block was ~12 % of it; point reads
        // (budget spend, agent seqs) are cached and rare (docs/BENCHMARKS.md, "Usage queries").
        rocksdb_block_based_options_set_block_size(table, 16 << 10)
        Memory.bound(options, table)
        rocksdb_options_set_block_based_table_factory(options, table)
        rocksdb_block_based_options_destroy(table)
        var errorPointer: UnsafeMutablePointer<CChar>?
        let handle = rocksdb_open(options, path, &errorPointer)
        if let message = Self.take(errorPointer) {
            rocksdb_options_destroy(options)
            throw StoreError.openFailed(path: path, message: message)
        }
        guard let handle else {
            rocksdb_options_destroy(options)
            throw StoreError.openFailed(path: path, message: "rocksdb_open returned no handle")
        }
        self.db = handle
        self.options = options
        self.path = path
        readOptions = rocksdb_readoptions_create()!
        syncWriteOptions = rocksdb_writeoptions_create()!
        rocksdb_writeoptions_set_sync(syncWriteOptions, 1)
        asyncWriteOptions = rocksdb_writeoptions_create()!
    }

    /// What bounds the database's memory, set explicitly rather than left to the library's
    /// defaults (which change between versions and leave index and filter blocks of every
    /// open table file outside any cache): memtables at most `writeBufferBytes` ×
    /// `writeBuffers`, table blocks and their indexes and filters inside one LRU cache of
    /// `blockCacheBytes`, and at most `maxOpenFiles` table readers. docs/ARCHITECTURE.md
    /// ("Aggregator memory") has the measured RSS under steady ingest.
    enum Memory {
        static let writeBufferBytes = 64 << 20
        static let writeBuffers: Int32 = 2
        static let blockCacheBytes = 128 << 20
        static let maxOpenFiles: Int32 = 1_000

        static func bound(_ options: OpaquePointer, _ table: OpaquePointer) {
            rocksdb_options_set_write_buffer_size(options, writeBufferBytes)
            rocksdb_options_set_max_write_buffer_number(options, writeBuffers)
            rocksdb_options_set_max_open_files(options, maxOpenFiles)
            let cache = rocksdb_cache_create_lru(blockCacheBytes)!
            rocksdb_block_based_options_set_block_cache(table, cache)
            // The table options hold their own reference to the cache.
            rocksdb_cache_destroy(cache)
            rocksdb_block_based_options_set_cache_index_and_filter_blocks(table, 1)
            // Level-0 files are read on every miss: keep their index and filter resident.
            rocksdb_block_based_options_set_pin_l0_filter_and_index_blocks_in_cache(table, 1)
        }
    }

    deinit {
        if !isClosed.withLockedValue({ $0 }) { rocksdb_close(db) }
        rocksdb_readoptions_destroy(readOptions)
        rocksdb_writeoptions_destroy(syncWriteOptions)
        rocksdb_writeoptions_destroy(asyncWriteOptions)
        rocksdb_options_destroy(options)
    }

    /// Closes the database now, waiting for its background flushes and compactions, rather
    /// than whenever the last reference goes: a process that exits with the database open
    /// tears down RocksDB's static state under its running background threads and aborts
    /// with "pthread lock: Invalid argument". Call it once every reader and writer has
    /// stopped; later calls do nothing.
    func close() {
        let wasOpen = isClosed.withLockedValue { closed in
            defer { closed = true }
            return !closed
        }
        guard wasOpen else { return }
        rocksdb_close(db)
    }

    func ensureOpen() throws {
        if isClosed.withLockedValue({ $0 }) { throw StoreError.closed }
    }

    func get(_ key: [UInt8]) throws -> [UInt8]? {
        try ensureOpen()
        var length = 0
        var errorPointer: UnsafeMutablePointer<CChar>?
        let value = key.withUnsafeBufferPointer { keyBuffer in
            keyBuffer.withMemoryRebound(to: CChar.self) { keyChars in
                rocksdb_get(db, readOptions, keyChars.baseAddress, keyChars.count, &length, &errorPointer)
            }
        }
        if let message = Self.take(errorPointer) {
            if let value { rocksdb_free(value) }
            throw StoreError.readFailed(message: message)
        }
        guard let value else { return nil }
        defer { rocksdb_free(value) }
        return Self.bytes(value, length)
    }

    /// Commits every put in `batch` atomically; with `sync` the WAL is fsynced before returning,
    /// which is what makes an acknowledgement after this call safe against power loss.
    func write(_ batch: WriteBatch, sync: Bool) throws {
        try ensureOpen()
        var errorPointer: UnsafeMutablePointer<CChar>?
        rocksdb_write(db, sync ? syncWriteOptions : asyncWriteOptions, batch.handle, &errorPointer)
        if let message = Self.take(errorPointer) {
            throw StoreError.writeFailed(message: message)
        }
    }

    /// Fsyncs the write-ahead log: everything written before is then durable, including
    /// writes made with `sync: false`.
    func syncWAL() throws {
        try ensureOpen()
        var errorPointer: UnsafeMutablePointer<CChar>?
        rocksdb_flush_wal(db, 1, &errorPointer)
        if let message = Self.take(errorPointer) {
            throw StoreError.writeFailed(message: message)
        }
    }

    /// Writes the memtable to a table file and compacts everything: merge operands then
    /// meet their base values on disk. For tests of the merge operator.
    func flushAndCompact() throws {
        try ensureOpen()
        let options = rocksdb_flushoptions_create()!
        defer { rocksdb_flushoptions_destroy(options) }
        rocksdb_flushoptions_set_wait(options, 1)
        var errorPointer: UnsafeMutablePointer<CChar>?
        rocksdb_flush(db, options, &errorPointer)
        if let message = Self.take(errorPointer) { throw StoreError.writeFailed(message: message) }
        rocksdb_compact_range(db, nil, 0, nil, 0)
    }

    /// Calls `body` with every key in [`from`, `to`) in byte order, from one consistent
    /// snapshot (the iterator's implicit one), so a scan never sees half a batch.
    func scan(from: [UInt8], to: [UInt8], _ body: ([UInt8], [UInt8]) throws -> Void) throws {
        try ensureOpen()
        let iterator = rocksdb_create_iterator(db, readOptions)!
        defer { rocksdb_iter_destroy(iterator) }
        from.withUnsafeBufferPointer { fromBuffer in
            fromBuffer.withMemoryRebound(to: CChar.self) { fromChars in
                rocksdb_iter_seek(iterator, fromChars.baseAddress, fromChars.count)
            }
        }
        while rocksdb_iter_valid(iterator) != 0 {
            var keyLength = 0
            let key = Self.bytes(rocksdb_iter_key(iterator, &keyLength), keyLength)
            // The default comparator is bytewise, the same order as lexicographicallyPrecedes.
            guard key.lexicographicallyPrecedes(to) else { break }
            var valueLength = 0
            let value = Self.bytes(rocksdb_iter_value(iterator, &valueLength), valueLength)
            try body(key, value)
            rocksdb_iter_next(iterator)
        }
        var errorPointer: UnsafeMutablePointer<CChar>?
        rocksdb_iter_get_error(iterator, &errorPointer)
        if let message = Self.take(errorPointer) {
            throw StoreError.scanFailed(message: message)
        }
    }

    /// Copies RocksDB's message out and frees it; RocksDB allocates `errptr` strings with malloc.
    static func take(_ errorPointer: UnsafeMutablePointer<CChar>?) -> String? {
        guard let errorPointer else { return nil }
        defer { rocksdb_free(errorPointer) }
        return String(cString: errorPointer)
    }

    private static func bytes(_ pointer: UnsafePointer<CChar>?, _ length: Int) -> [UInt8] {
        guard let pointer, length > 0 else { return [] }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
            Array(UnsafeBufferPointer(start: $0, count: length))
        }
    }

    private static func bytes(_ pointer: UnsafeMutablePointer<CChar>, _ length: Int) -> [UInt8] {
        bytes(UnsafePointer(pointer), length)
    }
}

/// Puts collected in memory and committed together by `RocksDB.write`; either all land or none.
final class WriteBatch {
    fileprivate let handle: OpaquePointer

    init() {
        handle = rocksdb_writebatch_create()!
    }

    deinit {
        rocksdb_writebatch_destroy(handle)
    }

    /// Deletes every key in [`from`, `to`) with one range tombstone: how retention drops
    /// a granularity's old cells, and a budget change its spend counters, without reading them.
    func deleteRange(from: [UInt8], to: [UInt8]) {
        from.withUnsafeBytes { from in
            to.withUnsafeBytes { to in
                rocksdb_writebatch_delete_range(handle, from.baseAddress?.assumingMemoryBound(to: CChar.self), from.count,
                                                to.baseAddress?.assumingMemoryBound(to: CChar.self), to.count)
            }
        }
    }

    func delete(key: [UInt8]) {
        key.withUnsafeBufferPointer { keyBuffer in
            keyBuffer.withMemoryRebound(to: CChar.self) { keyChars in
                rocksdb_writebatch_delete(handle, keyChars.baseAddress, keyChars.count)
            }
        }
    }

    /// RocksDB copies key and value into the batch, so the arrays need not outlive the call.
    func put(key: [UInt8], value: [UInt8]) {
        key.withUnsafeBytes { key in
            value.withUnsafeBytes { value in
                rocksdb_writebatch_put(handle, key.baseAddress?.assumingMemoryBound(to: CChar.self), key.count,
                                       value.baseAddress?.assumingMemoryBound(to: CChar.self), value.count)
            }
        }
    }

    /// Sets `key` to `value` from views (no arrays), like `put(key:value:)`.
    func put(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        rocksdb_writebatch_put(handle, key.baseAddress?.assumingMemoryBound(to: CChar.self), key.count,
                               value.baseAddress?.assumingMemoryBound(to: CChar.self), value.count)
    }

    /// Folds `value` into whatever `key` holds with the database's merge operator
    /// (`CountersMergeOperator`), without reading it. Copied like `put`.
    func merge(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        rocksdb_writebatch_merge(handle, key.baseAddress?.assumingMemoryBound(to: CChar.self), key.count,
                                 value.baseAddress?.assumingMemoryBound(to: CChar.self), value.count)
    }
}
