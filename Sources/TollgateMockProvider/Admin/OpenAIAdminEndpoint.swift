import Foundation

/// OpenAI's organization Usage API (`GET /v1/organization/usage/completions`,
/// `/usage/embeddings`) and Costs API (`GET /v1/organization/costs`), in their documented
/// shape: a `page` of daily `bucket`s with `start_time`/`end_time` and `results`, `has_more`
/// and `next_page`, grouped by `model` and `api_key_id` when asked. Cost line items read
/// `<model>, input` and `<model>, output`. Needs `Authorization: Bearer <admin key>`.
struct OpenAIAdminEndpoint {
    enum Report {
        case completions, embeddings, costs
    }

    let reports: MockAdminReports

    func respond(to request: MockHTTPRequest, report: Report) -> MockHTTPResponse {
        guard request.bearerKey == reports.openAIAdminKey else {
            return .error(OpenAIError(status: 401, message: "Incorrect API key provided. This endpoint requires an admin key.",
                                      type: "invalid_request_error", param: nil, code: "invalid_api_key"))
        }
        switch reports.currentFault {
        case .status(let status): return .error(OpenAIError.simulated(status: status))
        case .malformedJSON: return .json(#"{"object":"page","data":[{"object":"bucket","start_time":"#)
        case nil: break
        }
        let query: AdminReportQuery
        do {
            query = try AdminReportQuery(uri: request.uri, timeNames: ("start_time", "end_time"), rfc3339: false,
                                         now: reports.currentTime, maxBuckets: reports.maxBucketsPerPage)
        } catch let invalid as AdminReportQuery.Invalid {
            return .error(OpenAIError.invalidRequest(invalid.message))
        } catch {
            return .error(OpenAIError.invalidRequest("\(error)"))
        }
        let (days, next) = query.page
        let entries = reports.entries(providers: [.openai], from: days.first ?? 0, to: (days.last ?? 0) + 86_400)
        let buckets: [OrderedJSON] = days.map { day in
            let today = entries.filter { $0.key.day == day }.filter { entry in
                switch report {
                case .completions: !Self.isEmbedding(entry.key.model)
                case .embeddings: Self.isEmbedding(entry.key.model)
                case .costs: true
                }
            }
            let results = report == .costs ? costResults(today, query.groupBy) : usageResults(today, query.groupBy, report: report)
            return .object([("object", .string("bucket")), ("start_time", .int(Int(day))), ("end_time", .int(Int(day + 86_400))),
                            ("results", .array(results))])
        }
        return .json(OrderedJSON.object([("object", .string("page")), ("data", .array(buckets)), ("has_more", .bool(next != nil)),
                                         ("next_page", next.map(OrderedJSON.string) ?? .null)]).serialized)
    }

    /// The mock's embeddings endpoint bills embedding models; nothing else does.
    static func isEmbedding(_ model: String) -> Bool { model.contains("embedding") }

    private func usageResults(_ entries: [(key: DailyUsage.Key, tally: DailyUsage.Tally)], _ groupBy: Set<String>, report: Report) -> [OrderedJSON] {
        let byModel = groupBy.contains("model"), byKey = groupBy.contains("api_key_id")
        var groups: [[String?]: DailyUsage.Tally] = [:]
        for (key, tally) in entries {
            let group: [String?] = [byModel ? key.model : nil, byKey ? AdminKeyIDs.openAI(forKey: key.apiKey) : nil]
            groups[group, default: DailyUsage.Tally()].add(tally)
        }
        return groups.sorted { "\($0.key)" < "\($1.key)" }.map { group, tally in
            var members: [(String, OrderedJSON)] = [
                ("object", .string(report == .embeddings ? "organization.usage.embeddings.result" : "organization.usage.completions.result")),
                ("input_tokens", .int(Int(tally.tokens.input))),
            ]
            if report == .completions {
                members += [("output_tokens", .int(Int(tally.tokens.output))), ("input_cached_tokens", .int(Int(tally.tokens.cachedInput))),
                            ("input_audio_tokens", .int(0)), ("output_audio_tokens", .int(0))]
            }
            members += [("num_model_requests", .int(Int(tally.requests))), ("project_id", .null), ("user_id", .null),
                        ("api_key_id", group[1].map(OrderedJSON.string) ?? .null), ("model", group[0].map(OrderedJSON.string) ?? .null)]
            if report == .completions { members += [("batch", .null), ("service_tier", .null)] }
            return .object(members)
        }
    }

    private func costResults(_ entries: [(key: DailyUsage.Key, tally: DailyUsage.Tally)], _ groupBy: Set<String>) -> [OrderedJSON] {
        var lines: [String?: Int64] = [:]
        for (key, tally) in entries {
            if groupBy.contains("line_item") {
                lines["\(key.model), input", default: 0] += tally.inputCost
                lines["\(key.model), output", default: 0] += tally.outputCost
            } else {
                lines[nil, default: 0] += tally.totalCost
            }
        }
        return lines.sorted { ($0.key ?? "") < ($1.key ?? "") }.map { item, amount in
            .object([("object", .string("organization.costs.result")),
                     ("amount", .object([("value", .number(AdminMoney.dollars(amount))), ("currency", .string("usd"))])),
                     ("line_item", item.map(OrderedJSON.string) ?? .null), ("project_id", .null)])
        }
    }
}

extension DailyUsage.Tally {
    mutating func add(_ other: DailyUsage.Tally) {
        requests += other.requests
        tokens.input += other.tokens.input
        tokens.cachedInput += other.tokens.cachedInput
        tokens.cacheWrite += other.tokens.cacheWrite
        tokens.output += other.tokens.output
        tokens.reasoning += other.tokens.reasoning
        uncachedInputCost += other.uncachedInputCost
        cachedInputCost += other.cachedInputCost
        cacheWriteCost += other.cacheWriteCost
        outputCost += other.outputCost
    }
}
