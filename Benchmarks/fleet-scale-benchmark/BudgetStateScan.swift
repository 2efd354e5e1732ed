import Foundation

/// `--decode scan`: finds one budget's state in a QuotaUpdate's bytes without decoding the
/// message (fields 3 → 1 and 13 of tollgate.proto), to measure delivery apart from decoding.
/// Every simulated agent shares one or two CPUs, so the full decode an agent does once per
/// update is here 5,000 decodes on one core; real hosts each do their own. Not what an agent
/// does (it applies the whole update): a diagnostic of how much of cap → blocked is delivery.
enum BudgetStateScan {
    /// Whether the update names `budgetID` with state `blocked`.
    static func isBlocked(_ update: Data, budgetID: [UInt8]) -> Bool {
        update.withUnsafeBytes { bytes in
            var cursor = Cursor(bytes: bytes)
            while let (field, wireType) = cursor.nextField() {
                guard field == 3, wireType == 2, let budget = cursor.lengthDelimited() else {
                    if !cursor.skip(wireType) { return false }
                    continue
                }
                var inner = Cursor(bytes: budget)
                var named = false
                var blocked = false
                while let (innerField, innerType) = inner.nextField() {
                    if innerType == 2, innerField == 1 || innerField == 13, let value = inner.lengthDelimited() {
                        if innerField == 1 { named = value.elementsEqual(budgetID) } else { blocked = value.elementsEqual("blocked".utf8) }
                    } else if !inner.skip(innerType) {
                        break
                    }
                }
                if named { return blocked }
            }
            return false
        }
    }

    private struct Cursor {
        let bytes: UnsafeRawBufferPointer
        var offset = 0

        mutating func varint() -> UInt64? {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while offset < bytes.count, shift < 64 {
                let byte = bytes[offset]
                offset += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
            }
            return nil
        }

        mutating func nextField() -> (Int, UInt8)? {
            guard offset < bytes.count, let tag = varint() else { return nil }
            return (Int(tag >> 3), UInt8(tag & 7))
        }

        mutating func lengthDelimited() -> UnsafeRawBufferPointer? {
            guard let length = varint(), length <= UInt64(bytes.count - offset) else { return nil }
            defer { offset += Int(length) }
            return UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + Int(length)])
        }

        mutating func skip(_ wireType: UInt8) -> Bool {
            switch wireType {
            case 0: return varint() != nil
            case 1: offset += 8
            case 2: return lengthDelimited() != nil
            case 5: offset += 4
            default: return false
            }
            return offset <= bytes.count
        }
    }
}
