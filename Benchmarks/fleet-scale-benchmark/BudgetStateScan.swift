import Foundation
import TollgateWire

/// `--decode scan`: finds one budget's state in a QuotaUpdate's bytes without decoding the
/// message (fields 3 → 1 and 13 of tollgate.proto), to measure delivery apart from decoding.
/// Every simulated agent shares one or two CPUs, so the full decode an agent does once per
/// update is here 5,000 decodes on one core; real hosts each do their own. Not what an agent
/// does (it applies the whole update): a diagnostic of how much of cap → blocked is delivery.
enum BudgetStateScan {
    /// Whether the update names `budgetID` with state `blocked` (false for bytes that do not parse).
    static func isBlocked(_ update: Data, budgetID: [UInt8]) -> Bool {
        update.withUnsafeBytes { bytes in
            var reader = ProtobufReader(bytes)
            while let (field, wireType) = try? reader.nextField() {
                guard field == 3, wireType == .lengthDelimited else {
                    guard (try? reader.skip(field: field, wireType)) != nil else { return false }
                    continue
                }
                guard let budget = try? reader.lengthDelimited() else { return false }
                var inner = ProtobufReader(budget)
                var named = false
                var blocked = false
                while let (innerField, innerType) = try? inner.nextField() {
                    if innerType == .lengthDelimited, innerField == 1 || innerField == 13, let value = try? inner.lengthDelimited() {
                        if innerField == 1 { named = value.elementsEqual(budgetID) } else { blocked = value.elementsEqual("blocked".utf8) }
                    } else if (try? inner.skip(field: innerField, innerType)) == nil {
                        break
                    }
                }
                if named { return blocked }
            }
            return false
        }
    }
}
