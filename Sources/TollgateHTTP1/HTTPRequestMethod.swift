/// The request methods the agent forwards. A closed list on purpose: anything else is
/// refused (501) rather than passed to an upstream that might read it differently.
public enum HTTPRequestMethod: String, CaseIterable, Sendable {
    case GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, CONNECT
}
