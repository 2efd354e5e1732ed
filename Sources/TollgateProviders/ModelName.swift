/// A model name as providers send it: Azure sends "" in some chunks, which names nothing.
func modelName(_ name: String?) -> String? {
    guard let name, !name.isEmpty else { return nil }
    return name
}
