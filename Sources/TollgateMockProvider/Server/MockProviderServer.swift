import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A local stand-in for OpenAI's Chat Completions API that knows exactly what it billed.
///
/// Tests and the demo point Tollgate's agent at this server instead of the real provider;
/// `GET /_mock/ledger` (or `ledger`) is then the ground truth the meter must agree with.
public final class MockProviderServer: @unchecked Sendable {
    /// Bodies above this are answered with 413, as a guard against runaway test clients.
    public static let maxBodyBytes = 8 * 1024 * 1024

    private let group: EventLoopGroup
    private let ownsGroup: Bool
    private let recorder: LedgerRecorder
    /// The admin usage and cost reports' state: inject disagreements and faults here.
    public let adminReports: MockAdminReports
    private let lock = NIOLock()
    private var channels: [Channel] = []

    /// - Parameter eventLoopGroup: a group to share with the caller; without one the server
    ///   runs its own and shuts it down in `stop()`.
    /// - Parameter adminReports: admin keys, page size and clock of the admin reports.
    public init(eventLoopGroup: EventLoopGroup? = nil, adminReports: MockAdminReports = MockAdminReports()) {
        self.adminReports = adminReports
        recorder = LedgerRecorder(reports: adminReports)
        if let eventLoopGroup {
            group = eventLoopGroup
            ownsGroup = false
        } else {
            group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
            ownsGroup = true
        }
    }

    /// Binds and starts serving; returns the bound port, which is the point of passing 0.
    /// With `tls`, the port speaks HTTPS (a second `start` can serve plain HTTP too).
    @discardableResult
    public func start(host: String = "127.0.0.1", port: Int = 0, tls: NIOSSLContext? = nil) throws -> Int {
        let router = MockRouter(ledger: recorder)
        let maxBodyBytes = Self.maxBodyBytes
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(ChannelOptions.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(MockHTTPHandler(router: router, maxBodyBytes: maxBodyBytes))
                }
            }
        let bound = try bootstrap.bind(host: host, port: port).wait()
        lock.withLock { channels.append(bound) }
        guard let actualPort = bound.localAddress?.port else {
            throw MockProviderError.noLocalAddress(host: host, port: port)
        }
        return actualPort
    }

    /// Stops listening and, if the server owns its threads, shuts them down. Safe to call twice.
    public func stop() {
        let listening = lock.withLock { () -> [Channel] in
            defer { channels = [] }
            return channels
        }
        for channel in listening { try? channel.close().wait() }
        if ownsGroup {
            try? group.syncShutdownGracefully()
        }
    }

    /// The ledger without an HTTP round trip, for tests running the server in-process.
    public var ledger: LedgerSnapshot { recorder.snapshot }
}

/// Failures starting the mock, worded for whoever runs it.
public enum MockProviderError: Error, CustomStringConvertible {
    case noLocalAddress(host: String, port: Int)

    public var description: String {
        switch self {
        case .noLocalAddress(let host, let port):
            "bound \(host):\(port) but the socket reports no local address; try an explicit --host such as 127.0.0.1"
        }
    }
}
