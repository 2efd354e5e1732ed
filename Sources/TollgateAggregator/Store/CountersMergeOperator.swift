import CRocksDB
import Glibc

/// Adds `UsageCounters` values inside RocksDB, so ingest writes each cell's increment as a
/// blind merge instead of reading the total, adding and writing it back. Reads,
/// compactions and flushes fold the increments with the stored total.
///
/// Operands are `CountersCodec` values (14 little-endian Int64s; 12 in version 2 values
/// written before routing, 11 in version 1 values written before 1-hour cache writes, the
/// missing fields read as zero). The result is always the
/// current version. Any other length means corruption: the merge fails and RocksDB reports it on the read or compaction that hit
/// it, rather than this code guessing. Sums wrap instead of trapping, because a trap here
/// would take RocksDB's background threads down with the process.
enum CountersMergeOperator {
    /// Recorded in the table files that hold merge operands: keep it stable.
    static let name: StaticString = "tollgate.usage-counters.v1"

    /// A new operator; `rocksdb_options_set_merge_operator` takes ownership of it.
    static func make() -> OpaquePointer {
        // No state, but the C wrapper calls the destructor unconditionally: it must exist.
        rocksdb_mergeoperator_create(
            nil, { _ in },
            { _, _, _, existing, existingLength, operands, operandLengths, count, success, newLength in
                CountersMergeOperator.sum(existing: existing, existingLength: existingLength, operands: operands,
                    operandLengths: operandLengths, count: Int(count), success: success, newLength: newLength)
            },
            { _, _, _, operands, operandLengths, count, success, newLength in
                CountersMergeOperator.sum(existing: nil, existingLength: 0, operands: operands,
                    operandLengths: operandLengths, count: Int(count), success: success, newLength: newLength)
            },
            { _, value, _ in free(UnsafeMutableRawPointer(mutating: value)) },
            { _ in UnsafeRawPointer(CountersMergeOperator.name.utf8Start).assumingMemoryBound(to: CChar.self) }
        )!
    }

    /// The field-wise sum of `existing` (if any) and every operand, in a malloc'd buffer
    /// RocksDB hands back to the `delete_value` callback above.
    fileprivate static func sum(
        existing: UnsafePointer<CChar>?, existingLength: Int,
        operands: UnsafePointer<UnsafePointer<CChar>?>?, operandLengths: UnsafePointer<Int>?, count: Int,
        success: UnsafeMutablePointer<UInt8>?, newLength: UnsafeMutablePointer<Int>?
    ) -> UnsafeMutablePointer<CChar>? {
        // RocksDB's C wrapper copies `newLength` bytes from the result and frees it even when
        // the merge fails, so a failure still returns an allocation, of length zero.
        success?.pointee = 0
        newLength?.pointee = 0
        let width = CountersCodec.byteCount
        func failure() -> UnsafeMutablePointer<CChar>? { malloc(1)?.assumingMemoryBound(to: CChar.self) }
        guard let operands, let operandLengths else { return failure() }
        if existing != nil, !CountersCodec.isValidLength(existingLength) { return failure() }
        for index in 0..<count where !CountersCodec.isValidLength(operandLengths[index]) || operands[index] == nil { return failure() }

        // Summed straight into the result: every read of a cell calls this (a query over
        // 90 days, hundreds of thousands of times), so no array per call.
        guard let result = malloc(width) else { return failure() }
        memset(result, 0, width)
        func add(_ value: UnsafePointer<CChar>, length: Int) {
            let raw = UnsafeRawPointer(value)
            for field in 0..<(length / 8) {
                let bits = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: field * 8, as: UInt64.self))
                let sum = UInt64(littleEndian: result.load(fromByteOffset: field * 8, as: UInt64.self)) &+ bits
                result.storeBytes(of: sum.littleEndian, toByteOffset: field * 8, as: UInt64.self)
            }
        }
        if let existing { add(existing, length: existingLength) }
        for index in 0..<count { add(operands[index]!, length: operandLengths[index]) }
        newLength?.pointee = width
        success?.pointee = 1
        return result.assumingMemoryBound(to: CChar.self)
    }
}
