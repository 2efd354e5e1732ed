import Foundation

/// Prometheus' own linter for exposition text (`promtool check metrics`), from Debian's
/// `prometheus` package (scripts/install-deps.sh installs it). Tests that need it are
/// skipped, saying so, where it is missing.
public enum Promtool {
    /// Where `promtool` is on PATH, or nil.
    public static let path: String? = {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return directories.map { "\($0)/promtool" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    public static let missing = "promtool is not installed (Debian: apt-get install prometheus, or scripts/install-deps.sh)"

    /// Runs `promtool check metrics` over the text; nil when it passes, else what it said.
    public static func problems(in metrics: String) throws -> String? {
        guard let path else { return missing }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["check", "metrics"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        input.fileHandleForWriting.write(Data(metrics.utf8))
        try input.fileHandleForWriting.close()
        let said = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return process.terminationStatus == 0 && said.isEmpty ? nil : "exit \(process.terminationStatus): \(said)"
    }
}
