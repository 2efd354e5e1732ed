/// The one place a provider's model name becomes the name both sides are compared by.
///
/// Providers' reports name dated snapshots (`gpt-4.1-2025-04-14`,
/// `claude-sonnet-4-5-20250929`); Tollgate's `model` dimension is the catalog's canonical id
/// (`gpt-4.1`), which for the providers that publish these reports is the snapshot without
/// its trailing date (`-YYYY-MM-DD` or `-YYYYMMDD`). Both sides go through this function, so
/// cells stored before the canonical model existed (with the snapshot in `model`) compare
/// too.
public enum ReconcileModel {
    public static func normalise(_ model: String) -> String {
        let trimmed = model.trimmingCharacters(in: .whitespaces)
        let characters = Array(trimmed)
        func isDigits(_ slice: ArraySlice<Character>) -> Bool { slice.allSatisfy { $0.isASCII && $0.isNumber } }
        // -2025-04-14
        if characters.count > 11 {
            let tail = characters.suffix(11)
            let t = Array(tail)
            if t[0] == "-" && t[5] == "-" && t[8] == "-" && isDigits(tail.dropFirst(1).prefix(4))
                && isDigits(ArraySlice(t[6...7])) && isDigits(ArraySlice(t[9...10])) {
                return String(characters.dropLast(11))
            }
        }
        // -20250929
        if characters.count > 9 {
            let tail = characters.suffix(9)
            if tail.first == "-" && isDigits(tail.dropFirst()) && tail.dropFirst().first == "2" {
                return String(characters.dropLast(9))
            }
        }
        return trimmed
    }
}

import Foundation
