import Foundation
import TollgateCore
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A real aggregator, agent and mock provider, each its own process, on loopback ports
/// and temp directories: the same binaries an operator runs.
final class LocalCluster {
    let directory: URL
    let mockURL: URL
    let agentURL: URL
    /// The agent's admin listener: /healthz, /metrics, /status.
    let adminURL: URL
    let apiURL: URL
    let orgSecret: [UInt8]
    private var processes: [String: Process] = [:]
    private var commands: [String: (executable: String, arguments: [String])] = [:]
    private let ports: (mock: Int, agent: Int, api: Int, usage: Int, admin: Int)
    /// The mock's HTTPS port, posing as the provider hosts (and `tunnelled.test`).
    let mockTLSPort: Int
    /// The throwaway CA the mock's HTTPS certificate is signed by.
    var mockCAFile: String { directory.appendingPathComponent("mock-ca.pem").path }
    /// The agent's interception CA, which HTTPS_PROXY clients must trust.
    var agentCAFile: String { directory.appendingPathComponent("agent-state/ca/ca.crt").path }
    /// Hosts the mock's certificate covers: the providers' and one that is not a provider's.
    static let tlsHosts = ["api.openai.com", "api.anthropic.com", "generativelanguage.googleapis.com",
                           "my-resource.openai.azure.com", "tunnelled.test"]

    /// `authorizeAgent: false` leaves the agent's key out of the aggregator's allowlist.
    /// `otherHosts` is the agent's `intercept.other_hosts`.
    init(flushIntervalMs: Int = 100, authorizeAgent: Bool = true, otherHosts: String = "tunnel", extraAgentConfig: String = "") throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-it-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        ports = (try freePort(), try freePort(), try freePort(), try freePort(), try freePort())
        mockTLSPort = try freePort()
        mockURL = URL(string: "http://127.0.0.1:\(ports.mock)")!
        agentURL = URL(string: "http://127.0.0.1:\(ports.agent)")!
        apiURL = URL(string: "http://127.0.0.1:\(ports.api)")!
        adminURL = URL(string: "http://127.0.0.1:\(ports.admin)")!
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
        api_listen: 127.0.0.1:\(ports.api)
        """.write(to: directory.appendingPathComponent("aggregator.yaml"), atomically: true, encoding: .utf8)
        try """
        listen: 127.0.0.1:\(ports.agent)
        admin_listen: 127.0.0.1:\(ports.admin)
        state_dir: \(directory.path)/agent-state
        org_secret_file: \(directory.path)/org-secret
        upstreams:
          openai: \(mockURL.absoluteString)
          anthropic: \(mockURL.absoluteString)
          gemini: \(mockURL.absoluteString)
          azure: \(mockURL.absoluteString)
        aggregator:
          endpoint: tcp://127.0.0.1:\(ports.usage)
          server_public_key_file: \(keys)/aggregator.pub
        meter:
          flush_interval_ms: \(flushIntervalMs)
        intercept:
          other_hosts: \(otherHosts)
          upstream_ca_file: \(directory.path)/mock-ca.pem
          connect_to:
        \(Self.tlsHosts.map { "    \($0):443: 127.0.0.1:\(mockTLSPort)" }.joined(separator: "\n"))
        \(extraAgentConfig)
        """.write(to: directory.appendingPathComponent("agent.yaml"), atomically: true, encoding: .utf8)
        let agentKey = try Self.run("tollgate-agent", ["key", "--config", directory.appendingPathComponent("agent.yaml").path])
        if authorizeAgent {
            try agentKey.write(toFile: keys + "/agents/test-agent.pub", atomically: true, encoding: .utf8)
        }
    }

    /// Starts all three and waits until each answers its health check.
    func start() async throws {
        try launch("mock", "tollgate-mock", ["serve", "--host", "127.0.0.1", "--port", String(ports.mock),
                                             "--tls-port", String(mockTLSPort), "--tls-ca-file", mockCAFile,
                                             "--tls-hosts", Self.tlsHosts.joined(separator: ",")])
        // The agent reads the mock's CA when it starts.
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: mockCAFile) { try await Task.sleep(for: .milliseconds(50)) }
        try launch("aggregator", "tollgate", ["serve", "--config", directory.appendingPathComponent("aggregator.yaml").path])
        try launch("agent", "tollgate-agent", ["run", "--config", directory.appendingPathComponent("agent.yaml").path])
        for url in [mockURL, apiURL, agentURL] {
            try await waitUntilHealthy(url.appendingPathComponent("healthz"))
        }
    }

    /// (Re)starts a process by name with the command it was first launched with.
    func restart(_ name: String) async throws {
        guard let command = commands[name] else { throw ClusterError("\(name) was never launched") }
        try launch(name, command.executable, command.arguments)
        let url = ["mock": mockURL, "aggregator": apiURL, "agent": agentURL][name]!
        try await waitUntilHealthy(url.appendingPathComponent("healthz"))
    }

    func launch(_ name: String, _ executable: String, _ arguments: [String]) throws {
        commands[name] = (executable, arguments)
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
        processes[name] = process
    }

    /// Stops one process with SIGTERM (graceful) or SIGKILL and waits for it.
    func stop(_ name: String, signal: Int32 = SIGTERM) {
        guard let process = processes.removeValue(forKey: name), process.isRunning else { return }
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
    }

    func shutdown() {
        // The agent first, so its last usage reaches the aggregator.
        for name in ["agent", "aggregator", "mock"] { stop(name) }
        try? FileManager.default.removeItem(at: directory)
    }

    func log(_ name: String) -> String {
        (try? String(contentsOf: directory.appendingPathComponent("\(name).log"), encoding: .utf8)) ?? ""
    }

    /// Runs the `tollgate` CLI against this cluster's API and returns its stdout.
    func cli(_ arguments: [String]) throws -> String {
        try Self.run("tollgate", arguments + ["--api", apiURL.absoluteString])
    }

    /// Runs one of the built executables to completion and returns its stdout.
    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = try binary(executable)
        process.arguments = arguments
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

/// A port that was free a moment ago (bind to 0, read it, close).
func freePort() throws -> Int {
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
