import Foundation
import Testing
@testable import TollgateAggregator
import TollgateCore
import TollgateWire

@Suite struct AggregatorConfigTests {
    @Test func curveIsRequiredUnlessPlaintextIsExplicit() throws {
        #expect { try AggregatorConfig(yaml: "data_dir: /tmp/x") } throws: { error in
            "\(error)".contains("'curve'") && "\(error)".contains("tollgate keygen") && "\(error)".contains("insecure_plaintext")
        }
        let lab = try AggregatorConfig(yaml: "insecure_plaintext: true")
        guard case .insecurePlaintext = lab.usageSecurity else {
            Issue.record("insecure_plaintext: true should select plaintext")
            return
        }
    }

    /// The aggregator reads `pricing:` like the agent, so a deployment's own models and
    /// aliases resolve at both ends.
    @Test func pricingDeclaresTheModelsBudgetsMayName() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("prices-\(UUID()).yaml").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try "models:\n  in-house-llm:\n    provider: self\n    input: 0.1\n    output: 0.1\n    aliases: [llm-prod]\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        let config = try AggregatorConfig(yaml: "insecure_plaintext: true\npricing:\n  catalog: \(file)\n")
        #expect(config.models.canonicalModel("llm-prod") == "in-house-llm")
        #expect(config.models.canonicalModel("gpt-4.1-2025-04-14") == "gpt-4.1", "the built-in catalog is still there")
        #expect(try AggregatorConfig(yaml: "insecure_plaintext: true").models.resolve("llm-prod").isKnown == false)
        #expect { try AggregatorConfig(yaml: "insecure_plaintext: true\npricing:\n  catalogue: x\n") } throws: { "\($0)".contains("catalogue") }
    }

    /// `pricing.tiers` reaches the aggregator's catalog too: its policy validation and
    /// `tollgate models` must see the tiers the agents enforce.
    @Test func pricingTiersReassignModelTiers() throws {
        let config = try AggregatorConfig(yaml: "insecure_plaintext: true\npricing:\n  tiers:\n    claude-sonnet-4-5: premium\n")
        #expect(config.models.tier(of: "claude-sonnet-4-5") == .premium)
        #expect(try AggregatorConfig(yaml: "insecure_plaintext: true").models.tier(of: "claude-sonnet-4-5") == .standard)
        let error = #expect(throws: ConfigError.self) { try AggregatorConfig(yaml: "insecure_plaintext: true\npricing:\n  tiers:\n    gpt-9: premium\n") }
        #expect(error.map { "\($0)" }?.contains("pricing.tiers.gpt-9") == true)
    }

    @Test func curveSettingsAreCheckedWhenRead() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("aggcfg-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory + "/agents.d", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let keys = try CurveKeyPair.generate()
        try keys.write(secretKeyTo: directory + "/aggregator.key", publicKeyTo: directory + "/aggregator.pub")

        let config = try AggregatorConfig(yaml: "curve:\n  secret_key_file: \(directory)/aggregator.key\n  authorized_keys_dir: \(directory)/agents.d\n")
        guard case .curve(let loaded, let agents) = config.usageSecurity else {
            Issue.record("a curve section should select CurveZMQ")
            return
        }
        #expect(loaded.publicKey == keys.publicKey && agents == directory + "/agents.d")

        #expect { try AggregatorConfig(yaml: "curve:\n  secret_key_file: \(directory)/nope.key\n  authorized_keys_dir: \(directory)\n") } throws: { error in
            "\(error)".contains("'curve.secret_key_file'")
        }
        #expect { try AggregatorConfig(yaml: "curve:\n  secret_key_file: \(directory)/aggregator.key\n  authorized_keys_dir: \(directory)/missing\n") } throws: { error in
            "\(error)".contains("'curve.authorized_keys_dir'")
        }
        #expect { try AggregatorConfig(yaml: "insecure_plaintext: yes please") } throws: { error in
            "\(error)".contains("'insecure_plaintext'")
        }
    }

    @Test func apiTokenAndAlertSettings() throws {
        let defaults = try AggregatorConfig(yaml: "insecure_plaintext: true")
        #expect(defaults.apiTokenFile == nil && defaults.alertWebhookURL == nil && defaults.alertMaxAttempts == 5)
        let config = try AggregatorConfig(yaml: """
            insecure_plaintext: true
            api_token_file: /etc/tollgate/api-token
            alerts:
              webhook_url: https://hooks.slack.com/services/T0/B0/x
              max_attempts: 8
            """)
        #expect(config.apiTokenFile == "/etc/tollgate/api-token")
        #expect(config.alertWebhookURL?.absoluteString == "https://hooks.slack.com/services/T0/B0/x")
        #expect(config.alertMaxAttempts == 8)
        #expect { try AggregatorConfig(yaml: "insecure_plaintext: true\nalerts:\n  webhook_url: not a url\n") } throws: { error in
            "\(error)".contains("'alerts.webhook_url'")
        }
        #expect { try AggregatorConfig(yaml: "insecure_plaintext: true\nalerts:\n  max_attempts: 0\n") } throws: { error in
            "\(error)".contains("'alerts.max_attempts'")
        }
        #expect { try AggregatorConfig(yaml: "insecure_plaintext: true\nalerts:\n  webhook: x\n") } throws: { error in
            "\(error)".contains("'alerts.webhook'")
        }
    }

    @Test func maxSeqAdvanceBoundsHowFarABatchMayJump() throws {
        #expect(try AggregatorConfig(yaml: "insecure_plaintext: true").maxSeqAdvance == 1_000_000)
        #expect(try AggregatorConfig(yaml: "insecure_plaintext: true\nmax_seq_advance: 50000").maxSeqAdvance == 50_000)
        #expect { try AggregatorConfig(yaml: "insecure_plaintext: true\nmax_seq_advance: 0") } throws: { error in
            "\(error)".contains("'max_seq_advance'")
        }
    }

    @Test func theExampleConfigParses() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../aggregator/tollgate.example.yaml").path
        let text = try String(contentsOfFile: file, encoding: .utf8)
            .replacingOccurrences(of: "insecure_plaintext: false", with: "insecure_plaintext: true")
        // The curve section points at files that exist only on a real host.
        var inCurve = false
        let withoutCurve = text.components(separatedBy: "\n").filter { line in
            if line.hasPrefix("curve:") { inCurve = true; return false }
            if inCurve && line.hasPrefix(" ") { return false }
            inCurve = false
            return true
        }.joined(separator: "\n")
        let config = try AggregatorConfig(yaml: withoutCurve)
        #expect(config.alertMaxAttempts == 5)
    }

    @Test func theAllowlistIsEveryPublicKeyFileByName() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("agents-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let runner = try CurveKeyPair.generate()
        try runner.publicKey.write(toFile: directory + "/ci-runner-1.pub", atomically: true, encoding: .utf8)
        try "not a key".write(toFile: directory + "/README", atomically: true, encoding: .utf8)
        let allowlist = try AuthorizedAgents.load(directory: directory)
        #expect(allowlist.publicKeys == ["ci-runner-1": runner.publicKey])

        try "garbage".write(toFile: directory + "/broken.pub", atomically: true, encoding: .utf8)
        #expect(throws: CurveKeyError.self) { try AuthorizedAgents.load(directory: directory) }
    }
}

/// `budgets:`, where leases near the limit are switched and tuned.
@Suite struct LeaseConfigTests {
    @Test func leasesAreOnByDefaultAndCanBeTurnedOff() throws {
        let defaults = try AggregatorConfig(yaml: "insecure_plaintext: true")
        #expect(defaults.leases.enabled)
        #expect(defaults.leases.ttl == .seconds(5))
        let off = try AggregatorConfig(yaml: "insecure_plaintext: true\nbudgets:\n  leases: off\n  lease_ttl_ms: 2000\n  lease_horizon_ms: 500\n")
        #expect(!off.leases.enabled)
        #expect(off.leases.ttl == .seconds(2))
        #expect(off.leases.horizon == .milliseconds(500))
    }

    @Test func mistakesNameTheKey() {
        #expect { try AggregatorConfig(yaml: "insecure_plaintext: true\nbudgets:\n  leases: maybe\n") } throws: {
            "\($0)".contains("budgets.leases") && "\($0)".contains("on or off")
        }
        #expect { try AggregatorConfig(yaml: "insecure_plaintext: true\nbudgets:\n  lease_ttl: 5\n") } throws: { "\($0)".contains("lease_ttl") }
    }
}
