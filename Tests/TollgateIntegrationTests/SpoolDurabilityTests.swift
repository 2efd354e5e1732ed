import Foundation
import NIOConcurrencyHelpers
import TestSupport
import Testing
import TollgateCore
import TollgateMockProvider
import TollgateProviders
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Exactly-once per request across `kill -9` and a full disk: one API key per request, so
/// every request is checked on its own against the mock's ledger. A request the client
/// received in full must be counted exactly once; one it did not may be counted once or not
/// at all (the provider may have served it), never twice and never in part.
@Suite(.serialized) struct SpoolDurabilityTests {
    /// `TOLLGATE_KILLS` (default 5) kills per run; `scripts/kill-test.sh` runs the full 20.
    static var kills: Int { ProcessInfo.processInfo.environment["TOLLGATE_KILLS"].flatMap(Int.init) ?? 5 }

    @Test func killingTheAgentUnderLoadLosesNoDeliveredResponse() async throws {
        let cluster = try LocalCluster(flushInterval: .milliseconds(250))
        defer { cluster.shutdown() }
        try await cluster.start()
        let load = PerRequestLoad(cluster: cluster, prefix: "kill", threads: 16)
        load.start()
        for round in 0..<Self.kills {
            // Uneven gaps, so kills land at different points of the 250 ms cut cycle.
            try await Task.sleep(for: .milliseconds(700 + 137 * (round % 5)))
            cluster.stop("agent", signal: SIGKILL)
            try await cluster.restart("agent")
        }
        try await Task.sleep(for: .milliseconds(300))
        let outcomes = load.stop()
        let complete = outcomes.filter(\.complete).count
        #expect(complete > Self.kills * 8, "too little load to mean anything: \(complete) complete responses")
        try await expectEachRequestCountedOnce(cluster, outcomes)
        print("kill test: \(Self.kills) kills, \(outcomes.count) requests, \(complete) received in full, each checked against the ledger")
    }

    /// The disk fills while the aggregator is away: requests still succeed (`allow`), the
    /// agent says it is degraded, and once space returns the usage held in memory is written,
    /// so a `kill -9` right after loses none of it.
    @Test(.enabled(if: getuid() == 0, "mounts a small tmpfs for the agent's state directory"))
    func usageRecordedWhileTheDiskIsFullSurvivesAKillAfterSpaceReturns() async throws {
        let cluster = try LocalCluster(flushInterval: .milliseconds(100))
        let disk = try SmallDisk(cluster: cluster)
        defer {
            disk.unmount()
            cluster.shutdown()
        }
        try await cluster.start()
        try await wave(cluster, prefix: "before", count: 20)
        try await Task.sleep(for: .milliseconds(500))
        cluster.stop("aggregator", signal: SIGKILL)

        try disk.fill()
        let during = try await wave(cluster, prefix: "full", count: 40)
        #expect(during.allSatisfy { $0.complete }, "allow keeps serving while the disk is full")
        let degraded = try await eventually(seconds: 10, until: { $0.contains("\"state\" : \"degraded\"") }) { try await admin(cluster, "status") }
        #expect(degraded.contains("\"spool_writable\" : false"), "\(degraded)")
        let health = try await admin(cluster, "healthz")
        #expect(health.hasPrefix("degraded: spool not writable"), "\(health)")
        let metrics = try await admin(cluster, "metrics")
        #expect(MetricsText(metrics)["tollgate_agent_spool_writable"] == 0)

        disk.free()
        let healthy = try await eventually(seconds: 10, until: { $0.contains("\"state\" : \"ok\"") }) { try await admin(cluster, "status") }
        #expect(healthy.contains("\"spool_writable\" : true"), "\(healthy)")
        cluster.stop("agent", signal: SIGKILL)

        try await cluster.restart("aggregator")
        try await cluster.restart("agent")
        try await expectEachRequestCountedOnce(cluster, during, exact: true)
    }

    /// `spool.on_full: deny`: once an event record misses the disk, requests are refused with
    /// a provider-shaped 503 and never reach the provider; a `kill -9` while the disk is
    /// still full loses none of the requests that were served before it filled.
    @Test(.enabled(if: getuid() == 0, "mounts a small tmpfs for the agent's state directory"))
    func denyRefusesWhileTheDiskIsFullAndAKillInsideTheOutageLosesNothingServedBefore() async throws {
        let cluster = try LocalCluster(flushInterval: .milliseconds(100), extraAgentConfig: "spool:\n  on_full: deny")
        let disk = try SmallDisk(cluster: cluster)
        defer {
            disk.unmount()
            cluster.shutdown()
        }
        try await cluster.start()
        let before = try await wave(cluster, prefix: "before", count: 30)
        #expect(before.allSatisfy { $0.complete }, "\(before.first { !$0.complete }.map { String($0.response.prefix(1500)) } ?? "")")

        try disk.fill()
        // The first request after the disk fills is the one whose record misses it: it was
        // admitted before anyone knew, and its usage lives only in memory.
        let first = try await wave(cluster, prefix: "first", count: 1)
        _ = try await eventually(seconds: 10, until: { $0.contains("\"state\" : \"degraded\"") }) { try await admin(cluster, "status") }
        let refused = try await wave(cluster, prefix: "refused", count: 10)
        #expect(refused.allSatisfy { !$0.complete && $0.response.hasPrefix("HTTP/1.1 503") && $0.response.contains("spool_unwritable") },
                "\(refused.first?.response ?? "")")
        // The meter may notice the full disk before the first request (its probe or the event
        // log's refresh hits ENOSPC first): then that one is refused too.
        let firstRefused = first.filter { $0.response.hasPrefix("HTTP/1.1 503") }.count
        let metrics = try await admin(cluster, "metrics")
        #expect(metrics.contains("tollgate_agent_rejected_requests_total{reason=\"spool_unwritable\"} \(10 + firstRefused)"), "\(firstRefused)")
        // The operator sees it from the aggregator too: the agent reports it at once.
        let agents = try await eventually(seconds: 10, until: { $0.replacingOccurrences(of: " ", with: "").contains("\"spool_unwritable\":true") }) {
            try cluster.cli(["agents", "--format", "json", "--token-file", cluster.apiTokenFile])
        }
        #expect(agents.replacingOccurrences(of: " ", with: "").contains("\"spool_unwritable\":true"), "\(agents)")
        #expect(try cluster.cli(["agents", "--token-file", cluster.apiTokenFile]).contains("UNWRITABLE"))

        cluster.stop("agent", signal: SIGKILL)
        disk.free()
        try await cluster.restart("agent")
        try await expectEachRequestCountedOnce(cluster, before + refused, exact: true)
        let ledger = try await fetchLedger(mockURL: cluster.mockURL)
        #expect(!ledger.entries.contains { $0.apiKey.hasPrefix("sk-refused") }, "a refused request reached the provider")
        _ = first
    }

    // MARK: Helpers

    @discardableResult
    func wave(_ cluster: LocalCluster, prefix: String, count: Int) async throws -> [RequestOutcome] {
        let port = cluster.agentURL.port!
        return await withCheckedContinuation { continuation in
            Thread {
                continuation.resume(returning: (0..<count).map { PerRequestLoad.send(port: port, key: "sk-\(prefix)-\(UUID().uuidString.prefix(8))-\($0)", index: $0) })
            }.start()
        }
    }
}

func admin(_ cluster: LocalCluster, _ path: String) async throws -> String {
    let (data, _) = try await URLSession.shared.data(from: cluster.adminURL.appendingPathComponent(path))
    return String(decoding: data, as: UTF8.self)
}

/// A 4 MiB tmpfs mounted over the agent's state directory, which a test fills and frees.
final class SmallDisk: @unchecked Sendable {
    let path: String
    private var filler: String { path + "/filler" }

    init(cluster: LocalCluster) throws {
        path = cluster.directory.appendingPathComponent("agent-state").path
        let backup = path + ".before-mount"
        try FileManager.default.moveItem(atPath: path, toPath: backup)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try Self.run("/bin/mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", path])
        try Self.run("/bin/cp", ["-a", backup + "/.", path + "/"])
    }

    /// Writes zeros until the filesystem refuses more.
    func fill() throws {
        let fd = open(filler, O_CREAT | O_WRONLY | O_APPEND, 0o600)
        guard fd >= 0 else { throw ClusterError("cannot create \(filler)") }
        defer { close(fd) }
        let chunk = [UInt8](repeating: 0, count: 4096)
        while chunk.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) > 0 {}
    }

    func free() { unlink(filler) }

    func unmount() { try? Self.run("/bin/umount", ["-l", path]) }

    private static func run(_ executable: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ClusterError("\(executable) \(arguments) exited \(process.terminationStatus)") }
    }
}
