import Foundation
import NIOConcurrencyHelpers
import TollgateCore
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A real aggregator, agent and mock provider, each its own process, on loopback ports
/// and temp directories: the same binaries an operator runs.
///
/// Tests drive traffic from one task while another kills and restarts processes, so the
/// process table is shared: it is behind a lock, and everything else is set once in `init`.
final class LocalCluster: @unchecked Sendable {
    let directory: URL
    let mockURL: URL
    /// The first agent's proxy and admin listener (/healthz, /metrics, /status).
    var agentURL: URL { agentURLs[0] }
    var adminURL: URL { adminURLs[0] }
    /// Every agent's, in launch order; process names are `agent`, `agent-2`, `agent-3`, …
    let agentURLs: [URL]
    let adminURLs: [URL]
    let apiURL: URL
    let orgSecret: [UInt8]
    private struct Launched {
        var processes: [String: Process] = [:]
        var commands: [String: (executable: String, arguments: [String])] = [:]
    }
    private let launched = NIOLockedValueBox(Launched())
    private let ports: (mock: Int, api: Int, usage: Int, quota: Int)
    /// The mock's HTTPS port, posing as the provider hosts (and `tunnelled.test`).
    let mockTLSPort: Int
    /// The throwaway CA the mock's HTTPS certificate is signed by.
    var mockCAFile: String { directory.appendingPathComponent("mock-ca.pem").path }
    /// The first agent's interception CA, which HTTPS_PROXY clients must trust.
    var agentCAFile: String { directory.appendingPathComponent("agent-state/ca/ca.crt").path }
    /// The bearer token for the aggregator's budget endpoints (created on its first start).
    var apiTokenFile: String { directory.appendingPathComponent("aggregator-data/api-token").path }
    /// The read-only token (usage, keys, audit, budget reads), created beside the admin one.
    var apiReadTokenFile: String { directory.appendingPathComponent("aggregator-data/api-read-token").path }
    /// Hosts the mock's certificate covers: the providers' and one that is not a provider's.
    static let tlsHosts = ["api.openai.com", "api.anthropic.com", "generativelanguage.googleapis.com",
                           "my-resource.openai.azure.com", "tunnelled.test"]

    static func agentName(_ index: Int) -> String { index == 0 ? "agent" : "agent-\(index + 1)" }

    /// `authorizeAgent: false` leaves the agents' keys out of the aggregator's allowlist.
    /// `otherHosts` is the agents' `intercept.other_hosts`; `quotaConfig` adds lines to their
    /// `quota:` section. Each agent is named after its process (`fleet.name`); `reportInterval`
    /// is their `fleet.report_interval_ms`, and `quotaEndpoints` points some agents' quota
    /// channel elsewhere, by agent index. `aggregatorConfig` adds lines to the aggregator's
    /// config, given the cluster's directory and the mock's URL.
    init(agents: Int = 1, flushInterval: Duration = .milliseconds(100), authorizeAgent: Bool = true, otherHosts: String = "tunnel",
         quotaConfig: String = "", extraAgentConfig: String = "", reportInterval: Duration = .seconds(5),
         quotaEndpoints: [Int: String] = [:],
         aggregatorConfig: (_ directory: URL, _ mockURL: URL) -> String = { _, _ in "" }) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-it-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        ports = (try freePort(), try freePort(), try freePort(), try freePort())
        mockTLSPort = try freePort()
        let agentPorts = try (0..<agents).map { _ in (proxy: try freePort(), admin: try freePort()) }
        mockURL = URL(string: "http://127.0.0.1:\(ports.mock)")!
        agentURLs = agentPorts.map { URL(string: "http://127.0.0.1:\($0.proxy)")! }
        adminURLs = agentPorts.map { URL(string: "http://127.0.0.1:\($0.admin)")! }
        apiURL = URL(string: "http://127.0.0.1:\(ports.api)")!
        orgSecret = Array("integration-test-org-secret-0123456789".utf8)
        try Data(orgSecret).write(to: directory.appendingPathComponent("org-secret"))
        let keys = directory.appendingPathComponent("keys").path
        try FileManager.default.createDirectory(atPath: keys + "/agents", withIntermediateDirectories: true)
        _ = try Self.run("tollgate", ["keygen", "--secret-key-file", keys + "/aggregator.key", "--public-key-file", keys + "/aggregator.pub"])
        try """
        data_dir: \(directory.path)/aggregator-data
        curve:
          secret_key_file: \(keys)/aggregator.key
          authorized_keys_dir: \(keys)/agents
        usage_listen: tcp://127.0.0.1:\(ports.usage)
        quota_listen: tcp://127.0.0.1:\(ports.quota)
        quota_snapshot_interval_ms: 1000
        api_listen: 127.0.0.1:\(ports.api)
        \(aggregatorConfig(directory, mockURL))
        """.write(to: directory.appendingPathComponent("aggregator.yaml"), atomically: true, encoding: .utf8)
        for (index, port) in agentPorts.enumerated() {
            let name = Self.agentName(index)
            let state = index == 0 ? "agent-state" : "agent-state-\(index + 1)"
            let config = directory.appendingPathComponent("\(name).yaml")
            try """
            listen: 127.0.0.1:\(port.proxy)
            admin_listen: 127.0.0.1:\(port.admin)
            state_dir: \(directory.path)/\(state)
            org_secret_file: \(directory.path)/org-secret
            upstreams:
              openai: \(mockURL.absoluteString)
              anthropic: \(mockURL.absoluteString)
              gemini: \(mockURL.absoluteString)
              azure: \(mockURL.absoluteString)
            aggregator:
              endpoint: tcp://127.0.0.1:\(ports.usage)
              server_public_key_file: \(keys)/aggregator.pub
            quota:
              endpoint: \(quotaEndpoints[index] ?? "tcp://127.0.0.1:\(ports.quota)")
            \(quotaConfig.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
            meter:
              flush_interval_ms: \(flushInterval.wholeMilliseconds)
            fleet:
              name: \(name)
              report_interval_ms: \(reportInterval.wholeMilliseconds)
            intercept:
              other_hosts: \(otherHosts)
              upstream_ca_file: \(directory.path)/mock-ca.pem
              connect_to:
            \(Self.tlsHosts.map { "    \($0):443: 127.0.0.1:\(mockTLSPort)" }.joined(separator: "\n"))
            \(extraAgentConfig)
            """.write(to: config, atomically: true, encoding: .utf8)
            let agentKey = try Self.run("tollgate-agent", ["key", "--config", config.path])
            if authorizeAgent {
                try agentKey.write(toFile: keys + "/agents/test-\(name).pub", atomically: true, encoding: .utf8)
            }
        }
    }

    /// Starts the mock, the aggregator and every agent; waits until each answers its health check.
    func start() async throws {
        try launch("mock", "tollgate-mock", ["serve", "--host", "127.0.0.1", "--port", String(ports.mock),
                                             "--tls-port", String(mockTLSPort), "--tls-ca-file", mockCAFile,
                                             "--tls-hosts", Self.tlsHosts.joined(separator: ",")])
        // The agent reads the mock's CA when it starts.
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: mockCAFile) { try await Task.sleep(for: .milliseconds(50)) }
        try launch("aggregator", "tollgate", ["serve", "--config", directory.appendingPathComponent("aggregator.yaml").path])
        for index in agentURLs.indices {
            let name = Self.agentName(index)
            try launch(name, "tollgate-agent", ["run", "--config", directory.appendingPathComponent("\(name).yaml").path])
        }
        for url in [mockURL, apiURL] + agentURLs {
            try await waitUntilHealthy(url.appendingPathComponent("healthz"))
        }
    }

    /// (Re)starts a process by name with the command it was first launched with.
    func restart(_ name: String) async throws {
        guard let command = launched.withLockedValue({ $0.commands[name] }) else { throw ClusterError("\(name) was never launched") }
        try launch(name, command.executable, command.arguments)
        var urls = ["mock": mockURL, "aggregator": apiURL]
        for (index, url) in agentURLs.enumerated() { urls[Self.agentName(index)] = url }
        let url = urls[name]!
        try await waitUntilHealthy(url.appendingPathComponent("healthz"))
    }

    func launch(_ name: String, _ executable: String, _ arguments: [String]) throws {
        launched.withLockedValue { $0.commands[name] = (executable, arguments) }
        let process = Process()
        process.executableURL = try Self.binary(executable)
        process.arguments = arguments
        let log = directory.appendingPathComponent("\(name).log")
        if !FileManager.default.fileExists(atPath: log.path) { FileManager.default.createFile(atPath: log.path, contents: nil) }
        let handle = try FileHandle(forWritingTo: log)
        try handle.seekToEnd()
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        launched.withLockedValue { $0.processes[name] = process }
    }

    /// Stops one process with SIGTERM (graceful) or SIGKILL and waits for it.
    func stop(_ name: String, signal: Int32 = SIGTERM) {
        guard let process = launched.withLockedValue({ $0.processes.removeValue(forKey: name) }), process.isRunning else { return }
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
    }

    func shutdown() {
        // The agent first, so its last usage reaches the aggregator.
        for name in agentURLs.indices.map(Self.agentName) + ["aggregator", "mock"] { stop(name) }
        try? FileManager.default.removeItem(at: directory)
    }

    /// The process id of a running process of the cluster (`agent`, `aggregator`, `mock`).
    func pid(_ name: String) -> Int32? {
        launched.withLockedValue { $0.processes[name]?.processIdentifier }
    }

    func log(_ name: String) -> String {
        (try? String(contentsOf: directory.appendingPathComponent("\(name).log"), encoding: .utf8)) ?? ""
    }

    /// Runs the `tollgate` CLI against this cluster's API and returns its stdout.
    /// Runs `tollgate` against this cluster's API with the admin token in `TOLLGATE_TOKEN`
    /// (a command's own `--token-file` wins).
    func cli(_ arguments: [String]) throws -> String {
        try Self.run("tollgate", arguments + ["--api", apiURL.absoluteString], environment: Self.tokenEnvironment(apiTokenFile))
    }

    static func tokenEnvironment(_ file: String) -> [String: String] {
        guard let token = try? String(contentsOfFile: file, encoding: .utf8) else { return [:] }
        return ["TOLLGATE_TOKEN": token.trimmingCharacters(in: .whitespacesAndNewlines)]
    }

    /// Runs one of the built executables to completion and returns its stdout.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> String {
        let process = Process()
        process.executableURL = try binary(executable)
        process.arguments = arguments
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ClusterError("\(executable) \(arguments) exited \(process.terminationStatus)") }
        return String(decoding: data, as: UTF8.self)
    }

    private func waitUntilHealthy(_ url: URL) async throws {
        for _ in 0..<150 {
            if let (_, response) = try? await URLSession.shared.data(from: url), (response as? HTTPURLResponse)?.statusCode == 200 {
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ClusterError("\(url) never became healthy; logs:\n\(log("mock"))\n\(log("aggregator"))\n\(log("agent"))")
    }

    /// The directory holding the built executables, next to the running test bundle.
    static func binary(_ name: String) throws -> URL {
        var candidates: [URL] = []
        if let dir = ProcessInfo.processInfo.environment["TOLLGATE_BIN_DIR"] { candidates.append(URL(fileURLWithPath: dir)) }
        candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
        candidates.append(Bundle.main.bundleURL)
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(packageRoot.appendingPathComponent(".build/debug"))
        for directory in candidates {
            let url = directory.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        throw ClusterError("cannot find the \(name) executable; run `swift build` first or set TOLLGATE_BIN_DIR")
    }
}

struct ClusterError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A port that was free a moment ago and that no other cluster in this test process was
/// given: suites run in parallel, and two clusters handed the same port would each find a
/// healthy `/healthz` there, one of them the other's.
func freePort() throws -> Int {
    for _ in 0..<100 {
        let port = try kernelAssignedPort()
        if PortsHandedOut.shared.claim(port) { return port }
    }
    throw ClusterError("cannot find a free port not yet handed out")
}

private final class PortsHandedOut: @unchecked Sendable {
    static let shared = PortsHandedOut()
    private let lock = NSLock()
    private var ports = Set<Int>()

    func claim(_ port: Int) -> Bool {
        lock.withLock { ports.insert(port).inserted }
    }
}

/// Bind to port 0, read the port the kernel chose, close.
private func kernelAssignedPort() throws -> Int {
    let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(socketFD) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Bool in
            bind(socketFD, pointer, length) == 0 && getsockname(socketFD, pointer, &length) == 0
        }
    }
    guard bound else { throw ClusterError("cannot find a free port") }
    return Int(UInt16(bigEndian: address.sin_port))
}
