/// What the policies say about one request: forward it as asked, forward it to another
/// model, or refuse it; plus what dry-run policies would have done.
public struct PolicyDecision: Equatable, Sendable {
    public struct Route: Equatable, Sendable {
        public var policyID: String
        public var kind: Policy.Kind
        /// Canonical ids: the model asked for and the one the request now goes to.
        public var from: String
        public var to: String

        public init(policyID: String, kind: Policy.Kind, from: String, to: String) {
            self.policyID = policyID
            self.kind = kind
            self.from = from
            self.to = to
        }
    }

    public struct Refusal: Equatable, Sendable {
        public var policyID: String
        public var kind: Policy.Kind
        /// The model refused (canonical), after any route.
        public var model: String
        public var owner: String
        public var exceptionPath: String
        public var scope: String

        public init(policyID: String, kind: Policy.Kind, model: String, owner: String, exceptionPath: String, scope: String) {
            self.policyID = policyID
            self.kind = kind
            self.model = model
            self.owner = owner
            self.exceptionPath = exceptionPath
            self.scope = scope
        }

        /// For the client: which policy, whose, and how to get an exception.
        public var message: String {
            let rule = kind == .allow ? "allows only other models" : "does not allow it"
            var text = "Tollgate policy '\(policyID)' \(rule) for model '\(model)'"
            if scope != "*" { text += " in scope \(scope)" }
            if !owner.isEmpty { text += "; owner: \(owner)" }
            text += exceptionPath.isEmpty ? "; ask the policy's owner for an exception" : "; for an exception: \(exceptionPath)"
            return text
        }
    }

    /// What a dry-run policy would have done to the request.
    public struct Hit: Equatable, Sendable {
        public enum Action: String, Sendable { case routed, refused }
        public var policyID: String
        public var action: Action

        public init(policyID: String, action: Action) {
            self.policyID = policyID
            self.action = action
        }
    }

    public var route: Route?
    public var refusal: Refusal?
    public var dryRun: [Hit] = []

    public init(route: Route? = nil, refusal: Refusal? = nil, dryRun: [Hit] = []) {
        self.route = route
        self.refusal = refusal
        self.dryRun = dryRun
    }

    /// Nothing to do: forward the request as it is.
    public var isPass: Bool { route == nil && refusal == nil }
}
