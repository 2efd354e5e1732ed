import Foundation
import Testing
import TestSupport
import TollgateAgent

/// The measurement (#17, finding 5): 8 connections each holding 31 MiB of an
/// unfinished body. Without a cap the agent's memory grows by all of it; with
/// `limits.max_buffered_bytes` it grows by the cap at most, and the rest are refused.
/// Prints both figures from the same run (docs/BENCHMARKS.md quotes them).
@Suite(.serialized) struct SlowBodyMemoryTests {
    static let connections = 8
    static let heldPerConnection = 31 << 20

    /// Resident memory of a process, from /proc.
    static func residentBytes(pid: Int32) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "") else { throw ClusterError("no VmRSS for \(pid)") }
        return kilobytes * 1024
    }

    /// Opens the connections, sends each a head and 31 MiB of its body, and returns how much
    /// the agent's resident memory grew, with what the agent says it buffers.
    static func growth(limits: String) async throws -> (rss: Int, buffered: Double, refused: Double) {
        let cluster = try LocalCluster(extraAgentConfig: "limits:\n" + limits)
        defer { cluster.shutdown() }
        try await cluster.start()
        try ProxyLimitsWireTests.expectServes(cluster)  // warm: the first request's allocations are not the bodies'
        let pid = try #require(cluster.pid("agent"))
        let before = try residentBytes(pid: pid)

        let filler = [UInt8](repeating: UInt8(ascii: "a"), count: heldPerConnection)
        var clients: [RawConnection] = []
        for _ in 0..<connections {
            let client = try RawConnection(port: cluster.agentURL.port!)
            client.send(ProxyLimitsWireTests.head(contentLength: 32 << 20))
            client.send(filler)
            clients.append(client)
        }
        // The last sends may still sit in socket buffers: wait until the agent has read them.
        var buffered = -1.0
        while true {
            try await Task.sleep(for: .milliseconds(300))
            let now = try await ProxyLimitsWireTests.metric(cluster, "tollgate_agent_proxy_buffered_request_bytes")
            if now == buffered { break }
            buffered = now
        }
        let after = try residentBytes(pid: pid)
        let refused = try await ProxyLimitsWireTests.metric(cluster, ProxyLimitsWireTests.rejected("buffer"))
        for client in clients { client.close() }
        return (after - before, buffered, refused)
    }

    @Test func unfinishedBodiesCannotPinMoreMemoryThanTheCap() async throws {
        // Main's behaviour before the cap: nothing refuses, nothing times out.
        let uncapped = try await Self.growth(limits: "  max_buffered_bytes: \(1 << 40)\n  body_idle_timeout_ms: 600000\n  request_timeout_ms: 3600000")
        let cap = AgentConfig().maxBufferedBytes  // the default
        let capped = try await Self.growth(limits: "  max_buffered_bytes: \(cap)")
        let mebibyte = Double(1 << 20)
        print(String(format: "slow-body RSS, 8 x 31 MiB unfinished bodies: uncapped +%.0f MiB (buffered %.0f MiB); capped at %d MiB +%.0f MiB (buffered %.0f MiB, %.0f refused)",
                     Double(uncapped.rss) / mebibyte, uncapped.buffered / mebibyte, cap >> 20,
                     Double(capped.rss) / mebibyte, capped.buffered / mebibyte, capped.refused))
        #expect(uncapped.buffered == Double(Self.connections * Self.heldPerConnection))
        #expect(capped.buffered <= Double(cap))
        #expect(capped.refused == Double(Self.connections - cap / Self.heldPerConnection))
        #expect(capped.rss < cap + (48 << 20), "growth \(capped.rss >> 20) MiB past the \(cap >> 20) MiB cap")
    }
}

