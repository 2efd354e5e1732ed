/// One canonical model and the other names that count as it: the body of `GET /v1/models`,
/// which `tollgate models` prints. What a budget's `model=` may name.
public struct ModelView: Codable, Sendable, Equatable {
    public var model: String
    public var provider: String
    /// Aliases, and snapshot or provider-prefixed catalog entries (a dated snapshot that
    /// has no entry of its own is found from its name, so it is not listed).
    public var names: [String]

    public init(model: String, provider: String, names: [String]) {
        self.model = model
        self.provider = provider
        self.names = names
    }
}
