/// The model a response names, as providers send it.
enum ReportedModel {
    /// Azure sends "" in some chunks, which names nothing: such a chunk must not erase the
    /// model an earlier chunk named.
    static func name(_ name: String?) -> String? {
        guard let name, !name.isEmpty else { return nil }
        return name
    }
}
