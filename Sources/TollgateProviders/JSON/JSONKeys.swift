#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The member names a hot path reads from one object, matched in a single pass
/// (`JSONObject.read(_:_:)`). A lookup per field scans every member once per field and
/// compares through `String`; reading a request's eleven fields that way was most of
/// classification's own cost (docs/BENCHMARKS.md, "Before and after issue #16").
struct JSONKeys: Sendable {
    fileprivate let names: [[UInt8]]
    fileprivate let strings: [String]

    /// At most 64 names: which ones were seen is kept in one word.
    init(_ names: [String]) {
        precondition(names.count <= 64, "JSONKeys holds at most 64 names")
        strings = names
        self.names = names.map { Array($0.utf8) }
    }
}

extension JSONScanner {
    /// The index in `keys` of the member's name, or nil when it is none of them.
    func index(of member: JSONMember, in keys: JSONKeys) -> Int? {
        if member.keyHasEscapes {
            guard let key = unescapedString(member.key) else { return nil }
            return keys.strings.firstIndex(of: key)
        }
        let count = member.key.count
        let start = bytes.baseAddress! + member.key.lowerBound
        for index in keys.names.indices {
            let match = keys.names[index].withUnsafeBufferPointer { name in
                name.count == count && (count == 0 || memcmp(name.baseAddress!, start, count) == 0)
            }
            if match { return index }
        }
        return nil
    }
}

extension JSONObject {
    /// Calls `visit` with the index in `keys` and the value of each named member, in
    /// document order, the first member of each name only (as the subscript, and
    /// Foundation's decoder, take it).
    func read(_ keys: JSONKeys, _ visit: (Int, JSONValue) -> Void) {
        var seen: UInt64 = 0
        withMembers { scanner, member in
            guard let index = scanner.index(of: member, in: keys), seen & (1 << index) == 0 else { return }
            seen |= 1 << index
            visit(index, value(of: member))
        }
    }
}
