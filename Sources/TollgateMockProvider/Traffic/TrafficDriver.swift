import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Sends `plan.requests` requests to an OpenAI base URL and sums the usage the clients
/// were billed.
///
/// `baseURL` is the agent's OpenAI route (e.g. `http://127.0.0.1:8787/openai`) or the mock
/// itself; other providers' formats go to the agent's routes beside it (see
/// `TrafficEndpoints(openAIBase:)`). Failed requests are counted, not thrown, so one bad
/// answer still yields a report.
public func runTraffic(plan: TrafficPlan, baseURL: URL) async throws -> TrafficReport {
    try await runTraffic(plan: plan, endpoints: TrafficEndpoints(openAIBase: baseURL))
}

/// Sends the plan through an agent (or the mock) at its root URL, e.g.
/// `http://127.0.0.1:8787`: OpenAI formats to `<root>/openai/…`, Anthropic to
/// `<root>/anthropic/…`, Gemini to `<root>/gemini/…`.
public func runTraffic(plan: TrafficPlan, agentURL: URL) async throws -> TrafficReport {
    try await runTraffic(plan: plan, endpoints: TrafficEndpoints(agentRoot: agentURL))
}

public func runTraffic(plan: TrafficPlan, endpoints: TrafficEndpoints) async throws -> TrafficReport {
    try plan.validate()
    let session = makeTrafficSession(concurrency: plan.concurrency)
    defer { session.finishTasksAndInvalidate() }

    var tally = UsageTally()
    var samples: [String] = []
    var counts = Dictionary(uniqueKeysWithValues: plan.formats.map { ($0, TrafficReport.FormatCount(format: $0)) })

    await withTaskGroup(of: (TrafficFormat, TrafficOutcome).self) { group in
        var next = 0
        // A sliding window rather than one task per request: `concurrency` is a real cap on
        // in-flight requests, which is what quota and connection-pool tests rely on.
        func submit() {
            let request = TrafficRequest(index: next, plan: plan)
            group.addTask { (request.format, await send(request, endpoints: endpoints, session: session)) }
            next += 1
        }
        while next < min(plan.concurrency, plan.requests) { submit() }
        for await (format, outcome) in group {
            counts[format, default: .init(format: format)].requests += 1
            switch outcome {
            case .billed(let billed, let usageShown):
                tally.add(billed)
                if !usageShown { counts[format]?.usageHidden += 1 }
            case .failed(let reason):
                counts[format]?.failures += 1
                if samples.count < 5 { samples.append(reason) }
            }
            if next < plan.requests { submit() }
        }
    }
    let formats = TrafficFormat.allCases.compactMap { counts[$0] }
    return TrafficReport(requests: plan.requests, failures: formats.reduce(0) { $0 + $1.failures },
                         entries: tally.entries, failureSamples: samples, formats: formats)
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
    case billed(BilledRequest, usageShown: Bool)
    case failed(String)
}

/// Reads each response to its end, streams included, before looking at its usage.
private func send(_ request: TrafficRequest, endpoints: TrafficEndpoints, session: URLSession) async -> TrafficOutcome {
    let urlRequest = request.urlRequest(endpoints: endpoints)
    let label = "\(request.format.rawValue) \(request.model)"
    do {
        let (data, response) = try await session.data(for: urlRequest)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status == 200 else {
            return .failed("HTTP \(status) for \(label): \(String(decoding: data.prefix(200), as: UTF8.self))")
        }
        let observed = try ObservedUsage.read(request.format, from: data)
        let billed = BilledRequest(provider: request.format.provider, apiKey: request.apiKey, model: observed.model,
                                   tokens: observed.tokens ?? .zero)
        return .billed(billed, usageShown: observed.tokens != nil)
    } catch let error as ObservationError {
        return .failed("\(label): \(error)")
    } catch {
        return .failed("\(urlRequest.url?.absoluteString ?? "?"): \(error.localizedDescription)")
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
