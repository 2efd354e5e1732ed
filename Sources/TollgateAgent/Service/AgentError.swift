/// Why the agent cannot start, worded for the operator who has to fix it.
public enum AgentError: Error, CustomStringConvertible {
    case corruptState(path: String, reason: String)
    case cannotListen(address: String, reason: String)
    case invalidUpstreamCA(path: String, reason: String)

    public var description: String {
        switch self {
        case .corruptState(let path, let reason):
            "agent state file \(path) is unreadable (\(reason)); move it away to start as a new agent"
        case .cannotListen(let address, let reason):
            "cannot listen on \(address): \(reason); is another agent running, or set `listen` to a free port"
        case .invalidUpstreamCA(let path, let reason):
            "intercept.upstream_ca_file \(path) is not a readable PEM certificate file (\(reason))"
        }
    }
}
