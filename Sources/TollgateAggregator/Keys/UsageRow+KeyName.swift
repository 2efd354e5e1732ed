import TollgateCore

extension UsageRow {
    /// This row with its key's name, when the key is labelled with one.
    func named(by book: KeyLabelBook) -> UsageRow {
        guard let keyID = dimensions[.key], let name = book.label(keyID: keyID)?.name, !name.isEmpty else { return self }
        var row = self
        row.keyName = name
        return row
    }
}
