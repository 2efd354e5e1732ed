import Foundation
import Testing
import TollgateCore
import TollgateMockProvider
import Yams
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// docs/openapi.yaml against a real `tollgate serve` (with agents' traffic, a budget and the
/// mock's provider reports behind it): every documented operation, called with the
/// document's own examples, answers a documented status and a body its schema accepts;
/// with the token taken away, every secured one answers 401; and every route the server
/// answers is in the document, so the two cannot drift apart.
@Suite(.serialized) struct OpenAPIDocumentTests {
    static let documentURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("docs/openapi.yaml")
    static let apiSources = documentURL.deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/TollgateAggregator/API")
    static let methods = ["put", "post", "get", "delete"]
    static let probedMethods = ["GET", "PUT", "POST", "DELETE", "PATCH"]

    struct Operation {
        var path: String
        var method: String
        var spec: [String: Any]
        var parameters: [[String: Any]]
        var secured: Bool { !((spec["security"] as? [Any]) ?? []).isEmpty }
        var statuses: [String: Any] { spec["responses"] as? [String: Any] ?? [:] }
    }

    static func load() throws -> [String: Any] {
        let text = try String(contentsOf: documentURL, encoding: .utf8)
        guard let document = try Yams.load(yaml: text) as? [String: Any] else { throw ClusterError("docs/openapi.yaml is not a mapping") }
        return document
    }

    static func operations(_ document: [String: Any]) -> [Operation] {
        let paths = document["paths"] as? [String: Any] ?? [:]
        var result: [Operation] = []
        for (path, item) in paths {
            guard let item = item as? [String: Any] else { continue }
            let shared = item["parameters"] as? [[String: Any]] ?? []
            for method in methods {
                guard let spec = item[method] as? [String: Any] else { continue }
                result.append(Operation(path: path, method: method, spec: spec, parameters: shared + (spec["parameters"] as? [[String: Any]] ?? [])))
            }
        }
        // Deletes run deepest path first: a policy's exception goes before the policy.
        return result.sorted { a, b in
            let (x, y) = (methods.firstIndex(of: a.method)!, methods.firstIndex(of: b.method)!)
            guard x == y else { return x < y }
            return a.method == "delete" ? a.path > b.path : a.path < b.path
        }
    }

    @Test func everyOperationAnswersAsDocumented() async throws {
        let document = try Self.load()
        #expect(document["openapi"] as? String == "3.1.0")
        let check = JSONSchemaCheck(document: document)
        let cluster = try LocalCluster(aggregatorConfig: { directory, mockURL in
            """
            reconcile:
              openai:
                admin_key_file: \(directory.path)/openai-admin-key
                base_url: \(mockURL.absoluteString)
            """
        })
        defer { cluster.shutdown() }
        let keyFile = cluster.directory.appendingPathComponent("openai-admin-key").path
        #expect(FileManager.default.createFile(atPath: keyFile, contents: Data((MockAdminReports.defaultOpenAIAdminKey + "\n").utf8),
                                               attributes: [.posixPermissions: 0o600]))
        try await cluster.start()
        let plan = TrafficPlan(apiKeys: TrafficPlan.demoKeys(count: 2), models: ["gpt-4o-mini"], requests: 8, concurrency: 2,
                               formats: [.openaiChat, .anthropicMessages])
        #expect(try await runTraffic(plan: plan, agentURL: cluster.agentURL).failures == 0)
        _ = try await eventually(until: { !$0.isEmpty }) { try cluster.cli(["usage", "--since", "1h", "--format", "json"]).count > 3 ? "rows" : "" }
        let token = try String(contentsOfFile: cluster.apiTokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let api = APICaller(base: cluster.apiURL, token: token)

        // A key id cannot be a fixed example (it is a keyed hash under this cluster's org
        // secret): the key paths are called with a key the traffic above made.
        let (_, _, keysBody) = try await api.call("get", "/v1/keys", body: nil, authorized: true)
        let keys = try JSONSerialization.jsonObject(with: keysBody) as? [[String: Any]] ?? []
        let keyID = try #require(keys.first?["key_id"] as? String, "GET /v1/keys lists the traffic's keys")
        var calls = 0
        for var operation in Self.operations(document) {
            for index in operation.parameters.indices where operation.parameters[index]["name"] as? String == "key_id" {
                operation.parameters[index]["example"] = keyID
            }
            // The operation as documented: every path parameter and required query parameter
            // from its example, then each optional query parameter added alone.
            let query = operation.parameters.filter { $0["in"] as? String == "query" }
            func example(_ parameter: [String: Any]) -> (String, String) { (parameter["name"] as? String ?? "", "\(parameter["example"] ?? "")") }
            let required = query.filter { $0["required"] as? Bool == true }.map(example)
            let requests = [Self.url(operation, query: required)] + query
                .filter { $0["required"] as? Bool != true }
                .map { Self.url(operation, query: required + [example($0)]) }
            let body = Self.exampleBody(operation)
            for target in requests {
                let (status, contentType, data) = try await api.call(operation.method, target, body: body, authorized: true)
                calls += 1
                #expect((200..<300).contains(status), "\(operation.method) \(target): \(status) \(String(decoding: data, as: UTF8.self))")
                for problem in Self.problems(operation, status: status, contentType: contentType, data: data, check: check) {
                    Issue.record("\(operation.method) \(target): \(problem)")
                }
            }
            if operation.secured {
                let (status, contentType, data) = try await api.call(operation.method, Self.url(operation, query: []), body: body, authorized: false)
                #expect(status == 401, "\(operation.method) \(operation.path) without a token answered \(status)")
                for problem in Self.problems(operation, status: status, contentType: contentType, data: data, check: check) {
                    Issue.record("\(operation.method) \(operation.path) without a token: \(problem)")
                }
            }
        }
        #expect(calls >= 30)
        // Every usage filter is documented: a new dimension must be added to the document too.
        let usageParameters = Self.operations(document).first { $0.path == "/v1/usage" }?.parameters.compactMap { $0["name"] as? String } ?? []
        #expect(Set(usageParameters) == Set(["since", "until", "by", "every", "top", "tier"] + UsageDimension.allCases.map(\.rawValue)),
                "\(usageParameters)")

        // A refused usage query: a documented 400 with an error body.
        for query in ["top=0", "until=2020-01-01&since=2021-01-01", "tema=ml", "every=fortnight"] {
            let usage = Self.operations(document).first { $0.path == "/v1/usage" }!
            let (status, contentType, data) = try await api.call("get", "/v1/usage?\(query)", body: nil, authorized: true)
            #expect(status == 400, "\(query)")
            #expect(Self.problems(usage, status: status, contentType: contentType, data: data, check: check).isEmpty)
        }
    }

    /// Both ways: each documented path answers only its documented methods, and each route
    /// named in the API's sources is a documented path. A route added without its document
    /// fails here, naming it.
    @Test func everyServedRouteIsDocumented() async throws {
        let document = try Self.load()
        let documented = Self.operations(document)
        let cluster = try LocalCluster()
        defer { cluster.shutdown() }
        try await cluster.start()
        let token = try String(contentsOfFile: cluster.apiTokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let api = APICaller(base: cluster.apiURL, token: token)

        var candidates = Set(documented.map { Self.concrete($0.path) })
        for literal in try Self.routeLiterals() { candidates.insert(literal.hasSuffix("/") ? literal + "probe-route" : literal) }
        #expect(candidates.contains("/v1/usage") && candidates.contains("/v1/budgets/probe-route"))
        for path in candidates.sorted() {
            for method in Self.probedMethods {
                let (status, _, data) = try await api.call(method.lowercased(), path, body: Data("{}".utf8), authorized: true)
                let served = !(status == 404 && String(decoding: data, as: UTF8.self).contains("no such endpoint"))
                let inDocument = documented.contains { $0.method == method.lowercased() && Self.template($0.path, matches: path) }
                #expect(served == inDocument,
                        "\(method) \(path): the server \(served ? "answers" : "does not answer") it (\(status)) but docs/openapi.yaml \(inDocument ? "lists" : "does not list") it")
            }
        }
    }

    /// Every string literal in the API's sources that looks like a route: `"/v1/…"`, `"/healthz"`, `"/metrics"`.
    static func routeLiterals() throws -> Set<String> {
        var found = Set<String>()
        let files = try FileManager.default.contentsOfDirectory(atPath: apiSources.path).filter { $0.hasSuffix(".swift") }
        #expect(files.contains("APIRouter.swift"), "\(apiSources.path)")
        let pattern = #""(/v1/[a-z0-9_/-]*|/healthz|/metrics)""#
        for file in files {
            let text = try String(contentsOf: apiSources.appendingPathComponent(file), encoding: .utf8)
            var rest = text[...]
            while let match = rest.range(of: pattern, options: .regularExpression) {
                found.insert(String(text[match].dropFirst().dropLast()))
                rest = text[match.upperBound...]
            }
        }
        return found
    }

    static func problems(_ operation: Operation, status: Int, contentType: String, data: Data, check: JSONSchemaCheck) -> [String] {
        guard var response = operation.statuses[String(status)] as? [String: Any] else {
            return ["status \(status) is not documented (documented: \(operation.statuses.keys.sorted()))"]
        }
        if let reference = response["$ref"] as? String, let resolved = check.resolve(reference) { response = resolved }
        guard let content = response["content"] as? [String: Any] else { return data.isEmpty ? [] : ["a body where none is documented"] }
        let mediaType = String(contentType.split(separator: ";").first ?? "").trimmingCharacters(in: .whitespaces)
        guard let media = content[mediaType] as? [String: Any] else { return ["content type \(contentType) is not documented (\(content.keys.sorted()))"] }
        guard mediaType == "application/json", let schema = media["schema"] as? [String: Any] else { return data.isEmpty ? ["an empty body"] : [] }
        do {
            return check.problems(try JSONValue.parse(data), schema)
        } catch {
            return ["the body is not JSON: \(String(decoding: data.prefix(200), as: UTF8.self))"]
        }
    }

    /// `/v1/budgets/{id}` with each path parameter's example.
    static func url(_ operation: Operation, query: [(String, String)]) -> String {
        var path = operation.path
        for parameter in operation.parameters where parameter["in"] as? String == "path" {
            path = path.replacingOccurrences(of: "{\(parameter["name"] as? String ?? "")}", with: "\(parameter["example"] ?? "")")
        }
        var components = URLComponents()
        components.path = path
        if !query.isEmpty { components.queryItems = query.map { URLQueryItem(name: $0.0, value: $0.1) } }
        return components.string ?? path
    }

    static func concrete(_ template: String) -> String {
        template.replacingOccurrences(of: #"\{[^}]+\}"#, with: "probe-route", options: .regularExpression)
    }

    static func template(_ template: String, matches path: String) -> Bool {
        let want = template.split(separator: "/"), have = path.split(separator: "/")
        return want.count == have.count && zip(want, have).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
    }

    static func exampleBody(_ operation: Operation) -> Data? {
        guard let content = (operation.spec["requestBody"] as? [String: Any])?["content"] as? [String: Any],
              let example = (content["application/json"] as? [String: Any])?["example"] else { return nil }
        return try? JSONSerialization.data(withJSONObject: example)
    }
}

/// Plain HTTP to the aggregator's API: method, path, optional JSON body and bearer token.
struct APICaller {
    var base: URL
    var token: String

    func call(_ method: String, _ target: String, body: Data?, authorized: Bool) async throws -> (Int, String, Data) {
        var request = URLRequest(url: URL(string: base.absoluteString + target)!)
        request.httpMethod = method.uppercased()
        if authorized { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let body, method != "get", method != "delete" {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as? HTTPURLResponse
        return (http?.statusCode ?? 0, http?.value(forHTTPHeaderField: "Content-Type") ?? "", data)
    }
}
