import Foundation
import Synchronization
import Testing

@testable import TollgateWire

@Suite struct CurveKeyTests {
    @Test func generatedKeysAreZ85AndThePublicKeyDerivesFromTheSecret() throws {
        #expect(CurveKeyPair.isAvailable)
        let pair = try CurveKeyPair.generate()
        #expect(pair.publicKey.utf8.count == 40 && pair.secretKey.utf8.count == 40)
        #expect(try CurveKeyPair.publicKey(fromSecret: pair.secretKey) == pair.publicKey)
        #expect(try CurveKeyPair(secretKey: pair.secretKey) == pair)
        #expect(try CurveKeyPair.generate() != pair)
        #expect(!pair.description.contains(pair.secretKey) && !"\(pair)".contains(pair.secretKey))
    }

    @Test(arguments: [
        ("short", "it has 5 characters"),
        (String(repeating: "a", count: 39) + " ", "it has characters outside the Z85 alphabet"),
        (" " + String(repeating: "a", count: 40), "it has 41 characters (stray whitespace?)"),
        (String(repeating: "\"", count: 40), "it has characters outside the Z85 alphabet"),
        (String(repeating: "a", count: 35) + "\0aaaa", "it has characters outside the Z85 alphabet"),
        (String(repeating: "#", count: 40), "it does not decode to 32 bytes"),
    ])
    func malformedKeysAreRefusedWithTheReason(key: String, problem: String) throws {
        let expected = CurveKeyError.notZ85Key(label: "the aggregator's public key", problem: problem)
        #expect(throws: expected) { try CurveKeyPair.validate(key, label: "the aggregator's public key") }
        #expect(expected.description.contains("is not a Z85 CurveZMQ key (40 characters)"))
        #expect(expected.description.contains("`tollgate keygen`"))
        #expect(throws: CurveKeyError.self) { try CurveKeyPair.publicKey(fromSecret: key) }
    }

    @Test func keyFilesRoundTripWithPrivateModesAndAreNeverOverwritten() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let secretPath = directory.appendingPathComponent("agent.key").path
        let publicPath = directory.appendingPathComponent("agent.pub").path
        let pair = try CurveKeyPair.generate()
        try pair.write(secretKeyTo: secretPath, publicKeyTo: publicPath)

        #expect(try mode(of: secretPath) == 0o600)
        #expect(try mode(of: publicPath) == 0o644)
        #expect(try CurveKeyPair(secretKeyFile: secretPath) == pair)
        #expect(try CurveKeyPair.readPublicKey(file: publicPath) == pair.publicKey)

        let before = try String(contentsOfFile: secretPath, encoding: .utf8)
        let other = try CurveKeyPair.generate()
        #expect(throws: CurveKeyError.fileExists(path: secretPath)) {
            try other.write(secretKeyTo: secretPath, publicKeyTo: directory.appendingPathComponent("new.pub").path)
        }
        #expect(try String(contentsOfFile: secretPath, encoding: .utf8) == before)
        // A clash on the public file leaves no half-written secret behind either.
        let freshSecret = directory.appendingPathComponent("fresh.key").path
        #expect(throws: CurveKeyError.fileExists(path: publicPath)) {
            try other.write(secretKeyTo: freshSecret, publicKeyTo: publicPath)
        }
        #expect(!FileManager.default.fileExists(atPath: freshSecret))
    }

    @Test func keyFilesAllowCommentsAndNameTheBrokenLine() throws {
        let pair = try CurveKeyPair.generate()
        #expect(try CurveKeyPair.keyLine(in: "# agent-7\n\n  \(pair.secretKey)  \r\n# end\n", path: "k") == pair.secretKey)
        #expect(throws: CurveKeyError.noKeyInFile(path: "k")) { try CurveKeyPair.keyLine(in: "# nothing\n", path: "k") }
        #expect(throws: CurveKeyError.severalKeysInFile(path: "k")) {
            try CurveKeyPair.keyLine(in: "\(pair.secretKey)\n\(pair.publicKey)\n", path: "k")
        }
        #expect(throws: CurveKeyError.notZ85Key(label: "line 2 of k", problem: "it has 7 characters")) {
            try CurveKeyPair.keyLine(in: "# c\nnot-key\n", path: "k")
        }
        #expect(throws: CurveKeyError.unreadableFile(path: "/nonexistent/k", reason: "No such file or directory")) {
            try CurveKeyPair(secretKeyFile: "/nonexistent/k")
        }
    }

    @Test func allowlistsRejectBadKeysDuplicatesAndEmptyNames() throws {
        let key = try CurveKeyPair.generate().publicKey
        #expect(try CurveAllowlist(["agent-1": key]).count == 1)
        #expect(throws: CurveKeyError.duplicateAllowlistKey(names: ["a", "b"])) { try CurveAllowlist(["a": key, "b": key]) }
        #expect(throws: CurveKeyError.emptyAllowlistName) { try CurveAllowlist(["": key]) }
        #expect(throws: CurveKeyError.notZ85Key(label: "the allowlist key of \"x\"", problem: "it has 3 characters")) {
            try CurveAllowlist(["x": "abc"])
        }
    }
}

@Suite struct ZAPPolicyTests {
    private func request(_ mechanism: String, _ credentials: [Data] = []) -> [Data] {
        [Data("1.0".utf8), Data("7".utf8), Data("tollgate".utf8), Data("10.0.0.5".utf8), Data(), Data(mechanism.utf8)] + credentials
    }

    @Test func admitsAllowlistedCurveKeysUnderTheirName() throws {
        let agent = try CurveKeyPair.generate()
        let raw = try CurveKey.decode(agent.publicKey, label: "")
        let policy = ZAPPolicy(allowlist: try CurveAllowlist(["agent-7": agent.publicKey]), allowPlaintextForLab: false)
        let reply = policy.answer(request("CURVE", [raw]))
        #expect(reply == ZAPReply(requestID: Data("7".utf8), status: .ok, text: "OK", userID: "agent-7"))
        #expect(reply.frames.count == 6 && reply.frames[2] == Data("200".utf8))

        let stranger = try CurveKeyPair.generate()
        let refused = policy.answer(request("CURVE", [try CurveKey.decode(stranger.publicKey, label: "")]))
        #expect(refused.status == .denied && refused.userID.isEmpty)
        #expect(refused.text.contains("10.0.0.5") && refused.text.contains(stranger.publicKey))
    }

    @Test func refusesOtherMechanismsUnlessPlaintextLabModeAdmitsNull() {
        let strict = ZAPPolicy(allowlist: .empty, allowPlaintextForLab: false)
        #expect(strict.answer(request("NULL")).status == .denied)
        #expect(strict.answer(request("PLAIN", [Data("u".utf8), Data("p".utf8)])).status == .denied)
        #expect(strict.answer(request("CURVE", [Data([1, 2, 3])])).status == .denied)
        let lab = ZAPPolicy(allowlist: .empty, allowPlaintextForLab: true)
        #expect(lab.answer(request("NULL")).status == .ok)
        #expect(lab.answer(request("PLAIN", [Data("u".utf8), Data("p".utf8)])).status == .denied)
    }

    @Test func answersMalformedRequestsSoTheHandshakeNeverHangs() {
        let policy = ZAPPolicy(allowlist: .empty, allowPlaintextForLab: true)
        #expect(policy.answer([Data("1.0".utf8), Data("9".utf8)]).status == .internalError)
        #expect(policy.answer([Data("1.0".utf8), Data("9".utf8)]).requestID == Data("9".utf8))
        var wrongVersion = request("NULL")
        wrongVersion[0] = Data("2.0".utf8)
        #expect(policy.answer(wrongVersion).status == .internalError)
    }
}

/// Real sockets on tcp://127.0.0.1. Tests that prove a message never arrives wait ~1 s; Swift
/// Testing runs them in parallel.
@Suite struct CurveChannelTests {
    let server: CurveKeyPair
    let agent: CurveKeyPair

    init() throws {
        server = try CurveKeyPair.generate()
        agent = try CurveKeyPair.generate()
    }

    private func curveRouter(_ context: ZMQContext, enforceDomain: Bool = true) throws -> ZMQSocket {
        let router = try ZMQSocket(context, .router)
        try router.set(.curveServer(secretKey: server.secretKey))
        try router.set(.zapDomain("tollgate"))
        if enforceDomain { try router.set(.zapEnforceDomain(true)) }
        try router.bind("tcp://127.0.0.1:*")
        return router
    }

    private func curveDealer(_ keyPair: CurveKeyPair, to endpoint: String) throws -> ZMQSocket {
        // Its own context, like a real agent process.
        let dealer = try ZMQSocket(ZMQContext(), .dealer)
        try dealer.set(.curveClient(serverKey: server.publicKey, keyPair: keyPair))
        try dealer.connect(endpoint)
        return dealer
    }

    private func plainDealer(to endpoint: String) throws -> ZMQSocket {
        let dealer = try ZMQSocket(ZMQContext(), .dealer)
        try dealer.connect(endpoint)
        return dealer
    }

    @Test func allowlistedAgentExchangesMessagesAndIsSeenUnderItsName() throws {
        let context = ZMQContext()
        let authenticator = ZAPAuthenticator(context: context, allowlist: try CurveAllowlist(["agent-7": agent.publicKey]))
        try authenticator.start()
        defer { authenticator.stop() }
        let router = try curveRouter(context)
        let dealer = try curveDealer(agent, to: router.lastEndpoint)

        #expect(try dealer.send([Data("header".utf8), Data("payload".utf8)], dontWait: false))
        #expect(try router.waitForInput(milliseconds: 3_000))
        let message = try #require(try router.receiveWithMetadata())
        #expect(message.userID == "agent-7")
        #expect(Array(message.frames.dropFirst()) == [Data("header".utf8), Data("payload".utf8)])
        try router.send([message.frames[0], Data("ack".utf8)], dontWait: false)
        #expect(try dealer.waitForInput(milliseconds: 3_000))
        #expect(try dealer.receive() == [Data("ack".utf8)])
        #expect(authenticator.acceptedCount == 1 && authenticator.rejectedCount == 0)
    }

    @Test func agentWithAValidKeyNotInTheAllowlistNeverGetsThrough() throws {
        let context = ZMQContext()
        let reasons = Mutex<[String]>([])
        let authenticator = ZAPAuthenticator(
            context: context, allowlist: try CurveAllowlist(["agent-7": agent.publicKey]),
            onReject: { reason in reasons.withLock { $0.append(reason) } })
        try authenticator.start()
        defer { authenticator.stop() }
        let router = try curveRouter(context)
        let stranger = try CurveKeyPair.generate()
        let dealer = try curveDealer(stranger, to: router.lastEndpoint)

        try dealer.send([Data("header".utf8), Data("payload".utf8)])
        #expect(try !router.waitForInput(milliseconds: 1_000))
        #expect(authenticator.rejectedCount > 0 && authenticator.acceptedCount == 0)
        let first = try #require(reasons.withLock { $0.first })
        #expect(first.contains("127.0.0.1") && first.contains(stranger.publicKey) && first.contains("not in the allowlist"))
    }

    @Test func plaintextAgentNeverGetsThroughToACurveServer() throws {
        let context = ZMQContext()
        let authenticator = ZAPAuthenticator(context: context, allowlist: try CurveAllowlist(["agent-7": agent.publicKey]))
        try authenticator.start()
        defer { authenticator.stop() }
        let router = try curveRouter(context)
        let dealer = try plainDealer(to: router.lastEndpoint)

        try dealer.send([Data("header".utf8), Data("payload".utf8)])
        #expect(try !router.waitForInput(milliseconds: 1_000))
        // The mechanisms differ, so libzmq fails the handshake before ZAP is asked.
        #expect(authenticator.acceptedCount == 0)
    }

    @Test func plaintextLabModeAdmitsNullClientsOnlyWhenExplicitlyEnabled() throws {
        for labMode in [true, false] {
            let context = ZMQContext()
            let authenticator = ZAPAuthenticator(context: context, allowlist: .empty, allowPlaintextForLab: labMode)
            try authenticator.start()
            defer { authenticator.stop() }
            let router = try ZMQSocket(context, .router)
            try router.set(.zapDomain("lab"))  // without a domain libzmq never asks ZAP about NULL
            try router.bind("tcp://127.0.0.1:*")
            let dealer = try plainDealer(to: router.lastEndpoint)

            try dealer.send([Data("hello".utf8)])
            #expect(try router.waitForInput(milliseconds: labMode ? 3_000 : 500) == labMode)
            #expect((authenticator.acceptedCount > 0) == labMode)
            #expect((authenticator.rejectedCount > 0) == !labMode)
        }
    }

    /// libzmq looks the ZAP handler up per handshake, not at bind: a handler started after the
    /// server bound still guards every later connection.
    @Test func handlerStartedAfterTheServerBoundStillGuardsNewConnections() throws {
        let context = ZMQContext()
        let router = try curveRouter(context, enforceDomain: false)
        let authenticator = ZAPAuthenticator(context: context, allowlist: try CurveAllowlist(["agent-7": agent.publicKey]))
        try authenticator.start()
        defer { authenticator.stop() }
        let dealer = try curveDealer(try CurveKeyPair.generate(), to: router.lastEndpoint)

        try dealer.send([Data("payload".utf8)])
        #expect(try !router.waitForInput(milliseconds: 1_000))
        #expect(authenticator.rejectedCount > 0)
    }

    /// Why the ordering matters: with no handler bound, libzmq admits any CURVE client without a
    /// User-Id, unless the server enforces its ZAP domain.
    @Test func withoutAHandlerOnlyAnEnforcedDomainKeepsStrangersOut() throws {
        for enforce in [false, true] {
            let context = ZMQContext()
            let router = try curveRouter(context, enforceDomain: enforce)
            let dealer = try curveDealer(try CurveKeyPair.generate(), to: router.lastEndpoint)
            try dealer.send([Data("payload".utf8)])
            #expect(try router.waitForInput(milliseconds: enforce ? 1_000 : 3_000) == !enforce)
            if !enforce { #expect(try router.receiveWithMetadata()?.userID == nil) }
        }
    }

    /// libzmq 4.3 gives up on a connection the server refused (ERROR ends the session, no
    /// reconnect): an agent admitted later must open a fresh socket.
    @Test func allowlistUpdatesApplyToTheNextHandshake() throws {
        let context = ZMQContext()
        let authenticator = ZAPAuthenticator(context: context, allowlist: .empty)
        try authenticator.start()
        defer { authenticator.stop() }
        let router = try curveRouter(context)
        let refused = try curveDealer(agent, to: router.lastEndpoint)
        try refused.send([Data("first".utf8)])
        #expect(try !router.waitForInput(milliseconds: 300))
        #expect(authenticator.rejectedCount == 1)

        authenticator.updateAllowlist(try CurveAllowlist(["agent-7": agent.publicKey]))
        let fresh = try curveDealer(agent, to: router.lastEndpoint)
        try fresh.send([Data("second".utf8)], dontWait: false)
        #expect(try router.waitForInput(milliseconds: 3_000))
        let message = try #require(try router.receiveWithMetadata())
        #expect(message.userID == "agent-7" && message.frames.last == Data("second".utf8))
        #expect(authenticator.rejectedCount == 1 && authenticator.acceptedCount == 1)
    }

    @Test func startBindsBeforeReturningAndStopsPromptly() throws {
        let context = ZMQContext()
        let authenticator = ZAPAuthenticator(context: context, allowlist: .empty)
        try authenticator.start()
        #expect(authenticator.isRunning)
        // The endpoint is taken the moment start() returns.
        let second = ZAPAuthenticator(context: context, allowlist: .empty)
        #expect(throws: ZMQError.self) { try second.start() }
        #expect(!second.isRunning)
        authenticator.stop()
        #expect(!authenticator.isRunning)
        try second.start()
        second.stop()
    }

    @Test func theWireCarriesNoPlaintextUnderCurve() throws {
        let payload = Data("tollgate-usage-batch-cost-nanodollars-1234567890".utf8)
        for curve in [false, true] {
            let context = ZMQContext()
            let authenticator = ZAPAuthenticator(context: context, allowlist: try CurveAllowlist(["agent-7": agent.publicKey]))
            try authenticator.start()
            defer { authenticator.stop() }
            let router: ZMQSocket
            if curve {
                router = try curveRouter(context)
            } else {
                router = try ZMQSocket(context, .router)
                try router.bind("tcp://127.0.0.1:*")
            }
            let port = try #require(router.lastEndpoint.split(separator: ":").last.flatMap { UInt16($0) })
            let tap = try TCPTap(upstreamPort: port)
            defer { tap.stop() }
            let dealer = curve ? try curveDealer(agent, to: "tcp://127.0.0.1:\(tap.port)") : try plainDealer(to: "tcp://127.0.0.1:\(tap.port)")

            try dealer.send([payload], dontWait: false)
            #expect(try router.waitForInput(milliseconds: 3_000))
            #expect(try router.receive()?.last == payload)
            let seen = tap.captured
            // The plaintext run proves the tap sees payloads; the CURVE run must hide them.
            #expect((seen.range(of: payload) != nil) == !curve)
            #expect((seen.range(of: Data("CURVE".utf8)) != nil) == curve)
        }
    }
}

// MARK: - Helpers

private func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("curve-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

private func mode(of path: String) throws -> Int {
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
}

/// A one-connection TCP relay on 127.0.0.1 that records every byte it forwards, to look at
/// what an eavesdropper on the usage channel would see.
private final class TCPTap: Sendable {
    let port: UInt16
    private let listener: Int32
    private let bytes = Mutex(Data())
    private let stopping = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)

    var captured: Data { bytes.withLock { $0 } }

    init(upstreamPort: UInt16) throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.listener = listener
        var address = Self.loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(listener, pointer, length) == 0 && listen(listener, 4) == 0
                    && getsockname(listener, pointer, &length) == 0
            }
        }
        guard bound else { throw ZMQError("tap listen", code: errno) }
        port = UInt16(bigEndian: address.sin_port)
        Thread { [self] in
            relay(upstreamPort: upstreamPort)
            finished.signal()
        }.start()
    }

    func stop() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        finished.wait()
        close(listener)
    }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    private func relay(upstreamPort: UInt16) {
        var listening = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
        while !stopping.load(ordering: .sequentiallyConsistent) {
            guard poll(&listening, 1, 20) > 0 else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            defer { close(client) }
            let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(upstream) }
            var address = Self.loopback(port: upstreamPort)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            guard connected else { continue }
            forward(between: client, and: upstream)
        }
    }

    private func forward(between client: Int32, and upstream: Int32) {
        var fds = [pollfd(fd: client, events: Int16(POLLIN), revents: 0), pollfd(fd: upstream, events: Int16(POLLIN), revents: 0)]
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while !stopping.load(ordering: .sequentiallyConsistent) {
            guard poll(&fds, 2, 20) > 0 else { continue }
            for (index, entry) in fds.enumerated() where entry.revents != 0 {
                let count = read(entry.fd, &buffer, buffer.count)
                guard count > 0 else { return }
                bytes.withLock { $0.append(contentsOf: buffer[..<count]) }
                let target = index == 0 ? upstream : client
                guard buffer.withUnsafeBytes({ write(target, $0.baseAddress, count) }) == count else { return }
            }
        }
    }
}
