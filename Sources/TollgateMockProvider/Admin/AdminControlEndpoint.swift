import Foundation
import TollgateCore

/// The mock's own control of its admin reports, for the demo and tests that run the mock as
/// a process (in-process tests call `MockAdminReports` directly):
/// - `POST /_mock/admin/inject` `{"provider","api_key","model","day":"YYYY-MM-DD","requests",
///   "input_tokens","cached_input_tokens","cache_write_tokens","output_tokens"}`: usage the
///   reports claim on that day though it was never served;
/// - `POST /_mock/admin/fault` `{"status":500}`, `{"malformed":true}` or `{}` to clear.
struct AdminControlEndpoint {
    let reports: MockAdminReports

    struct Injection: Decodable {
        var provider: String
        var api_key: String
        var model: String
        var day: String
        var requests: Int?
        var input_tokens: Int64?
        var cached_input_tokens: Int64?
        var cache_write_tokens: Int64?
        var output_tokens: Int64?
    }

    struct FaultBody: Decodable {
        var status: Int?
        var malformed: Bool?
    }

    func inject(_ request: MockHTTPRequest) -> MockHTTPResponse {
        do {
            let body = try JSONDecoder().decode(Injection.self, from: Data(request.body))
            let formatter = ISO8601DateFormatter()
            guard let day = formatter.date(from: body.day + "T00:00:00Z") else {
                return .json(#"{"error":"day must be YYYY-MM-DD"}"#, status: 400)
            }
            let tokens = TokenUsage(input: body.input_tokens ?? 0, cachedInput: body.cached_input_tokens ?? 0,
                                    cacheWrite: body.cache_write_tokens ?? 0, output: body.output_tokens ?? 0)
            try reports.inject(provider: body.provider, apiKey: body.api_key, model: body.model, tokens: tokens, requests: body.requests ?? 1, day: day)
            return .json(#"{"injected":true}"#)
        } catch {
            return .json(OrderedJSON.object([("error", .string("\(error)"))]).serialized, status: 400)
        }
    }

    func fault(_ request: MockHTTPRequest) -> MockHTTPResponse {
        guard let body = try? JSONDecoder().decode(FaultBody.self, from: Data(request.body.isEmpty ? Array("{}".utf8) : request.body)) else {
            return .json(#"{"error":"expected {\"status\": 500}, {\"malformed\": true} or {}"}"#, status: 400)
        }
        if let status = body.status {
            guard (400...599).contains(status) else { return .json(#"{"error":"status must be 400 to 599"}"#, status: 400) }
            reports.setFault(.status(status))
        } else if body.malformed == true {
            reports.setFault(.malformedJSON)
        } else {
            reports.setFault(nil)
        }
        return .json(#"{"ok":true}"#)
    }
}
