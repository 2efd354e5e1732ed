import Foundation

/// Anthropic's Admin API usage report (`GET /v1/organizations/usage_report/messages`) and
/// cost report (`GET /v1/organizations/cost_report`), in their documented shape: `data` of
/// daily buckets with `starting_at`/`ending_at` (RFC 3339) and `results`, `has_more` and
/// `next_page`. Usage splits input into `uncached_input_tokens`, `cache_read_input_tokens` and
/// `cache_creation` by TTL (the mock's writes are all 5-minute ones); costs are decimal
/// strings of cents, one line per model and token type when grouped by `description`.
/// Needs `x-api-key: <admin key>` and `anthropic-version`.
struct AnthropicAdminEndpoint {
    enum Report {
        case messages, costs
    }

    let reports: MockAdminReports

    func respond(to request: MockHTTPRequest, report: Report) -> MockHTTPResponse {
        guard request.credential(header: "x-api-key") == reports.anthropicAdminKey else {
            return .error(AnthropicError(status: 401, type: "authentication_error", message: "invalid x-api-key"))
        }
        guard request.credential(header: "anthropic-version") != nil else { return .error(AnthropicError.missingVersion) }
        switch reports.currentFault {
        case .status(let status): return .error(AnthropicError.simulated(status: status))
        case .malformedJSON: return .json(#"{"data":[{"starting_at":"2026-01-01T00:00:00Z","results":[{"uncached_input_tokens":"#)
        case nil: break
        }
        let query: AdminReportQuery
        do {
            query = try AdminReportQuery(uri: request.uri, timeNames: ("starting_at", "ending_at"), rfc3339: true,
                                         now: reports.currentTime, maxBuckets: reports.maxBucketsPerPage)
        } catch let invalid as AdminReportQuery.Invalid {
            return .error(AnthropicError.invalidRequest(invalid.message))
        } catch {
            return .error(AnthropicError.invalidRequest("\(error)"))
        }
        let (days, next) = query.page
        let entries = reports.entries(providers: [.anthropic], from: days.first ?? 0, to: (days.last ?? 0) + 86_400)
        let buckets: [OrderedJSON] = days.map { day in
            let today = entries.filter { $0.key.day == day }
            let results = report == .costs ? costResults(today, query.groupBy) : usageResults(today, query.groupBy)
            return .object([("starting_at", .string(Self.rfc3339(day))), ("ending_at", .string(Self.rfc3339(day + 86_400))),
                            ("results", .array(results))])
        }
        return .json(OrderedJSON.object([("data", .array(buckets)), ("has_more", .bool(next != nil)),
                                         ("next_page", next.map(OrderedJSON.string) ?? .null)]).serialized)
    }

    private func usageResults(_ entries: [(key: DailyUsage.Key, tally: DailyUsage.Tally)], _ groupBy: Set<String>) -> [OrderedJSON] {
        let byModel = groupBy.contains("model"), byKey = groupBy.contains("api_key_id")
        var groups: [[String?]: DailyUsage.Tally] = [:]
        for (key, tally) in entries {
            groups[[byModel ? key.model : nil, byKey ? AdminKeyIDs.anthropic(forKey: key.apiKey) : nil], default: DailyUsage.Tally()].add(tally)
        }
        return groups.sorted { "\($0.key)" < "\($1.key)" }.map { group, tally in
            let tokens = tally.tokens
            return .object([
                ("uncached_input_tokens", .int(Int(tokens.uncachedInput))),
                ("cache_creation", .object([("ephemeral_1h_input_tokens", .int(0)), ("ephemeral_5m_input_tokens", .int(Int(tokens.cacheWrite)))])),
                ("cache_read_input_tokens", .int(Int(tokens.cachedInput))),
                ("output_tokens", .int(Int(tokens.output))),
                ("server_tool_use", .object([("web_search_requests", .int(0))])),
                ("api_key_id", group[1].map(OrderedJSON.string) ?? .null),
                ("workspace_id", .null),
                ("model", group[0].map(OrderedJSON.string) ?? .null),
                ("service_tier", byModel ? .string("standard") : .null),
                ("context_window", .null),
            ])
        }
    }

    private func costResults(_ entries: [(key: DailyUsage.Key, tally: DailyUsage.Tally)], _ groupBy: Set<String>) -> [OrderedJSON] {
        guard groupBy.contains("description") else {
            let total = entries.reduce(Int64(0)) { $0 + $1.tally.totalCost }
            return entries.isEmpty ? [] : [line(amount: total, model: nil, tokenType: nil)]
        }
        var lines: [[String]: Int64] = [:]
        for (key, tally) in entries {
            for (tokenType, amount) in [("uncached_input_tokens", tally.uncachedInputCost), ("cache_read_input_tokens", tally.cachedInputCost),
                                        ("cache_creation.ephemeral_5m_input_tokens", tally.cacheWriteCost), ("output_tokens", tally.outputCost)] {
                lines[[key.model, tokenType], default: 0] += amount
            }
        }
        return lines.sorted { $0.key.lexicographicallyPrecedes($1.key) }.map { line(amount: $0.value, model: $0.key[0], tokenType: $0.key[1]) }
    }

    private func line(amount: Int64, model: String?, tokenType: String?) -> OrderedJSON {
        .object([
            ("currency", .string("USD")),
            ("amount", .string(AdminMoney.cents(amount))),
            ("workspace_id", .null),
            ("description", model.map { .string("\($0) usage - \(tokenType ?? "tokens")") } ?? .null),
            ("cost_type", model == nil ? .null : .string("tokens")),
            ("context_window", model == nil ? .null : .string("0-200k")),
            ("model", model.map(OrderedJSON.string) ?? .null),
            ("service_tier", model == nil ? .null : .string("standard")),
            ("token_type", tokenType.map(OrderedJSON.string) ?? .null),
        ])
    }

    static func rfc3339(_ seconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }
}
