/// Why a policy cannot be set: each case names what is expected instead.
public enum PolicyError: Error, CustomStringConvertible, Equatable {
    case invalidID(String)
    case invalidModelPattern(String, reason: String)
    case invalid(policy: String, reason: String)
    case loop(policies: [String], models: [String])

    public var description: String {
        switch self {
        case .invalidID(let id):
            "policy id '\(id)' is not valid; use 1–64 letters, digits, '-', '_' or '.'"
        case .invalidModelPattern(let text, let reason):
            "model pattern '\(text)': \(reason)"
        case .invalid(let policy, let reason):
            "policy '\(policy)': \(reason)"
        case .loop(let policies, let models):
            "policies \(policies.map { "'\($0)'" }.joined(separator: ", ")) route in a loop (\(models.joined(separator: " → "))); remove one of the rewrites"
        }
    }
}
