import Foundation
import TollgateCore

/// The comparison itself, pure: a provider's report and Tollgate's usage for the same days
/// in, rows out. Tested with plain values; `Reconciler` feeds it from HTTP and the store.
///
/// Rows are per UTC day, model (normalised on both sides) and key bucket (`KeyMatcher`).
/// Tokens are compared per row for the classes the provider reports. Costs are compared per
/// day and model, because neither provider's cost report splits by key: when a day and model
/// has a single row the cost is compared there; when it has several (mapped keys), they
/// carry tokens only and an extra `*` row sums them and compares the cost.
public struct Reconciliation {
    /// Tollgate's side: one store group (day, provider, model, key).
    public struct Metered: Equatable, Sendable {
        public var day: Int64
        public var model: String
        public var keyID: String
        public var keyHint: String
        public var counters: UsageCounters

        public init(day: Int64, model: String, keyID: String, keyHint: String, counters: UsageCounters) {
            self.day = day
            self.model = model
            self.keyID = keyID
            self.keyHint = keyHint
            self.counters = counters
        }
    }

    public var report: ProviderReport
    public var metered: [Metered]
    public var keyMap: [String: String]
    public var tolerance: ReconcileTolerance

    public init(report: ProviderReport, metered: [Metered], keyMap: [String: String], tolerance: ReconcileTolerance) {
        self.report = report
        self.metered = metered
        self.keyMap = keyMap
        self.tolerance = tolerance
    }

    private struct Slot: Hashable {
        var day: Int64
        var model: String
        var bucket: String
    }

    private struct DayModel: Hashable {
        var day: Int64
        var model: String
    }

    private struct Sides {
        var providerTokens = TokenUsage.zero
        var providerRequests: Int64?
        var providerKeyIDs: Set<String> = []
        var match: KeyMatch = .unmapped
        var counters = UsageCounters()
        var hint = ""
    }

    /// The rows, sorted by day, model and key, and the map entries that resolved to nothing.
    public func rows() -> (rows: [ReconcileRow], unresolvedKeys: [String]) {
        var seen: [String: String] = [:]
        for row in metered { seen[row.keyID] = row.keyHint }
        let matcher = KeyMatcher(map: keyMap, seen: seen)

        var slots: [Slot: Sides] = [:]
        for usage in report.usage {
            let resolution = matcher.resolve(providerKeyID: usage.providerKeyID)
            let slot = Slot(day: usage.day, model: usage.model, bucket: resolution?.keyID ?? "")
            var sides = slots[slot, default: Sides()]
            sides.providerTokens.add(usage.tokens)
            if let requests = usage.requests { sides.providerRequests = (sides.providerRequests ?? 0) + requests }
            if let id = usage.providerKeyID { sides.providerKeyIDs.insert(id) }
            if let resolution { sides.match = resolution.match }
            slots[slot] = sides
        }
        for row in metered {
            let bucket = matcher.bucket(tollgateKeyID: row.keyID)
            let slot = Slot(day: row.day, model: row.model, bucket: bucket)
            var sides = slots[slot, default: Sides()]
            sides.counters.add(row.counters)
            if let match = matcher.match(tollgateKeyID: row.keyID) {
                sides.hint = row.keyHint
                sides.match = match
            }
            slots[slot] = sides
        }
        var costs: [DayModel: Nanodollars] = [:]
        for cost in report.costs { costs[DayModel(day: cost.day, model: cost.model), default: .zero] += cost.amount }

        var groups: [DayModel: [Slot]] = [:]
        for slot in slots.keys { groups[DayModel(day: slot.day, model: slot.model), default: []].append(slot) }
        for dayModel in costs.keys where groups[dayModel] == nil {
            let slot = Slot(day: dayModel.day, model: dayModel.model, bucket: "")
            slots[slot] = Sides()
            groups[dayModel] = [slot]
        }

        var rows: [ReconcileRow] = []
        for (dayModel, members) in groups {
            let cost = costs[dayModel]
            let ordered = members.sorted { $0.bucket < $1.bucket }
            if ordered.count == 1 {
                rows.append(row(ordered[0], slots[ordered[0]]!, providerCost: cost ?? .zero))
                continue
            }
            var total = Sides()
            total.match = .allKeys
            for slot in ordered {
                let sides = slots[slot]!
                rows.append(row(slot, sides, providerCost: nil))
                total.providerTokens.add(sides.providerTokens)
                if let requests = sides.providerRequests { total.providerRequests = (total.providerRequests ?? 0) + requests }
                total.providerKeyIDs.formUnion(sides.providerKeyIDs)
                total.counters.add(sides.counters)
            }
            rows.append(row(Slot(day: dayModel.day, model: dayModel.model, bucket: "*"), total, providerCost: cost ?? .zero))
        }
        rows.removeAll { $0.status == .match && $0.tollgateRequests == 0 && $0.providerTokens.values.allSatisfy { $0 == 0 } && ($0.providerCost ?? .zero) == .zero }
        rows.sort { ($0.day, $0.provider.rawValue, $0.model, $0.key == "*" ? "\u{10FFFF}" : $0.key) < ($1.day, $1.provider.rawValue, $1.model, $1.key == "*" ? "\u{10FFFF}" : $1.key) }
        return (rows, matcher.unresolved)
    }

    private func row(_ slot: Slot, _ sides: Sides, providerCost: Nanodollars?) -> ReconcileRow {
        let classes = report.reportedClasses.sorted()
        var providerTokens: [TokenClass: Int64] = [:]
        var tollgateTokens: [TokenClass: Int64] = [:]
        var reasons: [String] = []
        var tokenDifference: Int64 = 0
        for tokenClass in classes {
            let theirs = tokenClass.value(in: sides.providerTokens)
            let ours = tokenClass.value(in: sides.counters.tokens)
            providerTokens[tokenClass] = theirs
            tollgateTokens[tokenClass] = ours
            tokenDifference += ours - theirs
            if !tolerance.tokensMatch(tollgate: ours, provider: theirs) {
                reasons.append("\(tokenClass.rawValue) \(ours) vs \(theirs)")
            }
        }
        var costDifference: Nanodollars?
        var basisPoints: Int64?
        if let providerCost {
            let difference = sides.counters.cost.value - providerCost.value
            costDifference = Nanodollars(difference)
            if providerCost.value != 0 {
                basisPoints = Int64(clamping: Int128(difference) * 10_000 / Int128(providerCost.value))
            }
            if !tolerance.costMatches(tollgate: sides.counters.cost.value, provider: providerCost.value) {
                reasons.append("cost \(sides.counters.cost.decimalUSD) vs \(providerCost.decimalUSD) USD")
            }
        }
        let providerHas = sides.providerTokens != .zero || (providerCost ?? .zero) != .zero || (sides.providerRequests ?? 0) > 0
        let tollgateHas = sides.counters.requests > 0 || sides.counters.tokens != .zero || sides.counters.cost != .zero
        let status: ReconcileStatus
        switch (providerHas, tollgateHas) {
        case (true, false): status = .missingInTollgate
        case (false, true): status = .missingAtProvider
        default: status = reasons.isEmpty ? .match : .differs
        }
        return ReconcileRow(
            day: Self.dayString(slot.day), provider: report.provider, model: slot.model, key: slot.bucket,
            keyHint: sides.hint.isEmpty ? nil : sides.hint, keyMatch: slot.bucket.isEmpty ? .unmapped : sides.match,
            providerKeyIDs: sides.providerKeyIDs.sorted(), providerTokens: providerTokens, tollgateTokens: tollgateTokens,
            providerRequests: sides.providerRequests, tollgateRequests: sides.counters.requests,
            providerCost: providerCost, tollgateCost: sides.counters.cost, costDifference: costDifference,
            costDifferenceBasisPoints: basisPoints, tokenDifference: tokenDifference, status: status, reasons: reasons)
    }

    /// `YYYY-MM-DD` of a UTC midnight.
    public static func dayString(_ day: Int64) -> String {
        let days = day >= 0 ? day / 86_400 : (day - 86_399) / 86_400
        // Civil-from-days (Howard Hinnant's algorithm): no calendar object, no time zone.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(y)-\(two(m))-\(two(d))"
    }
}

extension TokenUsage {
    mutating func add(_ other: TokenUsage) {
        input += other.input
        cachedInput += other.cachedInput
        cacheWrite += other.cacheWrite
        output += other.output
        reasoning += other.reasoning
    }
}
