import Foundation
@testable import TollgateAgent
import Testing
import TollgateCore
import TollgateProviders

@Suite struct ExchangeMeterTests {
    let meter = ExchangeMeter(prices: DefaultPriceCatalog.load())

    func exchange(status: Int? = 200, usage: ExtractedUsage?, model: String? = "gpt-4o", outputCharacters: Int = 0,
                  problems: [String] = [], endedCleanly: Bool = true) -> CompletedExchange {
        CompletedExchange(
            request: ProviderRequest(provider: .openai, endpoint: .chatCompletions, model: model, user: "u1"),
            attribution: { var attribution = Attribution(); attribution.user = "u1"; attribution.team = "search"; return attribution }(),
            keyID: "kid", keyHint: "sk-…abcd", status: status, endedCleanly: endedCleanly,
            tap: TapResult(usage: usage, outputCharacters: outputCharacters, problems: problems),
            requestBodyBytes: 400, completedAt: Date(timeIntervalSince1970: 120))
    }

    @Test func pricesTheReturnedSnapshotThroughItsFamily() {
        let usage = ExtractedUsage(model: "gpt-4o-2024-08-06", tokens: TokenUsage(input: 1000, cachedInput: 200, output: 100))
        let outcome = meter.meter(exchange(usage: usage))
        #expect(outcome.problems.isEmpty)
        #expect(outcome.event.dimensions.model == "gpt-4o")
        #expect(outcome.event.dimensions.servedModel == "gpt-4o-2024-08-06")
        #expect(outcome.event.dimensions.requestedModel == "gpt-4o")
        #expect(outcome.event.dimensions.keyID == "kid" && outcome.event.dimensions.user == "u1")
        #expect(outcome.event.dimensions.team == "search")
        #expect(outcome.event.dimensions.endpoint == "chat.completions" && outcome.event.dimensions.provider == "openai")
        // 800 × $2.50/M + 200 × $1.25/M + 100 × $10/M
        #expect(outcome.event.cost == Nanodollars(800 * 2_500 + 200 * 1_250 + 100 * 10_000))
        #expect(outcome.event.flags.isEmpty)
        #expect(outcome.event.minute == 2)
    }

    /// Success, error, cut stream and refusal of one request all carry the same canonical
    /// model, so the budget that blocks it is the one that counted it.
    @Test func everyOutcomeOfARequestLandsUnderTheRequestedNamesCanonicalModel() {
        let requested = "gpt-4o-2024-08-06"
        let served = meter.meter(exchange(usage: ExtractedUsage(model: "gpt-4o-2024-08-06", tokens: TokenUsage(input: 10)), model: requested))
        let failed = meter.meter(exchange(status: 503, usage: nil, model: requested))
        let cut = meter.meter(exchange(usage: nil, model: requested, outputCharacters: 40))
        let gated = meter.dimensions(of: ProviderRequest(provider: .openai, endpoint: .chatCompletions, model: requested),
                                     keyID: "kid", keyHint: "", attribution: Attribution())
        for dimensions in [served.event.dimensions, failed.event.dimensions, cut.event.dimensions, gated] {
            #expect(dimensions.model == "gpt-4o" && dimensions.requestedModel == requested)
        }
        #expect(failed.event.dimensions.servedModel == "" && cut.event.dimensions.servedModel == "" && gated.servedModel == "")
    }

    @Test func geminisPathFormAndAProviderPrefixAreTheSameModel() {
        let gemini = CompletedExchange(
            request: ProviderRequest(provider: .gemini, endpoint: .generateContent, model: "models/gemini-2.5-pro"),
            keyID: "kid", keyHint: "", status: 200,
            tap: TapResult(usage: ExtractedUsage(model: "gemini-2.5-pro", tokens: TokenUsage(input: 1_000, output: 10))),
            requestBodyBytes: 100, completedAt: Date(timeIntervalSince1970: 0))
        let outcome = meter.meter(gemini)
        #expect(outcome.event.dimensions.model == "gemini-2.5-pro" && outcome.event.dimensions.requestedModel == "models/gemini-2.5-pro")
        #expect(outcome.event.flags.isEmpty, "priced")
        let prefixed = meter.meter(exchange(usage: nil, model: "openai/gpt-4o", outputCharacters: 4))
        #expect(prefixed.event.dimensions.model == "gpt-4o")
    }

    /// An Azure deployment's name is a model of its own unless the deployment's catalog
    /// declares it an alias; then the gate and the meter both see the aliased model.
    @Test func aDeploymentNameIsAnAliasOnlyWhenTheCatalogSaysSo() throws {
        var prices = DefaultPriceCatalog.load()
        #expect(ExchangeMeter(prices: prices).meter(exchange(usage: nil, model: "eu-prod-4o", outputCharacters: 4)).event.dimensions.model == "eu-prod-4o")
        try prices.merge(yaml: "models:\n  gpt-4o:\n    provider: openai\n    input: 2.50\n    output: 10\n    aliases: [eu-prod-4o]\n", source: "deployment")
        let outcome = ExchangeMeter(prices: prices).meter(exchange(usage: ExtractedUsage(model: "eu-prod-4o", tokens: TokenUsage(input: 1)), model: "eu-prod-4o"))
        #expect(outcome.event.dimensions.model == "gpt-4o" && outcome.event.dimensions.servedModel == "eu-prod-4o")
        #expect(!outcome.event.flags.contains(.unpriced))
    }

    @Test func anUpstreamErrorIsAnErroredRequestWithZeroTokens() {
        let outcome = meter.meter(exchange(status: 429, usage: nil, problems: ["no_usage"]))
        #expect(outcome.event.flags == .error)
        #expect(outcome.event.tokens == .zero && outcome.event.cost == .zero)
        #expect(outcome.problems.isEmpty)
        #expect(outcome.event.dimensions.model == "gpt-4o")
    }

    @Test func anErrorThatReportsUsageIsCharged() {
        let outcome = meter.meter(exchange(status: 500, usage: ExtractedUsage(model: nil, tokens: TokenUsage(input: 10))))
        #expect(outcome.event.flags == .error)
        #expect(outcome.event.cost == Nanodollars(10 * 2_500))
    }

    @Test func anUnknownModelIsChargedAtTheFallbackAndFlagged() {
        let outcome = meter.meter(exchange(usage: ExtractedUsage(model: "gpt-99-turbo", tokens: TokenUsage(input: 1_000_000)), model: "gpt-99-turbo"))
        #expect(outcome.event.flags.contains(.unpriced))
        #expect(outcome.event.cost == PriceCatalog.defaultFallback.cost(of: TokenUsage(input: 1_000_000)))
    }

    @Test func aSuccessWithoutUsageIsEstimatedFlaggedAndCounted() {
        let outcome = meter.meter(exchange(usage: nil, outputCharacters: 400, problems: ["truncated_stream"]))
        #expect(outcome.event.flags == .estimated)
        #expect(outcome.event.tokens == TokenUsage(input: 100, output: 100))
        #expect(outcome.event.cost > .zero)
        #expect(outcome.problems == ["truncated_stream", "usage_missing"])
    }
}

/// Exchanges whose final usage never came: estimated, flagged, never below what the provider
/// reported so far.
@Suite struct CutShortExchangeMeterTests {
    let meter = ExchangeMeter(prices: DefaultPriceCatalog.load())
    let base = ExchangeMeterTests()

    /// Anthropic's `message_start`: exact input and cache counts, a placeholder output of 1.
    @Test func anAnthropicStreamCutAfterMessageStartKeepsItsInputAndEstimatesItsOutput() {
        let reported = ExtractedUsage(model: "claude-sonnet-4-5-20250929",
                                      tokens: TokenUsage(input: 1_200, cachedInput: 1_000, output: 1))
        let outcome = meter.meter(base.exchange(usage: reported, model: "claude-sonnet-4-5", outputCharacters: 2_000,
                                                problems: ["truncated_stream"], endedCleanly: false))
        #expect(outcome.event.flags == .estimated)
        #expect(outcome.event.tokens == TokenUsage(input: 1_200, cachedInput: 1_000, output: 500), "the text seen, not the placeholder")
        // A cut stream lands under the same canonical model as a complete one.
        #expect(outcome.event.dimensions.model == "claude-sonnet-4-5")
        #expect(outcome.event.dimensions.servedModel == "claude-sonnet-4-5-20250929")
        #expect(outcome.problems == ["truncated_stream"])
    }

    /// A count the provider reported is a floor, even when the text seen says less.
    @Test func neverBelowTheProvidersOwnRunningCount() {
        let reported = ExtractedUsage(model: "gemini-2.5-flash", tokens: TokenUsage(input: 30, output: 340, reasoning: 300))
        let outcome = meter.meter(base.exchange(usage: reported, outputCharacters: 40, problems: ["truncated_stream"]))
        #expect(outcome.event.flags == .estimated)
        #expect(outcome.event.tokens == TokenUsage(input: 30, output: 340, reasoning: 300))
        // More text than the running count: thoughts plus the text.
        let more = meter.meter(base.exchange(usage: reported, outputCharacters: 400, problems: ["truncated_stream"]))
        #expect(more.event.tokens == TokenUsage(input: 30, output: 400, reasoning: 300))
    }

    /// The client left (or the provider fell silent) after the request went out, before any
    /// response: the prompt was billed.
    @Test func anExchangeCutBeforeItsResponseIsEstimatedFromTheRequest() {
        let outcome = meter.meter(base.exchange(status: nil, usage: nil, endedCleanly: false))
        #expect(outcome.event.flags == .estimated)
        #expect(outcome.event.tokens == TokenUsage(input: 100))
        #expect(outcome.problems == ["usage_missing", "truncated_stream"])
    }

    /// Usage that looks complete in a response that did not end is still only usage so far.
    @Test func usageInAResponseThatDidNotEndIsAnEstimate() {
        let reported = ExtractedUsage(model: nil, tokens: TokenUsage(input: 10, output: 5))
        let outcome = meter.meter(base.exchange(usage: reported, outputCharacters: 4, endedCleanly: false))
        #expect(outcome.event.flags == .estimated)
        #expect(outcome.event.tokens == TokenUsage(input: 10, output: 5))
    }

    /// An error event inside a stream that began with 200: an error, and what was generated
    /// before it is estimated rather than dropped.
    @Test func anErrorEventMidStreamIsAnErrorWithItsOutputSoFar() {
        let outcome = meter.meter(base.exchange(usage: nil, outputCharacters: 80, problems: ["provider_error", "truncated_stream"]))
        #expect(outcome.event.flags == [.error, .estimated])
        #expect(outcome.event.tokens == TokenUsage(input: 100, output: 20))
    }

    /// An error status is not billed, cut short or not.
    @Test func anErrorStatusCutShortIsStillZeroTokens() {
        let outcome = meter.meter(base.exchange(status: 529, usage: nil, problems: ["malformed_json"], endedCleanly: false))
        #expect(outcome.event.flags == .error)
        #expect(outcome.event.tokens == .zero)
    }
}

@Suite struct AgentConfigTests {
    func secretFile() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("secret-\(UUID())").path
        try "0123456789abcdef0123456789abcdef\n".write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func defaultsNeedOnlyTheSecretAndTheAggregatorsKey() throws {
        #expect { try AgentConfig(yaml: "org_secret_file: \(try secretFile())") } throws: { error in
            "\(error)".contains("'aggregator.server_public_key_file'") && "\(error)".contains("tollgate keygen")
        }
        let config = try AgentConfig(yaml: "org_secret_file: \(try secretFile())\naggregator:\n  insecure_plaintext: true")
        #expect(config.aggregatorSecurity == .insecurePlaintext)
        #expect(config.listen == HostPort(host: "127.0.0.1", port: 8787))
        #expect(config.upstreams.openai.description == "https://api.openai.com")
        #expect(config.orgSecret.count == 32)
    }

    @Test func theSecretIsRequiredAndTheErrorSaysHowToMakeOne() {
        #expect { try AgentConfig(yaml: "listen: 127.0.0.1:1") } throws: { error in
            "\(error)".contains("org_secret_file") && "\(error)".contains("/dev/urandom")
        }
    }

    @Test func badValuesNameTheirKey() throws {
        let secret = try secretFile()
        let cases: [(String, String)] = [
            ("upstreams:\n  openai: ftp://x", "upstreams.openai"),
            ("aggregator:\n  endpoint: 127.0.0.1:7600", "aggregator.endpoint"),
            ("aggregator:\n  server_public_key_file: /nonexistent", "aggregator.server_public_key_file"),
            ("meter:\n  flush_interval_ms: 0", "meter.flush_interval_ms"),
            ("listen: nowhere", "listen"),
            ("lisen: 127.0.0.1:1", "lisen"),
        ]
        for (yaml, key) in cases {
            let security = yaml.hasPrefix("aggregator:") ? "" : "aggregator:\n  insecure_plaintext: true\n"
            #expect { try AgentConfig(yaml: "org_secret_file: \(secret)\n" + security + yaml) } throws: { error in
                "\(error)".contains("'\(key)'")
            }
        }
    }

    @Test func routesBaseURLModeRequests() throws {
        var upstreams = AgentConfig.Upstreams()
        upstreams.openai = try #require(UpstreamURL("http://127.0.0.1:9700/base/"))
        let route = try ProviderRoute.resolve(uri: "/openai/v1/chat/completions?x=1", upstreams: upstreams).get()
        #expect(route.upstreamURI == "/base/v1/chat/completions?x=1")
        #expect(route.path == "/v1/chat/completions" && route.query == "x=1")
        #expect(route.upstream.hostHeader == "127.0.0.1:9700")
        let gemini = try ProviderRoute.resolve(uri: "/gemini/v1beta/models/gemini-2.5-pro:generateContent", upstreams: upstreams).get()
        #expect(gemini.provider == .gemini && gemini.upstream.host == "generativelanguage.googleapis.com")
        #expect(ProviderRoute.resolve(uri: "/elsewhere", upstreams: upstreams) == .failure(.unknownPrefix))
        #expect(ProviderRoute.resolve(uri: "/azure/openai/deployments/d/chat/completions", upstreams: upstreams) == .failure(.notConfigured("azure")))
    }
}
