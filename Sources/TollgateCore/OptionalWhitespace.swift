extension StringProtocol {
    /// Without leading and trailing spaces and tabs (HTTP's optional whitespace). For the
    /// request path: Foundation's `trimmingCharacters(in:)` goes through `NSString` on Linux
    /// and costs more than the rest of reading a header.
    public func trimmingOptionalWhitespace() -> SubSequence {
        let isContent: (Character) -> Bool = { $0 != " " && $0 != "\t" }
        guard let first = firstIndex(where: isContent), let last = lastIndex(where: isContent) else { return self[endIndex...] }
        return self[first...last]
    }
}
