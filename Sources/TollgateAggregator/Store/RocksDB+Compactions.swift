import CRocksDB
import Glibc

extension RocksDB {
    /// Waits until RocksDB has no flush or compaction running or pending, or `timeout`
    /// seconds pass; true if it settled. A benchmark that loads months of history in a
    /// minute calls it so that its queries meet the table files a server that took that
    /// history in over months would have, not a backlog of level-0 files being compacted.
    func waitForCompactions(timeout: Double) throws -> Bool {
        try ensureOpen()
        func property(_ name: String) -> UInt64 {
            var value: UInt64 = 0
            return rocksdb_property_int(db, name, &value) == 0 ? value : 1
        }
        var waited = 0.0
        while waited < timeout {
            if property("rocksdb.compaction-pending") == 0, property("rocksdb.num-running-compactions") == 0,
               property("rocksdb.num-running-flushes") == 0, property("rocksdb.mem-table-flush-pending") == 0 {
                return true
            }
            usleep(100_000)
            waited += 0.1
        }
        return false
    }
}

extension UsageStore {
    /// Flushes the memtable and waits for RocksDB's compactions to finish (at most
    /// `timeout` seconds; false if they did not): for benchmarks, as `flushMemtable`.
    public func settleCompactions(timeout: Double) throws -> Bool {
        try db.flushMemtable(ifLargerThan: 0)
        return try db.waitForCompactions(timeout: timeout)
    }
}
