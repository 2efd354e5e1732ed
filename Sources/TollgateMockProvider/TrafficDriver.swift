import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Sends `plan.requests` chat completions to `baseURL/v1/chat/completions` and sums the
/// usage the clients were billed.
///
/// `baseURL` is the agent's OpenAI route (e.g. `http://127.0.0.1:8787/openai`) or the mock
/// itself. Failed requests are counted, not thrown, so one bad answer still yields a report.
public func runTraffic(plan: TrafficPlan, baseURL: URL) async throws -> TrafficReport {
    try plan.validate()
    let endpoint = baseURL.appendingPathComponent("v1/chat/completions")
    let session = makeTrafficSession(concurrency: plan.concurrency)
    defer { session.finishTasksAndInvalidate() }

    var tally = UsageTally()
    var failures = 0
    var samples: [String] = []

    await withTaskGroup(of: TrafficOutcome.self) { group in
        var next = 0
        // A sliding window rather than one task per request: `concurrency` is a real cap on
        // in-flight requests, which is what quota and connection-pool tests rely on.
        func submit() {
            let request = TrafficRequest(index: next, plan: plan)
            group.addTask { await send(request, to: endpoint, session: session) }
            next += 1
        }
        while next < min(plan.concurrency, plan.requests) { submit() }
        for await outcome in group {
            switch outcome {
            case .billed(let apiKey, let completion):
                tally.add(
                    apiKey: apiKey, model: completion.model, prompt: completion.usage.prompt_tokens,
                    cached: completion.cachedTokens, completion: completion.usage.completion_tokens,
                    reasoning: completion.reasoningTokens
                )
            case .failed(let reason):
                failures += 1
                if samples.count < 5 { samples.append(reason) }
            }
            if next < plan.requests { submit() }
        }
    }
    return TrafficReport(requests: plan.requests, failures: failures, entries: tally.entries, failureSamples: samples)
}

/// Reads the mock's ground truth from `mockURL/_mock/ledger`.
public func fetchLedger(mockURL: URL) async throws -> LedgerSnapshot {
    let url = mockURL.appendingPathComponent("_mock/ledger")
    let session = makeTrafficSession(concurrency: 1)
    defer { session.finishTasksAndInvalidate() }
    let (data, response) = try await session.data(for: URLRequest(url: url))
    let status = (response as? HTTPURLResponse)?.statusCode ?? 0
    guard status == 200 else {
        throw TrafficError.badStatus(url: url.absoluteString, status: status, body: String(decoding: data, as: UTF8.self))
    }
    do {
        return try JSONDecoder().decode(LedgerSnapshot.self, from: data)
    } catch {
        throw TrafficError.undecodable(url: url.absoluteString, reason: "\(error)")
    }
}

private enum TrafficOutcome: Sendable {
    case billed(apiKey: String, ObservedCompletion)
    case failed(String)
}

private func send(_ request: TrafficRequest, to endpoint: URL, session: URLSession) async -> TrafficOutcome {
    var urlRequest = URLRequest(url: endpoint)
    urlRequest.httpMethod = "POST"
    urlRequest.httpBody = request.body
    urlRequest.setValue("Bearer \(request.apiKey)", forHTTPHeaderField: "Authorization")
    urlRequest.setValue("application/json", forHTTPHeaderField: "Content-Type")
    do {
        let (data, response) = try await session.data(for: urlRequest)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status == 200 else {
            return .failed("HTTP \(status) for \(request.model): \(String(decoding: data.prefix(200), as: UTF8.self))")
        }
        do {
            return .billed(apiKey: request.apiKey, try JSONDecoder().decode(ObservedCompletion.self, from: data))
        } catch {
            return .failed("unreadable usage for \(request.model): \(error)")
        }
    } catch {
        return .failed("\(endpoint.absoluteString): \(error.localizedDescription)")
    }
}

/// A private session sized to the plan: the shared one caps connections per host and
/// caches, both of which would distort a load test.
private func makeTrafficSession(concurrency: Int) -> URLSession {
    let configuration = URLSessionConfiguration.ephemeral
    configuration.httpMaximumConnectionsPerHost = max(1, concurrency)
    configuration.timeoutIntervalForRequest = 60
    configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
    configuration.urlCache = nil
    return URLSession(configuration: configuration)
}
