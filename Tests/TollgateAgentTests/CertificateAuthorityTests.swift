import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import TestSupport
import Testing
@testable import TollgateAgent
import X509

@Suite struct CertificateAuthorityTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ca-test-\(UUID())").path

    func mode(_ path: String) -> UInt32 {
        var status = stat()
        precondition(stat(path, &status) == 0)
        return UInt32(status.st_mode) & 0o777
    }

    func verify(_ leaf: Certificate, against root: CertificateAuthority,
                hostname: String?, ip: String? = nil) async -> Bool {
        var verifier = Verifier(rootCertificates: CertificateStore([root.certificate])) {
            RFC5280Policy()
            ServerIdentityPolicy(serverHostname: hostname, serverIP: ip)
        }
        guard case .validCertificate = await verifier.validate(leaf: leaf, intermediates: CertificateStore()) else {
            return false
        }
        return true
    }

    // MARK: CA files

    @Test func createWriteLoadRoundTrip() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let now = Date()
        let created = try CertificateAuthority.create(now: now)
        try created.write(to: directory)
        let loaded = try CertificateAuthority.load(from: directory)

        #expect(loaded.certificate == created.certificate)
        #expect(loaded.privateKey == created.privateKey)
        #expect(try loaded.certificatePEM.hasPrefix("-----BEGIN CERTIFICATE-----"))
        #expect(try CertificateAuthority.certificatePEM(in: directory) == created.certificatePEM)
        #expect(try loaded.certificate.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: 0))
        #expect(try loaded.certificate.extensions.keyUsage == KeyUsage(keyCertSign: true, cRLSign: true))
        #expect(try loaded.certificate.extensions.subjectKeyIdentifier != nil)
        #expect(loaded.certificate.subject.description.contains("Tollgate agent local CA"))
        #expect(abs(loaded.notValidAfter.timeIntervalSince(now) - 10 * 365.25 * 86_400) <= 1)
    }

    @Test func keyIs0600CertificateIs0644AndNothingIsOverwritten() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try CertificateAuthority.create()
        try first.write(to: directory)
        let keyPath = directory + "/ca.key"
        #expect(mode(keyPath) == 0o600)
        #expect(mode(directory + "/ca.crt") == 0o644)

        let error = #expect(throws: CertificateAuthorityError.self) {
            try CertificateAuthority.create().write(to: directory)
        }
        #expect(error?.description.contains("refusing to overwrite") == true)
        #expect(try CertificateAuthority.load(from: directory).certificate == first.certificate)

        // The O_EXCL path, for a key that appears between the check and the open.
        try FileManager.default.removeItem(atPath: directory + "/ca.crt")
        #expect(throws: CertificateAuthorityError.self) { try CertificateAuthority.create().write(to: directory) }
        #expect(try String(contentsOfFile: keyPath, encoding: .utf8) == first.privateKeyPEM)
    }

    @Test func aLooseKeyIsRefused() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try CertificateAuthority.create().write(to: directory)
        chmod(directory + "/ca.key", 0o640)
        let error = #expect(throws: CertificateAuthorityError.self) { try CertificateAuthority.load(from: directory) }
        #expect(error?.description.contains("chmod 600") == true)
    }

    @Test func aMissingCATellsTheOperatorToRunInit() throws {
        let error = #expect(throws: CertificateAuthorityError.self) { try CertificateAuthority.load(from: directory) }
        #expect(error?.description.contains("ca.crt") == true)
        #expect(error?.description.contains("tollgate-agent ca init") == true)
    }

    @Test func aKeyFromAnotherCAIsRefused() throws {
        let one = try CertificateAuthority.create(), other = try CertificateAuthority.create()
        #expect(throws: CertificateAuthorityError.self) {
            try CertificateAuthority(certificatePEM: one.certificatePEM, privateKeyPEM: other.privateKeyPEM)
        }
    }

    // MARK: Leaves

    @Test func aLeafVerifiesForItsHostOnlyAndOnlyAgainstItsCA() async throws {
        let ca = try CertificateAuthority.create()
        let leaf = try LeafCertificateCache(authority: ca).leaf(forHost: "API.OpenAI.com.").certificate

        #expect(await verify(leaf, against: ca, hostname: "api.openai.com"))
        #expect(await !verify(leaf, against: ca, hostname: "api.anthropic.com"))
        #expect(await !verify(leaf, against: try CertificateAuthority.create(), hostname: "api.openai.com"))

        #expect(try leaf.extensions.extendedKeyUsage == ExtendedKeyUsage([.serverAuth]))
        #expect(try leaf.extensions.basicConstraints == .notCertificateAuthority)
        #expect(try leaf.extensions.authorityKeyIdentifier?.keyIdentifier == ca.keyIdentifier)
        #expect(leaf.issuer == ca.certificate.subject)
        let lifetime = leaf.notValidAfter.timeIntervalSince(leaf.notValidBefore)
        #expect(abs(lifetime - (7 * 86_400 + 3600)) < 2)
        #expect(leaf.notValidBefore < Date().addingTimeInterval(-3590))
    }

    @Test(arguments: ["127.0.0.1", "::1", "[::1]"])
    func anIPLiteralGetsAnIPAddressSAN(host: String) async throws {
        let ca = try CertificateAuthority.create()
        let leaf = try LeafCertificateCache(authority: ca).leaf(forHost: host).certificate
        let ip = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        let names = try #require(try leaf.extensions.subjectAlternativeNames)
        #expect(names.allSatisfy { if case .ipAddress = $0 { true } else { false } })
        #expect(await verify(leaf, against: ca, hostname: nil, ip: ip))
    }

    @Test func invalidHostsAreRefused() throws {
        let cache = try LeafCertificateCache(authority: try CertificateAuthority.create())
        for host in ["", "bad host", "a/b", "*.openai.com", String(repeating: "a", count: 300)] {
            #expect(throws: LeafCertificateError.self) { try cache.leaf(forHost: host) }
        }
    }

    // MARK: Cache

    @Test func theCacheReusesContextsAndReMintsBeforeExpiry() throws {
        let clock = ManualClock(date: Date())
        let cache = try LeafCertificateCache(authority: try CertificateAuthority.create(), clock: clock.serviceClock)
        let first = try cache.context(forHost: "api.openai.com")
        #expect(try cache.context(forHost: "api.openai.com") === first)
        #expect(try cache.context(forHost: "API.OPENAI.COM.") === first)
        #expect(try cache.context(forHost: "api.anthropic.com") !== first)
        #expect(cache.count == 2)

        clock.advance(by: .seconds(5.9 * 86_400))
        #expect(try cache.context(forHost: "api.openai.com") === first)
        clock.advance(by: .seconds(0.2 * 86_400))  // within a day of expiry
        let renewed = try cache.leaf(forHost: "api.openai.com")
        #expect(renewed.context !== first)
        #expect(renewed.notValidAfter > clock.date.addingTimeInterval(6.9 * 86_400))
        #expect(cache.count == 2)
    }

    @Test func theCacheIsBoundedAndEvictsTheOldest() throws {
        let cache = try LeafCertificateCache(authority: try CertificateAuthority.create(), capacity: 2)
        let a = try cache.context(forHost: "a.example")
        let b = try cache.context(forHost: "b.example")
        _ = try cache.context(forHost: "c.example")
        #expect(cache.count == 2)
        #expect(try cache.context(forHost: "b.example") === b)
        #expect(try cache.context(forHost: "a.example") !== a)  // evicted, so re-minted
    }

    @Test func concurrentFirstHandshakesShareOneContext() async throws {
        let cache = try LeafCertificateCache(authority: try CertificateAuthority.create())
        let contexts = try await withThrowingTaskGroup(of: ObjectIdentifier.self) { group in
            for _ in 0..<16 { group.addTask { ObjectIdentifier(try cache.context(forHost: "api.openai.com")) } }
            return try await group.reduce(into: Set()) { $0.insert($1) }
        }
        #expect(contexts.count == 1)
    }

    @Test func mintTime() throws {
        let ca = try CertificateAuthority.create()
        let cache = try LeafCertificateCache(authority: ca, capacity: 10_000)
        _ = try cache.context(forHost: "warm.example")
        let count = 200
        let clock = ContinuousClock()
        let elapsed = try clock.measure {
            for i in 0..<count { _ = try cache.context(forHost: "host\(i).example") }
        }
        let cached = try clock.measure {
            for i in 0..<count { _ = try cache.context(forHost: "host\(i).example") }
        }
        let perMint = elapsed / count, perHit = cached / count
        print("LeafCertificateCache: mint \(perMint) per leaf, cache hit \(perHit) (\(count) hosts)")
        #expect(perMint < .milliseconds(50))
    }

    // MARK: TLS

    @Test func aClientTrustingOnlyTheCACompletesAHandshake() async throws {
        let ca = try CertificateAuthority.create()
        let server = try await LineServer.start(context: try LeafCertificateCache(authority: ca)
            .context(forHost: "api.openai.com"))
        defer { server.stop() }

        #expect(try await server.readLine(trusting: ca, serverHostname: "api.openai.com") == "hello from api.openai.com")
        await #expect(throws: (any Error).self) {
            try await server.readLine(trusting: ca, serverHostname: "api.anthropic.com")
        }
        await #expect(throws: (any Error).self) {
            try await server.readLine(trusting: try CertificateAuthority.create(), serverHostname: "api.openai.com")
        }
    }
}

/// A TLS server on loopback that writes one line to each client and closes.
private struct LineServer {
    let group: MultiThreadedEventLoopGroup
    let channel: Channel

    static func start(context: NIOSSLContext) async throws -> LineServer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try channel.pipeline.syncOperations.addHandler(Greeter())
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return LineServer(group: group, channel: channel)
    }

    func readLine(trusting ca: CertificateAuthority, serverHostname: String) async throws -> String {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .certificates([try NIOSSLCertificate(bytes: Array(ca.certificatePEM.utf8), format: .pem)])
        let context = try NIOSSLContext(configuration: configuration)
        let line = group.next().makePromise(of: String.self)
        let client = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        try NIOSSLClientHandler(context: context, serverHostname: serverHostname))
                    try channel.pipeline.syncOperations.addHandler(LineReader(line: line))
                }
            }
            .connect(to: channel.localAddress!).get()
        defer { client.close(promise: nil) }
        return try await line.futureResult.get()
    }

    func stop() {
        try? channel.close().wait()
        try? group.syncShutdownGracefully()
    }
}

private final class Greeter: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    // NIOSSLHandler holds writes until the handshake completes, so writing on activation is safe.
    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "hello from api.openai.com\n")), promise: nil)
        context.fireChannelActive()
    }
}

private final class LineReader: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let line: EventLoopPromise<String>
    var buffer = ""

    init(line: EventLoopPromise<String>) { self.line = line }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        buffer += String(buffer: unwrapInboundIn(data))
        if let newline = buffer.firstIndex(of: "\n") { line.succeed(String(buffer[..<newline])) }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        line.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        line.fail(ChannelError.eof)
    }
}
