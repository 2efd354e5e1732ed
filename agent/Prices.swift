import ArgumentParser
import TollgateProviders

struct Prices: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the built-in price catalog (YAML).",
        discussion: """
        Prices are USD per million tokens per token class. To change or add models, save
        this output, edit it, and name the file in the agent config under pricing.catalog;
        its entries win over the built-in ones.
        """)

    func run() {
        print(DefaultPriceCatalog.yaml)
    }
}
