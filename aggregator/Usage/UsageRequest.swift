import ArgumentParser
import Foundation
import TollgateAggregator
import TollgateCore

/// `tollgate usage`'s flags, checked before anything is asked of the aggregator, as the
/// `/v1/usage` query that answers them. The errors name the flag and what it expects.
struct UsageRequest {
    var since: Int64
    var until: Int64?
    var every: UsageBucket?
    var dimensions: [UsageDimension]
    var filters: [UsageFilter]
    var top: Int?
    /// `tier` in --by: rows by the served model's tier (the aggregator's catalog).
    var byTier = false
    /// `--where tier=NAME`.
    var tier: String?
    static let tiers = ModelTier.allCases.map(\.rawValue) + ["untiered"]

    init(since sinceText: String, until untilText: String?, every: UsageBucket?, by: String, filters filterTexts: [String],
         top: Int?, now: Date) throws {
        // tier is not a stored dimension: the aggregator derives it from the model.
        var names = by.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        byTier = names.contains("tier")
        names.removeAll { $0 == "tier" }
        do {
            dimensions = names.isEmpty && byTier ? [] : try UsageDimension.parseList(names.joined(separator: ","))
        } catch {
            throw ValidationError("--by: \(error)")
        }
        var filters: [UsageFilter] = []
        for text in filterTexts {
            if text.hasPrefix("tier=") {
                let name = String(text.dropFirst("tier=".count))
                guard Self.tiers.contains(name) else {
                    throw ValidationError("--where tier=\(name): expected one of \(Self.tiers.joined(separator: ", "))")
                }
                tier = name
                continue
            }
            let filter: UsageFilter
            do {
                filter = try UsageFilter(parsing: text)
            } catch {
                throw ValidationError("--where: \(error)")
            }
            if let earlier = filters.first(where: { $0.dimension == filter.dimension }) {
                throw ValidationError("--where: \(filter.dimension.rawValue) is given twice (\(earlier.value), \(filter.value)); "
                    + "a row has one \(filter.dimension.rawValue) and every --where must match, so give it once")
            }
            filters.append(filter)
        }
        self.filters = filters
        since = try TimeArgument.parse(sinceText, option: "--since", now: now)
        until = try untilText.map { try TimeArgument.parse($0, option: "--until", now: now) }
        if let until, let untilText, until < since {
            throw ValidationError("--until \(untilText) is before --since \(sinceText); give an --until at or after the --since")
        }
        if let top, top < 1 || top > UsageRanking.maxTop {
            throw ValidationError("--top \(top): expected a whole number from 1 to \(UsageRanking.maxTop)")
        }
        self.every = every
        self.top = top
    }

    var queryItems: [URLQueryItem] {
        var items = [URLQueryItem(name: "since", value: String(since)),
                     URLQueryItem(name: "by", value: (dimensions.map(\.rawValue) + (byTier ? ["tier"] : [])).joined(separator: ","))]
        // Without --until the aggregator's own clock says when now is, through its current minute.
        if let until { items.append(URLQueryItem(name: "until", value: String(until))) }
        if let every { items.append(URLQueryItem(name: "every", value: every.rawValue)) }
        if let top { items.append(URLQueryItem(name: "top", value: String(top))) }
        if let tier { items.append(URLQueryItem(name: "tier", value: tier)) }
        return items + filters.map { URLQueryItem(name: $0.dimension.rawValue, value: $0.value) }
    }
}
