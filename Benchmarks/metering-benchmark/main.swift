import Foundation
import TollgateCore
import TollgateProviders

// What metering costs the proxy per request, without any I/O: classifying the request
// body and reading usage from the response as it passes, for the fixtures the proxy
// benchmark serves (Benchmarks/proxy/). Medians of --runs runs of --iterations each.
// The baseline, measured in the same run, reads the same fields with Foundation's
// `JSONDecoder` (what the meter did before `JSONScanner`), so the ratio is what the
// scanner saves. `policy` is the spend-policy step (issue #20) with 0 and with --policies
// (default 100) pushed policies, alone and as part of a whole request's metering.
//
//   swift run -c release metering-benchmark [--iterations N] [--runs R] [--policies P] [--only classify|chat|sse|policy]

func argument(_ name: String, default value: Int) -> Int {
    guard let index = CommandLine.arguments.firstIndex(of: name), index + 1 < CommandLine.arguments.count,
          let parsed = Int(CommandLine.arguments[index + 1]) else { return value }
    return parsed
}

let iterations = argument("--iterations", default: 20_000)
let runs = argument("--runs", default: 7)
let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("proxy")
func load(_ name: String) -> Data {
    guard let data = FileManager.default.contents(atPath: fixtures.appendingPathComponent(name).path) else {
        fatalError("missing fixture \(name) in \(fixtures.path)")
    }
    return data
}

let jsonRequest = load("request-chat.json")
let streamRequest = load("request-chat-stream.json")
let jsonResponse = [UInt8](load("chat-completion.json"))
let streamResponse = [UInt8](load("chat-stream.sse"))
// The stream as the proxy sees it: one read per event.
let streamChunks: [ArraySlice<UInt8>] = {
    var chunks: [ArraySlice<UInt8>] = []
    var start = 0
    for index in 1..<streamResponse.count where streamResponse[index - 1] == 10 && streamResponse[index] == 10 {
        chunks.append(streamResponse[start...index])
        start = index + 1
    }
    if start < streamResponse.count { chunks.append(streamResponse[start...]) }
    return chunks
}()

let only = CommandLine.arguments.firstIndex(of: "--only").flatMap { $0 + 1 < CommandLine.arguments.count ? CommandLine.arguments[$0 + 1] : nil }

/// Nanoseconds per call of `body`, median over the runs (nil when `--only` skips it).
@discardableResult
func measure(_ key: String, _ name: String, _ body: () -> Int) -> Double? {
    if let only, only != key { return nil }
    var perCall: [Double] = []
    var sink = 0
    for _ in 0..<runs {
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<iterations { sink &+= body() }
        perCall.append(Double(DispatchTime.now().uptimeNanoseconds - start) / Double(iterations))
    }
    perCall.sort()
    // The value read per call is printed so the work cannot be optimised away unseen.
    print(String(format: "%-46@ %8.2f µs   (min %.2f, max %.2f; read %d per call)", name as NSString,
                 perCall[perCall.count / 2] / 1000, perCall[0] / 1000, perCall[perCall.count - 1] / 1000, sink / (runs * iterations)))
    return perCall[perCall.count / 2]
}

/// The fields the meter reads, as plain `Decodable` types for the Foundation baseline.
struct BaselineRequest: Decodable {
    var model: String?
    var stream: Bool?
    var max_tokens: Int64?
    var user: String?
    var stream_options: [String: Bool]?
}

struct BaselineBody: Decodable {
    struct Usage: Decodable {
        var prompt_tokens: Int64?
        var completion_tokens: Int64?
        var prompt_tokens_details: [String: Int64]?
        var completion_tokens_details: [String: Int64]?
    }
    struct Message: Decodable { var content: String?; var refusal: String? }
    struct Choice: Decodable { var message: Message?; var delta: Message?; var text: String? }
    var model: String?
    var usage: Usage?
    var choices: [Choice]?

    var outputCharacters: Int {
        choices?.reduce(0) { $0 + ($1.message?.content?.unicodeScalars.count ?? 0) + ($1.delta?.content?.unicodeScalars.count ?? 0) } ?? 0
    }
}

print("metering cost per request, \(runs) runs × \(iterations) iterations (median)")
measure("classify", "classify chat request (\(jsonRequest.count) B)") {
    ProviderRequest.classify(provider: .openai, method: "POST", path: "/v1/chat/completions", query: nil, body: jsonRequest)?.maxOutputTokens.map(Int.init) ?? 0
}
measure("classify", "  baseline: JSONDecoder on the same fields") {
    ((try? JSONDecoder().decode(BaselineRequest.self, from: jsonRequest))?.max_tokens).map(Int.init) ?? 0
}
let request = ProviderRequest.classify(provider: .openai, method: "POST", path: "/v1/chat/completions", query: nil, body: jsonRequest)!
measure("chat", "read chat.completion usage (\(jsonResponse.count) B)") {
    var tap = request.makeTap(contentType: "application/json")
    tap.consume(jsonResponse)
    let result = tap.finish()
    return Int(result.usage?.tokens.output ?? -1) + result.outputCharacters
}
measure("chat", "  baseline: JSONDecoder on the same fields") {
    let body = try? JSONDecoder().decode(BaselineBody.self, from: Data(jsonResponse))
    return Int(body?.usage?.completion_tokens ?? -1) + (body?.outputCharacters ?? 0)
}
let stream = ProviderRequest.classify(provider: .openai, method: "POST", path: "/v1/chat/completions", query: nil, body: streamRequest)!
measure("sse", "read SSE stream usage (\(streamChunks.count) events, \(streamResponse.count) B)") {
    var tap = stream.makeTap(contentType: "text/event-stream")
    for chunk in streamChunks { tap.consume(chunk) }
    let result = tap.finish()
    return Int(result.usage?.tokens.output ?? -1) + result.outputCharacters
}
measure("sse", "  baseline: SSEParser + JSONDecoder per event") {
    var parser = SSEParser()
    var output: Int64 = -1
    var characters = 0
    for chunk in streamChunks {
        for event in parser.feed(chunk) where event.data != "[DONE]" {
            guard let body = try? JSONDecoder().decode(BaselineBody.self, from: Data(event.data.utf8)) else { continue }
            output = body.usage?.completion_tokens ?? output
            characters += body.outputCharacters
        }
    }
    return Int(output) + characters
}

// The spend-policy step, then a whole request's metering (classify, policies, usage from
// the chat.completion) with 0 and with P policies: the second ratio is what policies add
// to the agent's own per-request work.
let policyCount = argument("--policies", default: 100)
let catalog = DefaultPriceCatalog.load()
let noPolicies = PolicyScenario(catalog: catalog, policies: 0)
let somePolicies = PolicyScenario(catalog: catalog, policies: policyCount)
let policyLabel = "\(policyCount) policies"
let stepNone = measure("policy", "policy step, 0 policies") { noPolicies.evaluate() }
let stepSome = measure("policy", "policy step, \(policyLabel) (routed, 1 dry-run hit)") { somePolicies.evaluate() }
func wholeRequest(_ scenario: PolicyScenario) -> Int {
    let classified = ProviderRequest.classify(provider: .openai, method: "POST", path: "/v1/chat/completions", query: nil, body: jsonRequest)
    var tap = (classified ?? request).makeTap(contentType: "application/json")
    let decided = scenario.evaluate()
    tap.consume(jsonResponse)
    return decided + Int(tap.finish().usage?.tokens.output ?? -1)
}
let requestNone = measure("policy", "classify + policies + chat usage, 0 policies") { wholeRequest(noPolicies) }
let requestSome = measure("policy", "classify + policies + chat usage, \(policyLabel)") { wholeRequest(somePolicies) }
if let stepNone, let stepSome, let requestNone, let requestSome {
    print(String(format: "policies: %d cost %.0f ns per request (%.0f ns with none); a metered request %.2f× the one without policies",
                 policyCount, stepSome - stepNone, stepNone, requestSome / requestNone))
}
