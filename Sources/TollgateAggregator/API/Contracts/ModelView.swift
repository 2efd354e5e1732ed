/// One canonical model, its tier and the other names that count as it: the body of
/// `GET /v1/models`, which `tollgate models` prints. What a budget's `model=` may name.
public struct ModelView: Codable, Sendable, Equatable {
    public var model: String
    public var provider: String
    /// Aliases, and snapshot or provider-prefixed catalog entries (a dated snapshot that
    /// has no entry of its own is found from its name, so it is not listed).
    public var names: [String]
    /// `economy`, `standard` or `premium` (what a policy's `tier:` matches); absent for a
    /// model no catalog source gives a tier.
    public var tier: String?

    public init(model: String, provider: String, names: [String], tier: String? = nil) {
        self.model = model
        self.provider = provider
        self.names = names
        self.tier = tier
    }
}
