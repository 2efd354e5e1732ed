import Foundation
import Testing
@testable import TollgateAggregator

/// `reconcile:` in the aggregator's config: admin keys only from owner-only files, URLs and
/// tolerances checked, errors naming the key path.
@Suite struct ReconcileSettingsTests {
    static func withKeyFile<T>(mode: Int, contents: String = "sk-admin-abc\n", _ body: (String) throws -> T) throws -> T {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("admin-key-\(UUID())").path
        #expect(FileManager.default.createFile(atPath: path, contents: Data(contents.utf8), attributes: [.posixPermissions: mode]))
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try body(path)
    }

    @Test func readsSourcesKeysAndTolerance() throws {
        try Self.withKeyFile(mode: 0o600) { path in
            let config = try AggregatorConfig(yaml: """
                insecure_plaintext: true
                reconcile:
                  tolerance_percent: 0.5
                  tolerance_usd: 0.25
                  openai:
                    admin_key_file: \(path)
                    keys: { key_abc: 9cd05ce2, key_def: "…wxyz" }
                  anthropic:
                    admin_key_file: \(path)
                    base_url: http://127.0.0.1:9000/
                """)
            let sources = config.reconcile.sources
            #expect(sources.map(\.provider) == [.openai, .anthropic])
            #expect(sources[0].baseURL.absoluteString == "https://api.openai.com" && sources[1].baseURL.absoluteString == "http://127.0.0.1:9000")
            #expect(sources[0].keyMap == ["key_abc": "9cd05ce2", "key_def": "…wxyz"])
            #expect(sources[0].adminKey.value == "sk-admin-abc")
            #expect("\(sources[0].adminKey)" == "<redacted>" && !"\(sources[0])".contains("sk-admin-abc"))
            #expect(config.reconcile.tolerance == ReconcileTolerance(basisPoints: 50, costSlack: 250_000_000))
        }
    }

    @Test func anAdminKeyOthersCanReadIsRefused() throws {
        try Self.withKeyFile(mode: 0o644) { path in
            #expect { try AggregatorConfig(yaml: "insecure_plaintext: true\nreconcile:\n  openai:\n    admin_key_file: \(path)\n") } throws: { error in
                "\(error)".contains("reconcile.openai.admin_key_file") && "\(error)".contains("chmod 600")
            }
        }
    }

    @Test(arguments: [
        ("  openai:\n    base_url: https://api.openai.com\n", "reconcile.openai.admin_key_file"),
        ("  openai:\n    admin_key_file: /nonexistent/key\n", "a readable file"),
        ("  openai:\n    admin_key_file: KEY\n    base_url: ftp://x\n", "reconcile.openai.base_url"),
        ("  gemini:\n    admin_key_file: KEY\n", "reconcile.gemini"),
        ("  tolerance_percent: lots\n", "reconcile.tolerance_percent"),
    ])
    func mistakesNameTheirKey(_ section: String, _ message: String) throws {
        try Self.withKeyFile(mode: 0o600) { path in
            let yaml = "insecure_plaintext: true\nreconcile:\n" + section.replacingOccurrences(of: "KEY", with: path)
            #expect { try AggregatorConfig(yaml: yaml) } throws: { error in "\(error)".contains(message) }
        }
    }

    @Test func anEmptyKeyFileIsRefused() throws {
        try Self.withKeyFile(mode: 0o600, contents: "\n") { path in
            #expect { try AggregatorConfig(yaml: "insecure_plaintext: true\nreconcile:\n  anthropic:\n    admin_key_file: \(path)\n") } throws: { error in
                "\(error)".contains("exactly one admin API key")
            }
        }
    }
}
