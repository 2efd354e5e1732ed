extension StringProtocol where UTF8View: BidirectionalCollection {
    /// Without leading and trailing spaces and tabs (HTTP's optional whitespace). For the
    /// request path: Foundation's `trimmingCharacters(in:)` goes through `NSString` on Linux
    /// and costs more than the rest of reading a header.
    public func trimmingOptionalWhitespace() -> SubSequence {
        // Spaces and tabs are single ASCII bytes, so the UTF-8 view finds the same bounds
        // as walking characters, without grapheme breaking.
        let isContent: (UInt8) -> Bool = { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }
        guard let first = utf8.firstIndex(where: isContent), let last = utf8.lastIndex(where: isContent) else { return self[endIndex...] }
        return self[first...last]
    }
}
