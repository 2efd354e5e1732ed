import Foundation
import TollgateCore

/// One scope value whose spend today is abnormal: today's spend so far (UTC day) against
/// the average of the 7 previous days' spend up to the same time of day.
public struct Anomaly: Hashable, Sendable {
    public var scope: AnomalyScope
    /// The team, key id, use case or environment.
    public var value: String
    /// For a key: its hint (`sk-…wxyz`).
    public var keyHint: String?
    public var today: Nanodollars
    /// The 7 previous days' spend up to the same time of day, divided by 7.
    public var normal: Nanodollars
    /// today / normal; nil when the scope spent nothing in the 7 previous days (new).
    public var ratio: Double?
    /// The canonical model and the key that spent most of it today.
    public var topModel: String
    public var topModelSpend: Nanodollars
    public var topKey: String
    public var topKeyHint: String
    /// Start of the UTC day (Unix seconds), and when this was evaluated.
    public var day: Int64
    public var asOf: Int64

    /// For people: logs, Slack.
    public var text: String {
        let who = scope == .key && keyHint.map({ !$0.isEmpty }) == true ? "key \(keyHint!)" : "\(scope.rawValue) \(value)"
        let against = ratio.map { String(format: "%.1f× its 7-day normal of %@ by this time of day", $0, normal.formatted) }
            ?? "nothing in the 7 previous days by this time of day"
        return "Tollgate spend anomaly: \(who) has spent \(today.formatted) today (UTC), \(against). "
            + "Top model \(topModel) (\(topModelSpend.formatted)), top key \(topKeyHint.isEmpty ? topKey : topKeyHint)."
    }
}

extension Anomaly: Codable {
    enum CodingKeys: String, CodingKey {
        case scope, value
        case keyHint = "key_hint"
        case todayNanousd = "today_nanousd"
        case todayUSD = "today_usd"
        case normalNanousd = "normal_nanousd"
        case normalUSD = "normal_usd"
        case ratio
        case isNew = "new"
        case topModel = "top_model"
        case topModelNanousd = "top_model_nanousd"
        case topKey = "top_key"
        case topKeyHint = "top_key_hint"
        case day
        case asOf = "as_of"
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(scope, forKey: .scope)
        try container.encode(value, forKey: .value)
        try container.encodeIfPresent(keyHint, forKey: .keyHint)
        try container.encode(today.value, forKey: .todayNanousd)
        try container.encode(today.decimalUSD, forKey: .todayUSD)
        try container.encode(normal.value, forKey: .normalNanousd)
        try container.encode(normal.decimalUSD, forKey: .normalUSD)
        // Two decimals, so the value survives JSON unchanged.
        try container.encode(ratio.map { ($0 * 100).rounded() / 100 }, forKey: .ratio)
        try container.encode(ratio == nil, forKey: .isNew)
        try container.encode(topModel, forKey: .topModel)
        try container.encode(topModelSpend.value, forKey: .topModelNanousd)
        try container.encode(topKey, forKey: .topKey)
        try container.encode(topKeyHint, forKey: .topKeyHint)
        try container.encode(day, forKey: .day)
        try container.encode(asOf, forKey: .asOf)
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        scope = try container.decode(AnomalyScope.self, forKey: .scope)
        value = try container.decode(String.self, forKey: .value)
        keyHint = try container.decodeIfPresent(String.self, forKey: .keyHint)
        today = Nanodollars(try container.decode(Int64.self, forKey: .todayNanousd))
        normal = Nanodollars(try container.decode(Int64.self, forKey: .normalNanousd))
        ratio = try container.decodeIfPresent(Double.self, forKey: .ratio)
        topModel = try container.decode(String.self, forKey: .topModel)
        topModelSpend = Nanodollars(try container.decodeIfPresent(Int64.self, forKey: .topModelNanousd) ?? 0)
        topKey = try container.decode(String.self, forKey: .topKey)
        topKeyHint = try container.decodeIfPresent(String.self, forKey: .topKeyHint) ?? ""
        day = try container.decode(Int64.self, forKey: .day)
        asOf = try container.decode(Int64.self, forKey: .asOf)
    }
}

/// `GET /v1/anomalies`: the current anomalies and the rule they were found by.
public struct AnomalyReport: Codable, Sendable {
    public var asOf: Int64
    public var day: Int64
    public var ratio: Double
    public var minSpendUSD: String
    public var anomalies: [Anomaly]

    public init(asOf: Int64, day: Int64, ratio: Double, minSpendUSD: String, anomalies: [Anomaly]) {
        self.asOf = asOf
        self.day = day
        self.ratio = ratio
        self.minSpendUSD = minSpendUSD
        self.anomalies = anomalies
    }

    enum CodingKeys: String, CodingKey {
        case asOf = "as_of"
        case day, ratio
        case minSpendUSD = "min_spend_usd"
        case anomalies
    }
}
