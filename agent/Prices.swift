import ArgumentParser
import Foundation
import TollgateAgent
import TollgateCore
import TollgateProviders

struct Prices: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the active price catalog, or compare it with LiteLLM's price file.",
        discussion: """
        Prices are USD per million tokens per token class: INPUT (uncached prompt), CACHED
        (cache reads), WRITE 5M and WRITE 1H (prompt-cache writes kept 5 minutes or 1 hour),
        OUTPUT (reasoning included). TIER is the model's place in its provider's line-up
        (economy, standard, premium), what a policy's tier:premium matches; "-" for a model
        no source gives one. Each model has a row per SERVICE tier it is billed in
        (standard, flex, priority, batch) and, where the provider charges more for long
        prompts, a row for prompts above the threshold: such a request is priced entirely at
        that row. SEARCH/1K is the fee per 1,000 server-side web searches. A rate marked *
        is derived, not stated by the source: batch is half of every standard rate, and a
        class a tier or band leaves out scales with its input rate.

        The active catalog is the built-in one, then the config's pricing.litellm_file,
        then its pricing.catalog (later entries win), then its pricing.tiers, which
        reassigns tiers without restating prices ({claude-sonnet-4-5: premium}). An entry
        from LiteLLM's file or pricing.catalog without a tier: keeps the model's built-in
        tier; a model only LiteLLM knows has none until pricing.tiers names it. Without
        --config the agent's default config is read if it exists.

        To change or add models, save `tollgate-agent prices --yaml`, edit it, and name the
        file in the agent config under pricing.catalog.

        --check FILE lists every price LiteLLM's model_prices_and_context_window.json states
        for a model of the active catalog that differs from what Tollgate charges (model,
        LiteLLM's field name, ours, theirs) and exits with status 1 if there is any.
        """)

    @Option(name: .shortAndLong, help: "Path of the agent's YAML config (only its pricing section is read).")
    var config: String?

    @Flag(help: "Print the built-in catalog as YAML, a starting point for pricing.catalog.")
    var yaml = false

    @Option(help: ArgumentHelp("Compare the active catalog with LiteLLM's price file.", valueName: "file"))
    var check: String?

    @Option(help: "Only models whose name contains this text.")
    var model: String?

    static let defaultConfig = "/etc/tollgate/agent.yaml"

    func run() throws {
        if yaml {
            print(DefaultPriceCatalog.yaml)
            return
        }
        let catalog = try activeCatalog()
        if let check {
            let file: LiteLLMPriceFile
            do {
                file = try LiteLLMPriceFile(json: try Data(contentsOf: URL(fileURLWithPath: check)), source: check)
            } catch let error as LiteLLMPriceFile.LiteLLMError {
                throw ValidationError("\(error)")
            } catch {
                throw ValidationError("cannot read \(check): \(error.localizedDescription)")
            }
            var result = PriceCheck(catalog: catalog, file: file)
            if let model { result.differences.removeAll { !$0.model.contains(model) } }
            print(PriceCheckReport(check: result, file: check).render())
            if !result.differences.isEmpty { throw ExitCode(1) }
            return
        }
        print(PriceTable(catalog: catalog, filter: model).render())
    }

    private func activeCatalog() throws -> PriceCatalog {
        let path = config ?? (FileManager.default.fileExists(atPath: Self.defaultConfig) ? Self.defaultConfig : nil)
        guard let path else { return DefaultPriceCatalog.load() }
        do {
            return try PricingConfig.catalog(configFile: path)
        } catch {
            throw ValidationError("\(error)")
        }
    }
}
