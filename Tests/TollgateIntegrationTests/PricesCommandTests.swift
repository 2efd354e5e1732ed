import Foundation
import Testing

/// `tollgate-agent prices`: the active catalog a config makes, and `--check` against a
/// LiteLLM file, its report and its exit status.
@Suite struct PricesCommandTests {
    /// Runs `tollgate-agent` and returns its status and stdout.
    func agent(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let result = try agentWithErrors(arguments)
        return (result.status, result.output)
    }

    /// Runs `tollgate-agent` and returns its status, stdout and stderr.
    func agentWithErrors(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
        let process = Process()
        process.executableURL = try LocalCluster.binary("tollgate-agent")
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self), String(decoding: errorData, as: UTF8.self))
    }

    func withTemporaryDirectory(_ body: (URL) throws -> Void) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-prices-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try body(directory)
    }

    /// LiteLLM's entry for Claude Sonnet 4.5, in its own key names.
    static let sonnet = """
        {"claude-sonnet-4-5": {"litellm_provider": "anthropic", "input_cost_per_token": 3e-06, "output_cost_per_token": 1.5e-05,
          "cache_read_input_token_cost": 3e-07, "cache_creation_input_token_cost": 3.75e-06,
          "cache_creation_input_token_cost_above_1hr": 6e-06,
          "input_cost_per_token_above_200k_tokens": 6e-06, "output_cost_per_token_above_200k_tokens": 2.25e-05,
          "input_cost_per_token_batches": 1.5e-06, "output_cost_per_token_batches": 7.5e-06}}
        """

    @Test func checkAgreesWithTheFileThenReportsAnOverrideAndFails() throws {
        try withTemporaryDirectory { directory in
            let litellm = directory.appendingPathComponent("litellm.json")
            try Data(Self.sonnet.utf8).write(to: litellm)
            let override = directory.appendingPathComponent("prices.yaml")
            try Data("""
                models:
                  claude-sonnet-4-5:
                    provider: anthropic
                    input: 3
                    cached_input: 0.30
                    cache_write: 3.75
                    cache_write_1h: 6.50
                    output: 15
                    as_of: 2026-12-06
                """.utf8).write(to: override)
            let plain = directory.appendingPathComponent("plain.yaml")
            try Data("pricing:\n  litellm_file: \(litellm.path)\n".utf8).write(to: plain)
            let overridden = directory.appendingPathComponent("overridden.yaml")
            try Data("pricing:\n  catalog: \(override.path)\n".utf8).write(to: overridden)

            let agrees = try agent(["prices", "--config", plain.path, "--check", litellm.path, "--model", "claude-sonnet-4-5"])
            #expect(agrees.status == 0, "\(agrees.output)")
            #expect(agrees.output.contains("agrees with"))

            let differs = try agent(["prices", "--config", overridden.path, "--check", litellm.path])
            #expect(differs.status == 1, "\(differs.output)")
            let lines = differs.output.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
            #expect(lines.first == "MODEL FIELD OURS THEIRS")
            // The model is named on its first line only; the override has no long-context
            // band, so above 200k it charges its only rates.
            #expect(lines.dropFirst().first == "claude-sonnet-4-5 long-context threshold (tokens) - 200000")
            #expect(lines.contains("cache_creation_input_token_cost_above_1hr 6.5 6"))
            #expect(lines.contains("input_cost_per_token_above_200k_tokens 3 6"))
            #expect(!lines.contains { $0.contains("input_cost_per_token_batches") }, "batch is half, as LiteLLM states")
            #expect(differs.output.contains("4 prices differ in 1 models"))

            let shown = try agent(["prices", "--config", overridden.path, "--model", "claude-sonnet-4-5"])
            #expect(shown.status == 0)
            #expect(shown.output.contains("2026-12-06") && shown.output.contains(override.path))
        }
    }

    /// The model's tier is on its first row; `pricing.tiers` in the config reassigns it,
    /// and a tier map naming no known model stops the command with the key to fix.
    @Test func showsEachModelsTierAndTheConfigsOverride() throws {
        func row(_ output: String, _ model: String) -> [String] {
            output.split(separator: "\n").first { $0.hasPrefix(model + " ") }.map { $0.split(separator: " ").map(String.init) } ?? []
        }
        let builtIn = try agent(["prices", "--model", "claude-"])
        #expect(builtIn.status == 0)
        #expect(builtIn.output.split(separator: "\n").first?.split(separator: " ").prefix(3) == ["MODEL", "TIER", "SERVICE"], "\(builtIn.output)")
        #expect(row(builtIn.output, "claude-opus-4-1").prefix(3) == ["claude-opus-4-1", "premium", "standard"], "\(builtIn.output)")
        #expect(row(builtIn.output, "claude-sonnet-4-5").prefix(2) == ["claude-sonnet-4-5", "standard"])
        #expect(row(builtIn.output, "claude-haiku-4-5").prefix(2) == ["claude-haiku-4-5", "economy"])
        try withTemporaryDirectory { directory in
            let config = directory.appendingPathComponent("agent.yaml")
            try Data("pricing:\n  tiers:\n    claude-sonnet-4-5: premium\n".utf8).write(to: config)
            let overridden = try agent(["prices", "--config", config.path, "--model", "claude-sonnet-4"])
            #expect(row(overridden.output, "claude-sonnet-4-5").prefix(2) == ["claude-sonnet-4-5", "premium"], "\(overridden.output)")
            #expect(row(overridden.output, "claude-sonnet-4").prefix(2) == ["claude-sonnet-4", "standard"])

            try Data("pricing:\n  tiers:\n    claude-sonet-4-5: premium\n".utf8).write(to: config)
            let typo = try agentWithErrors(["prices", "--config", config.path])
            #expect(typo.status != 0 && typo.errors.contains("pricing.tiers.claude-sonet-4-5"), "\(typo.errors)")
        }
    }

    @Test func aFileThatIsNotLiteLLMsIsAClearError() throws {
        try withTemporaryDirectory { directory in
            let bad = directory.appendingPathComponent("bad.json")
            try Data("[1, 2]".utf8).write(to: bad)
            let result = try agent(["prices", "--check", bad.path])
            #expect(result.status != 0 && result.status != 1)
        }
    }
}
