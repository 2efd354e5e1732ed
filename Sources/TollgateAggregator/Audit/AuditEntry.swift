import Foundation

/// One change, as the audit log keeps it: who (which token, and the actor it named), when,
/// what (an action on a target), and the target before and after.
///
/// Targets are `kind:id` (`budget:ml-daily`, `key:9cd05ce2…`), so `tollgate budget history`
/// is the log filtered to one target. `before` is nil for a creation, `after` for a removal.
public struct AuditEntry: Equatable, Sendable, Codable {
    public var atUnixMs: Int64
    /// The token that authorised the change.
    public var token: APIToken.Kind
    /// Who said they acted (`X-Tollgate-Actor`, the CLI's `--actor`, by default `$USER@host`);
    /// "unknown" when nobody said. Not proof of identity: the token is.
    public var actor: String
    /// What was done: `budget.set`, `budget.remove`, `budget.exempt`, `key.label`, `key.unlabel`, …
    public var action: String
    public var target: String
    public var before: AuditJSON?
    public var after: AuditJSON?

    public init(atUnixMs: Int64, token: APIToken.Kind, actor: String, action: String, target: String,
                before: AuditJSON?, after: AuditJSON?) {
        self.atUnixMs = atUnixMs
        self.token = token
        self.actor = actor
        self.action = action
        self.target = target
        self.before = before
        self.after = after
    }

    enum CodingKeys: String, CodingKey {
        case atUnixMs = "at_unix_ms", token, actor, action, target, before, after
    }
}

/// Who is acting on the API: the token's kind and the actor the request named.
public struct AuditActor: Equatable, Sendable {
    public var token: APIToken.Kind
    public var name: String

    public init(token: APIToken.Kind, name: String?) {
        self.token = token
        // A header value is a label, not a payload: short, printable, trimmed.
        let cleaned = String((name ?? "").unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.prefix(128))
            .trimmingCharacters(in: .whitespaces)
        self.name = cleaned.isEmpty ? "unknown" : cleaned
    }
}
