/// Policies as JSON, the form the aggregator's API takes and gives (`PUT /v1/policies/{id}`),
/// stores and records in the audit log: snake_case like every other API body, and every
/// field but `kind` and `models` optional, with the defaults of `Policy.init`, so a body
/// says only what matters for its kind.
extension Policy {
    enum JSONKey: String, CodingKey {
        case id, kind, scope, models, target
        case budgetID = "budget_id", thresholdPercent = "threshold_percent"
        case mode, owner, exceptionPath = "exception_path", description, exceptions
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: JSONKey.self)
        self.init(
            id: try container.decodeIfPresent(String.self, forKey: .id) ?? "",
            kind: try container.decode(Kind.self, forKey: .kind),
            scope: try container.decodeIfPresent(BudgetSelector.self, forKey: .scope) ?? .all,
            models: try container.decode([ModelPattern].self, forKey: .models),
            target: try container.decodeIfPresent(String.self, forKey: .target) ?? "",
            budgetID: try container.decodeIfPresent(String.self, forKey: .budgetID) ?? "",
            thresholdPercent: try container.decodeIfPresent(Int.self, forKey: .thresholdPercent) ?? 0,
            mode: try container.decodeIfPresent(Mode.self, forKey: .mode) ?? .enforce,
            owner: try container.decodeIfPresent(String.self, forKey: .owner) ?? "",
            exceptionPath: try container.decodeIfPresent(String.self, forKey: .exceptionPath) ?? "",
            description: try container.decodeIfPresent(String.self, forKey: .description) ?? "",
            exceptions: try container.decodeIfPresent([PolicyException].self, forKey: .exceptions) ?? [])
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: JSONKey.self)
        try container.encode(id, forKey: .id)
        try container.encode(kind, forKey: .kind)
        try container.encode(scope, forKey: .scope)
        try container.encode(models, forKey: .models)
        try container.encode(target, forKey: .target)
        try container.encode(budgetID, forKey: .budgetID)
        try container.encode(thresholdPercent, forKey: .thresholdPercent)
        try container.encode(mode, forKey: .mode)
        try container.encode(owner, forKey: .owner)
        try container.encode(exceptionPath, forKey: .exceptionPath)
        try container.encode(description, forKey: .description)
        try container.encode(exceptions, forKey: .exceptions)
    }
}

extension PolicyException {
    enum JSONKey: String, CodingKey {
        case scope, untilUnix = "until_unix", reason, author, createdUnix = "created_unix"
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: JSONKey.self)
        self.init(scope: try container.decodeIfPresent(BudgetSelector.self, forKey: .scope) ?? .all,
                  untilUnix: try container.decode(Int64.self, forKey: .untilUnix),
                  reason: try container.decodeIfPresent(String.self, forKey: .reason) ?? "",
                  author: try container.decodeIfPresent(String.self, forKey: .author) ?? "",
                  createdUnix: try container.decodeIfPresent(Int64.self, forKey: .createdUnix) ?? 0)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: JSONKey.self)
        try container.encode(scope, forKey: .scope)
        try container.encode(untilUnix, forKey: .untilUnix)
        try container.encode(reason, forKey: .reason)
        try container.encode(author, forKey: .author)
        try container.encode(createdUnix, forKey: .createdUnix)
    }
}
