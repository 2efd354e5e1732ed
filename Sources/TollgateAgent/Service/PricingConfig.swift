import TollgateCore
import TollgateProviders

/// The agent config's `pricing` section, apart from `AgentConfig` so that
/// `tollgate-agent prices` can show the active catalog from a config whose other parts
/// (secrets, keys) it has no business reading.
public enum PricingConfig {
    /// Built-in, then LiteLLM's community file, then this deployment's own YAML
    /// (`DefaultPriceCatalog.load(pricing:)`, which the aggregator reads the same way).
    public static func catalog(from root: ConfigNode) throws -> PriceCatalog {
        try DefaultPriceCatalog.load(pricing: root.section("pricing"))
    }

    /// The catalog of the config file at `path`, reading only its `pricing` section.
    public static func catalog(configFile path: String) throws -> PriceCatalog {
        try catalog(from: ConfigNode(file: path))
    }
}
