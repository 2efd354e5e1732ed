import TollgateHTTP1
import Foundation
import TollgateCore

/// Who a request is for, beyond its API key: team, project, user, use case, environment
/// and host.
///
/// Values come from, in order of precedence: `X-Tollgate-*` request headers (stripped
/// before forwarding), the provider's own end-user field (OpenAI `user`, Anthropic
/// `metadata.user_id`; user only), and the host's defaults in the agent config — so a CI
/// runner's whole traffic is tagged `environment=ci, team=…` without any code change.
public struct Attribution: Equatable, Sendable {
    public var team = ""
    public var project = ""
    public var user = ""
    public var useCase = ""
    public var environment = ""
    public var host = ""

    public init() {}

    /// Longer header values are ignored (and counted): dimensions are labels, not payloads.
    static let maxValueLength = 128

    static let headers: [(name: String, field: WritableKeyPath<Attribution, String> & Sendable)] = [
        ("x-tollgate-team", \.team), ("x-tollgate-project", \.project), ("x-tollgate-user", \.user),
        ("x-tollgate-use-case", \.useCase), ("x-tollgate-env", \.environment),
    ]

    /// This request's attribution over the host defaults; `rejected` counts unusable headers.
    func resolved(headers: HTTPRequestHeadBytes, providerUser: String?, rejected: inout Int) -> Attribution {
        var result = self
        if let providerUser, Self.isUsable(providerUser) { result.user = providerUser }
        for (name, field) in Self.headers {
            guard let value = headers.first(name: name).map({ String($0.trimmingOptionalWhitespace()) }), !value.isEmpty else { continue }
            if Self.isUsable(value) {
                result[keyPath: field] = value
            } else {
                rejected += 1
            }
        }
        return result
    }

    static func isUsable(_ value: String) -> Bool {
        value.count <= maxValueLength && value.unicodeScalars.allSatisfy { !CharacterSet.controlCharacters.contains($0) }
    }

    func apply(to dimensions: inout Dimensions) {
        dimensions.team = team
        dimensions.project = project
        dimensions.user = user
        dimensions.useCase = useCase
        dimensions.environment = environment
        dimensions.host = host
    }
}

extension Attribution {
    /// Reads the `attribution:` section; `host` defaults to this machine's hostname.
    init(_ section: ConfigNode?) throws {
        self.init()
        host = ProcessInfo.processInfo.hostName
        guard let section else { return }
        try section.rejectUnknownKeys(allowed: ["team", "project", "user", "use_case", "environment", "host"])
        let fields: [(String, WritableKeyPath<Attribution, String>)] = [
            ("team", \.team), ("project", \.project), ("user", \.user), ("use_case", \.useCase),
            ("environment", \.environment), ("host", \.host),
        ]
        for (key, field) in fields {
            guard let value = try section.optionalString(key) else { continue }
            guard Self.isUsable(value) else {
                throw ConfigError.invalid(key: section.keyPath(key), value: value, expected: "a label of at most \(Self.maxValueLength) printable characters")
            }
            self[keyPath: field] = value
        }
    }
}
