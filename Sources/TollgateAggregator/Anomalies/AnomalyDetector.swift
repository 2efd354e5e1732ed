import TollgateCore

/// Finds the scope values whose spend today is abnormal. Pure over the groups it is given
/// (`evaluate`), with one reader that fetches them from the store (`read`).
///
/// "Normal" is the average over the 7 previous UTC days of each day's spend from midnight
/// to the same minute of the day: at 10:00, today's spend since midnight is compared with
/// the 7 mornings before it, not with whole days, so a morning is never judged against
/// the evenings too. A scope value with no spend in those 7 days is new: it is an anomaly
/// once it reaches the floor, since a new spender at that level is what finance asks about.
struct AnomalyDetector: Sendable {
    var ratio: Double
    var minSpend: Nanodollars

    static let days: Int64 = 7
    /// Today's cells are read with the model too, for each anomaly's top model.
    static let todayDimensions: [UsageDimension] = [.team, .key, .useCase, .environment, .model]
    static let previousDimensions: [UsageDimension] = [.team, .key, .useCase, .environment]

    /// Today's minutes so far (the current one included) and the same span of each previous day.
    static func windows(now: Int64) -> (day: Int64, today: Range<Int64>, previous: [Range<Int64>]) {
        let minute = now >= 0 ? now / 60 : (now - 59) / 60
        let dayStart = UsageBucket.day.start(ofMinute: minute)
        let span = minute + 1 - dayStart
        let previous = (1...days).map { back -> Range<Int64> in
            let start = dayStart - back * 1_440
            return start..<(start + span)
        }
        return (dayStart * 60, dayStart..<(minute + 1), previous)
    }

    /// Reads today's and the 7 previous days' spend from the store and evaluates them.
    func read(_ store: UsageStore, now: Int64) throws -> [Anomaly] {
        let windows = Self.windows(now: now)
        // One snapshot and one iterator for all 8 windows (`UsageStore.query(windows:)`).
        let groups = try store.query(windows: [(windows.today, Self.todayDimensions)] + windows.previous.map { ($0, Self.previousDimensions) })
        return evaluate(today: groups[0], previous: Array(groups.dropFirst()), day: windows.day, asOf: now)
    }

    /// The anomalies among `today`'s groups (by team, key, use case, env and model) against
    /// `previous` (one list of groups per earlier day), highest ratio first, new ones first of all.
    func evaluate(today: [UsageGroup], previous: [[UsageGroup]], day: Int64, asOf: Int64) -> [Anomaly] {
        var anomalies: [Anomaly] = []
        for scope in AnomalyScope.allCases {
            var spentToday: [String: Int64] = [:]
            var byModel: [String: [String: Int64]] = [:]
            var byKey: [String: [String: Int64]] = [:]
            var hints: [String: String] = [:]
            for group in today where group.counters.cost.value != 0 {
                let value = group.dimensions[scope.dimension]
                guard !value.isEmpty else { continue }  // untagged: the key scope still sees it
                let cost = group.counters.cost.value
                spentToday[value, default: 0] &+= cost
                byModel[value, default: [:]][group.dimensions.model, default: 0] &+= cost
                byKey[value, default: [:]][group.dimensions.keyID, default: 0] &+= cost
                hints[group.dimensions.keyID] = group.dimensions.keyHint
            }
            var before: [String: Int64] = [:]
            for groups in previous {
                for group in groups {
                    let value = group.dimensions[scope.dimension]
                    if spentToday[value] != nil { before[value, default: 0] &+= group.counters.cost.value }
                }
            }
            for (value, spent) in spentToday where spent >= minSpend.value {
                let history = before[value] ?? 0
                let ratio: Double? = history > 0 ? Double(spent) * Double(Self.days) / Double(history) : nil
                if let ratio, ratio < self.ratio { continue }
                let model = Self.top(byModel[value] ?? [:])
                let key = Self.top(byKey[value] ?? [:])
                anomalies.append(Anomaly(scope: scope, value: value, keyHint: scope == .key ? hints[value] : nil,
                                         today: Nanodollars(spent), normal: Nanodollars(history / Self.days), ratio: ratio,
                                         topModel: model.name, topModelSpend: Nanodollars(model.spent),
                                         topKey: key.name, topKeyHint: hints[key.name] ?? "", day: day, asOf: asOf))
            }
        }
        return anomalies.sorted { a, b in
            let ra = a.ratio ?? .infinity, rb = b.ratio ?? .infinity
            if ra != rb { return ra > rb }
            if a.today != b.today { return b.today < a.today }
            return (a.scope.rawValue, a.value) < (b.scope.rawValue, b.value)
        }
    }

    /// The name with the most spend (ties: the first in name order).
    private static func top(_ spend: [String: Int64]) -> (name: String, spent: Int64) {
        spend.max { a, b in a.value != b.value ? a.value < b.value : a.key > b.key }.map { ($0.key, $0.value) } ?? ("", 0)
    }
}
