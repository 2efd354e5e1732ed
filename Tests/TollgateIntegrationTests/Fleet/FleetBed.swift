import Foundation
import NIOConcurrencyHelpers
import TollgateAgent
import TollgateCore
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A fleet on this machine (`scripts/lib/fleet-netns.sh`): the aggregator, the mock provider
/// and each agent on a host of its own — a network namespace with its own address and its
/// own loopback — set up the README's way. The aggregator made its CurveZMQ keypair with
/// `tollgate keygen`, each agent host got the org secret and the aggregator's public key,
/// each agent's key came from `tollgate-agent key` into the aggregator's `agents.d`, and the
/// agent's config names nothing but the aggregator's usage endpoint: it finds the quota
/// channel by the default rule. Every process runs with `ip netns exec`; the test itself is
/// the operator's seat (10.231.0.1 on the fleet network, .129 on egress), and it reaches an
/// agent only from inside its host (`NamespaceHTTP`), as that host's clients do.
final class FleetBed: @unchecked Sendable {
    static let aggregatorAddress = "10.231.0.2"
    static let mockAddress = "10.231.0.130"
    static let mockPort = 8080
    /// The README's defaults: every host has its own ports, so all use the same ones.
    static let agentProxyPort = 8787
    static let agentAdminPort = 8788

    let directory: URL
    var apiURL: URL { URL(string: "http://\(Self.aggregatorAddress):7601")! }
    var mockURL: URL { URL(string: "http://\(Self.mockAddress):\(Self.mockPort)")! }
    var apiTokenFile: String { host("agg") + "/var/lib/tollgate/api-token" }
    private(set) var agents: [String] = []
    private let processes = NIOLockedValueBox([String: Process]())

    static func namespace(_ host: String) -> String { "tgf-\(host)" }
    func host(_ name: String) -> String { directory.appendingPathComponent(name).path }
    func agentConfigPath(_ agent: String) -> String { host(agent) + "/etc/tollgate/agent.yaml" }

    /// Brings the network up with `agents` agent hosts (a1…aN) and writes every host's files.
    /// Fails with the reason when this machine cannot make network namespaces.
    init(agents count: Int) throws {
        try Self.script(["check"])
        directory = URL(fileURLWithPath: "/tmp/tgf-fleet-\(UUID().uuidString.prefix(8))")
        try Self.script(["up", String(count)])
        do {
            try provisionAggregator()
            for index in 1...count { try provisionAgent("a\(index)") }
        } catch {
            _ = try? Self.script(["down"])
            throw error
        }
    }

    // MARK: Hosts, the README's way

    private func provisionAggregator() throws {
        let etc = host("agg") + "/etc/tollgate"
        try FileManager.default.createDirectory(atPath: etc + "/agents.d", withIntermediateDirectories: true)
        _ = try run(on: "agg", "tollgate", ["keygen", "--secret-key-file", etc + "/aggregator.key", "--public-key-file", etc + "/aggregator.pub"])
        // Once for the fleet: the org secret every agent host gets a copy of.
        var secret = [UInt8](repeating: 0, count: 32)
        for index in secret.indices { secret[index] = UInt8.random(in: 0...255) }
        try Data(secret).base64EncodedString().write(toFile: directory.path + "/org-secret", atomically: true, encoding: .utf8)
        try """
        data_dir: \(host("agg"))/var/lib/tollgate
        usage_listen: tcp://\(Self.aggregatorAddress):7600
        api_listen: \(Self.aggregatorAddress):7601
        curve:
          secret_key_file: \(etc)/aggregator.key
          authorized_keys_dir: \(etc)/agents.d
        """.write(toFile: etc + "/tollgate.yaml", atomically: true, encoding: .utf8)
    }

    /// Turns leases near the limit on or off in the aggregator's config (`budgets.leases`);
    /// it takes effect when the aggregator (re)starts.
    func configureLeases(on: Bool) throws {
        let path = host("agg") + "/etc/tollgate/tollgate.yaml"
        var config = try String(contentsOfFile: path, encoding: .utf8)
        if let range = config.range(of: "\nbudgets:") { config = String(config[..<range.lowerBound]) }
        config += "\nbudgets:\n  leases: \(on ? "on" : "off")\n"
        try config.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// A new agent host's files: the org secret and the aggregator's public key copied over,
    /// the README's fleet config, and its key admitted on the aggregator (read within 5 s).
    func provisionAgent(_ agent: String) throws {
        let etc = host(agent) + "/etc/tollgate"
        try FileManager.default.createDirectory(atPath: etc, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: directory.path + "/org-secret", toPath: etc + "/org-secret")
        try FileManager.default.copyItem(atPath: host("agg") + "/etc/tollgate/aggregator.pub", toPath: etc + "/aggregator.pub")
        let provider = "http://\(Self.mockAddress):\(Self.mockPort)"
        try """
        state_dir: \(host(agent))/var/lib/tollgate-agent
        org_secret_file: \(etc)/org-secret
        upstreams:
          openai: \(provider)
          anthropic: \(provider)
          gemini: \(provider)
        aggregator:
          endpoint: tcp://\(Self.aggregatorAddress):7600
          server_public_key_file: \(etc)/aggregator.pub
        """.write(toFile: agentConfigPath(agent), atomically: true, encoding: .utf8)
        let publicKey = try run(on: agent, "tollgate-agent", ["key", "--config", agentConfigPath(agent)])
        try publicKey.write(toFile: host("agg") + "/etc/tollgate/agents.d/\(agent).pub", atomically: true, encoding: .utf8)
        agents.append(agent)
    }

    /// A host that joins the running fleet: its namespace, then its files.
    func addAgentHost() throws -> String {
        let index = agents.count + 1
        try Self.script(["add-agent", String(index)])
        try provisionAgent("a\(index)")
        return "a\(index)"
    }

    // MARK: Processes

    /// Starts the mock, the aggregator and every agent but `except` (hosts provisioned to
    /// join later); waits until each answers its health check.
    func start(except: Set<String> = []) async throws {
        try launch("mock", on: "mock", "tollgate-mock", ["serve", "--host", Self.mockAddress, "--port", String(Self.mockPort)])
        try launchAggregator()
        try await waitUntilHealthy(mockURL.appendingPathComponent("healthz"), "mock")
        try await waitUntilHealthy(apiURL.appendingPathComponent("healthz"), "agg")
        let starting = agents.filter { !except.contains($0) }
        for agent in starting { try launchAgent(agent) }
        for agent in starting { try await waitForAgent(agent) }
    }

    func launchAggregator() throws {
        try launch("agg", on: "agg", "tollgate", ["serve", "--config", host("agg") + "/etc/tollgate/tollgate.yaml"])
    }

    func launchAgent(_ agent: String) throws {
        try launch(agent, on: agent, "tollgate-agent", ["run", "--config", agentConfigPath(agent)])
    }

    func restartAggregator(signal: Int32) async throws {
        stop("agg", signal: signal)
        try launchAggregator()
        try await waitUntilHealthy(apiURL.appendingPathComponent("healthz"), "agg")
    }

    private func launch(_ name: String, on hostName: String, _ executable: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = try Self.ip()
        process.arguments = ["netns", "exec", Self.namespace(hostName), try LocalCluster.binary(executable).path] + arguments
        try FileManager.default.createDirectory(atPath: host(hostName), withIntermediateDirectories: true)
        let log = host(hostName) + "/\(name).log"
        if !FileManager.default.fileExists(atPath: log) { _ = FileManager.default.createFile(atPath: log, contents: nil) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try handle.seekToEnd()
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        processes.withLockedValue { $0[name] = process }
    }

    /// `ip netns exec` execs the command in place, so the process is the component itself.
    func stop(_ name: String, signal: Int32 = SIGTERM) {
        guard let process = processes.withLockedValue({ $0.removeValue(forKey: name) }), process.isRunning else { return }
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
    }

    func shutdown() {
        for agent in agents { stop(agent) }
        stop("agg")
        stop("mock")
        _ = try? Self.script(["down"])
        try? FileManager.default.removeItem(at: directory)
    }

    func log(_ name: String) -> String {
        (try? String(contentsOfFile: host(name) + "/\(name).log", encoding: .utf8)) ?? ""
    }

    // MARK: Network

    func partition(_ agent: String) throws { try Self.script(["partition", agent]) }
    func heal(_ agent: String) throws { try Self.script(["heal", agent]) }

    /// Runs a built executable inside a host and returns its stdout.
    func run(on hostName: String, _ executable: String, _ arguments: [String]) throws -> String {
        try Self.capture(try Self.ip(), ["netns", "exec", Self.namespace(hostName), try LocalCluster.binary(executable).path] + arguments)
    }

    /// Runs a built executable inside a host without holding a thread while it runs (traffic
    /// takes seconds, and the test does other things meanwhile); returns its exit status and
    /// output (kept in a file: a pipe nobody reads could fill).
    func runAsync(on hostName: String, _ executable: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        let outputPath = host(hostName) + "/run-\(UUID().uuidString.prefix(8)).out"
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        defer { try? handle.close() }
        let process = Process()
        process.executableURL = try Self.ip()
        process.arguments = ["netns", "exec", Self.namespace(hostName), try LocalCluster.binary(executable).path] + arguments
        process.standardOutput = handle
        process.standardError = handle
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { process.terminationHandler = nil; continuation.resume(throwing: error) }
        }
        return (status, (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "")
    }

    /// A command inside a host (`ss`, …), by name from PATH.
    func shell(on hostName: String, _ arguments: [String]) throws -> String {
        try Self.capture(try Self.ip(), ["netns", "exec", Self.namespace(hostName)] + arguments)
    }

    /// The operator's `tollgate` CLI, from this machine over the fleet network.
    func cli(_ arguments: [String]) throws -> String {
        try Self.capture(try LocalCluster.binary("tollgate"), arguments + ["--api", apiURL.absoluteString],
                         environment: LocalCluster.tokenEnvironment(apiTokenFile))
    }

    func agentRequest(_ agent: String, port: Int = agentProxyPort, method: String = "GET", path: String,
                      headers: [String: String] = [:], body: String = "") async throws -> NamespaceHTTP.Reply {
        try await NamespaceHTTP.request(in: Self.namespace(agent), port: port, method: method, path: path, headers: headers, body: body)
    }

    private func waitForAgent(_ agent: String) async throws {
        for _ in 0..<150 {
            if let reply = try? await agentRequest(agent, path: "/healthz"), reply.status == 200 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ClusterError("agent \(agent) never became healthy; its log:\n\(log(agent))")
    }

    private func waitUntilHealthy(_ url: URL, _ name: String) async throws {
        for _ in 0..<150 {
            if let (_, response) = try? await URLSession.shared.data(from: url), (response as? HTTPURLResponse)?.statusCode == 200 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ClusterError("\(url) never became healthy; log:\n\(log(name))")
    }

    // MARK: The script and the tools

    static var scriptPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/lib/fleet-netns.sh").path
    }

    @discardableResult
    static func script(_ arguments: [String]) throws -> String {
        try capture(URL(fileURLWithPath: "/bin/bash"), [scriptPath] + arguments)
    }

    static func ip() throws -> URL {
        for path in ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"] where FileManager.default.isExecutableFile(atPath: path) {
            return URL(fileURLWithPath: path)
        }
        throw ClusterError("the fleet tests need iproute2's `ip` (apt-get install iproute2), and root")
    }

    /// Runs a command to completion; its stdout, or an error carrying its stderr.
    static func capture(_ executable: URL, _ arguments: [String], environment: [String: String] = [:]) throws -> String {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ClusterError("\(executable.lastPathComponent) \(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(String(decoding: errorData, as: UTF8.self))")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
