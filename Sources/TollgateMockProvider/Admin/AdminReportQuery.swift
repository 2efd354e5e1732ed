import Foundation

/// The query of an admin report request, read the way both providers document it: a window
/// (`start_time`/`end_time` in Unix seconds at OpenAI, `starting_at`/`ending_at` in RFC 3339
/// at Anthropic), `bucket_width` (the mock serves `1d`), `group_by` (repeated, with or
/// without `[]`), `limit` (buckets per page) and `page` (the previous page's `next_page`).
struct AdminReportQuery {
    var start: Int64
    var end: Int64
    var groupBy: Set<String>
    var limit: Int
    /// The first bucket of this page.
    var pageStart: Int64

    struct Invalid: Error { var message: String }

    static let dayCap = 31

    init(uri: String, timeNames: (start: String, end: String), rfc3339: Bool, now: Date, maxBuckets: Int) throws {
        var values: [String: String] = [:]
        var groups: Set<String> = []
        let parts = uri.split(separator: "?", maxSplits: 1)
        if parts.count == 2 {
            for pair in parts[1].split(separator: "&") {
                let nameAndValue = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let name = String(nameAndValue[0]).removingPercentEncoding ?? String(nameAndValue[0])
                let value = nameAndValue.count == 2 ? (String(nameAndValue[1]).removingPercentEncoding ?? "") : ""
                if name == "group_by" || name == "group_by[]" {
                    groups.formUnion(value.split(separator: ",").map(String.init))
                } else {
                    values[name] = value
                }
            }
        }
        func time(_ name: String) throws -> Int64? {
            guard let text = values[name] else { return nil }
            if rfc3339 {
                let formatter = ISO8601DateFormatter()
                guard let date = formatter.date(from: text) else { throw Invalid(message: "\(name) must be an RFC 3339 timestamp, got '\(text)'") }
                return Int64(date.timeIntervalSince1970)
            }
            guard let seconds = Int64(text) else { throw Invalid(message: "\(name) must be Unix seconds, got '\(text)'") }
            return seconds
        }
        guard let start = try time(timeNames.start) else { throw Invalid(message: "\(timeNames.start) is required") }
        self.start = Self.floorDay(start)
        let end = try time(timeNames.end) ?? Int64(now.timeIntervalSince1970)
        self.end = Self.floorDay(end - 1) + 86_400
        guard self.end > self.start else { throw Invalid(message: "\(timeNames.end) must be after \(timeNames.start)") }
        if let width = values["bucket_width"], width != "1d" {
            throw Invalid(message: "bucket_width '\(width)': this mock serves daily buckets (1d) only")
        }
        var limit = 7
        if let text = values["limit"] {
            guard let value = Int(text), (1...Self.dayCap).contains(value) else { throw Invalid(message: "limit must be 1 to \(Self.dayCap) for bucket_width=1d") }
            limit = value
        }
        self.limit = min(limit, maxBuckets)
        groupBy = groups
        pageStart = self.start
        if let page = values["page"], !page.isEmpty {
            guard let decoded = Data(base64Encoded: page).map({ String(decoding: $0, as: UTF8.self) }),
                  decoded.hasPrefix("bucket:"), let next = Int64(decoded.dropFirst("bucket:".count)),
                  next >= self.start, next < self.end else {
                throw Invalid(message: "page '\(page)' is not a cursor this endpoint returned")
            }
            pageStart = next
        }
    }

    /// This page's bucket starts, and the cursor of the next page if there is one.
    var page: (days: [Int64], next: String?) {
        var days: [Int64] = []
        var day = pageStart
        while day < end && days.count < limit {
            days.append(day)
            day += 86_400
        }
        let next = day < end ? Data("bucket:\(day)".utf8).base64EncodedString() : nil
        return (days, next)
    }

    static func floorDay(_ seconds: Int64) -> Int64 {
        (seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400) * 86_400
    }
}
