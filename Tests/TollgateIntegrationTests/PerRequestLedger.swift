import Foundation
import NIOConcurrencyHelpers
import TestSupport
import Testing
import TollgateCore
import TollgateMockProvider
import TollgateProviders

/// The per-request ledger check behind the durability tests (agent kills, aggregator kills,
/// outages, a full disk): every request carries its own API key, so each is checked on its
/// own against the mock's ledger instead of hiding in a total.

/// Checks every request on its own. With `exact`, each must be counted exactly once
/// whether or not it completed (for requests that were all answered in full).
func expectEachRequestCountedOnce(_ cluster: LocalCluster, _ outcomes: [RequestOutcome], exact: Bool = false) async throws {
    let keys = KeyIdentifier(orgSecret: cluster.orgSecret)
    let prices = DefaultPriceCatalog.load()
    let completeKeys = Set(outcomes.filter(\.complete).map { keys.keyID(for: $0.key) })
    let allKeys = Set(outcomes.map { keys.keyID(for: $0.key) })
    var problems: [String] = []
    _ = try await eventually(seconds: 30, until: { $0.isEmpty }) { () async throws -> [String] in
        let ledger = try await fetchLedger(mockURL: cluster.mockURL)
        let expected = GroundTruth.expected(from: ledger, keys: keys, prices: prices).filter { allKeys.contains($0.key.keyID) }
        let json = try cluster.cli(["usage", "--since", "1h", "--by", "key,model", "--format", "json"])
        let actual = try GroundTruth.actual(fromUsageJSON: Data(json.utf8)).filter { allKeys.contains($0.key.keyID) }
        problems = []
        for group in Set(expected.keys).union(actual.keys) {
            let want = expected[group], got = actual[group]
            if want == nil {
                problems.append("\(group): counted \(got!) but the provider never served it")
            } else if completeKeys.contains(group.keyID) || exact {
                if got != want { problems.append("\(group): delivered in full, expected \(want!), aggregator has \(got.map { "\($0)" } ?? "nothing")") }
            } else if let got, got != want {
                problems.append("\(group): not delivered in full, expected nothing or \(want!), aggregator has \(got)")
            }
        }
        let served = Set(expected.keys.map(\.keyID))
        for outcome in outcomes where outcome.complete && !served.contains(keys.keyID(for: outcome.key)) {
            problems.append("\(outcome.key): delivered in full but missing from the mock's ledger")
        }
        return problems
    }
    #expect(problems.isEmpty, "\(problems.count) requests wrong:\n\(problems.prefix(20).joined(separator: "\n"))\nagent log:\n\(cluster.log("agent").suffix(4000))")
}

/// One request and whether its client received the whole response.
struct RequestOutcome: Sendable {
    var key: String
    var complete: Bool
    var response: String
    /// When it was sent and how long it took, for telling a refused connection from a stall.
    var sentAt = Date()
    var seconds = 0.0
}

/// Threads sending requests, each with a fresh API key, until stopped: blocking sockets on
/// their own threads, so the load does not depend on the test's task pool.
final class PerRequestLoad: @unchecked Sendable {
    private let port: Int
    private let prefix: String
    private let threads: Int
    /// Each thread's rest between requests: none for a flood, some for steady traffic.
    private let pause: Duration
    private let state = NIOLockedValueBox((stopped: false, running: 0, outcomes: [RequestOutcome]()))
    private let counter = NIOLockedValueBox(0)

    init(cluster: LocalCluster, prefix: String, threads: Int, pause: Duration = .zero) {
        port = cluster.agentURL.port!
        self.prefix = prefix
        self.threads = threads
        self.pause = pause
    }

    /// Requests sent so far (finished ones).
    var sent: Int { state.withLockedValue { $0.outcomes.count } }

    func start() {
        for thread in 0..<threads {
            state.withLockedValue { $0.running += 1 }
            Thread { [self] in
                while !state.withLockedValue({ $0.stopped }) {
                    let index = counter.withLockedValue { value -> Int in
                        value += 1
                        return value
                    }
                    let outcome = Self.send(port: port, key: "sk-\(prefix)-\(thread)-\(index)", index: index)
                    state.withLockedValue { $0.outcomes.append(outcome) }
                    if !outcome.complete { usleep(20_000) }  // the agent is restarting
                    if pause > .zero { usleep(UInt32(pause.wholeMilliseconds * 1_000)) }
                }
                state.withLockedValue { $0.running -= 1 }
            }.start()
        }
    }

    func stop() -> [RequestOutcome] {
        state.withLockedValue { $0.stopped = true }
        while state.withLockedValue({ $0.running }) > 0 { usleep(10_000) }
        return state.withLockedValue { $0.outcomes }
    }

    /// Half the requests stream (the agent asks for usage and hides the extra chunk), half
    /// are plain JSON. Complete means the whole framed body arrived.
    static func send(port: Int, key: String, index: Int) -> RequestOutcome {
        let stream = index % 2 == 1
        let body = #"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"question \#(index) about the weather"}]\#(stream ? #","stream":true"# : "")}"#
        let request = "POST /openai/v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(key)\r\n"
            + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
        let sentAt = Date()
        guard let response = try? RawHTTP.exchange(port: port, request: request) else {
            return RequestOutcome(key: key, complete: false, response: "", sentAt: sentAt, seconds: -Date().timeIntervalSince(sentAt))
        }
        return RequestOutcome(key: key, complete: Self.isComplete(response), response: response, sentAt: sentAt, seconds: Date().timeIntervalSince(sentAt))
    }

    static func isComplete(_ response: String) -> Bool {
        guard response.hasPrefix("HTTP/1.1 200"), let split = response.range(of: "\r\n\r\n") else { return false }
        let head = response[..<split.lowerBound].lowercased()
        let body = response[split.upperBound...]
        if let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
           let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) {
            return body.utf8.count == length
        }
        if head.contains("transfer-encoding: chunked") { return body.hasSuffix("0\r\n\r\n") }
        // Close-delimited: a killed agent also ends the connection, so the body itself must
        // be whole (a stream's last event, or a JSON document that parses).
        if head.contains("text/event-stream") { return body.hasSuffix("data: [DONE]\n\n") }
        return (try? JSONSerialization.jsonObject(with: Data(body.utf8))) != nil
    }
}
