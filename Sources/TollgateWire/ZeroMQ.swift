import CZeroMQ
import Foundation

/// A libzmq error with the library's own message.
public struct ZMQError: Error, CustomStringConvertible, Equatable {
    public let code: Int32
    public let operation: String

    init(_ operation: String, code: Int32 = zmq_errno()) {
        self.code = code
        self.operation = operation
    }

    public var description: String { "\(operation): \(String(cString: zmq_strerror(code)))" }

    var isInterruptedOrAgain: Bool { code == EAGAIN || code == EINTR }
}

/// One libzmq context per process side; sockets are created from it.
public final class ZMQContext: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer

    public init() {
        handle = zmq_ctx_new()
    }

    /// A context whose sockets' network I/O (framing, CurveZMQ encryption, writes) runs on
    /// `ioThreads` libzmq threads rather than its default one: one thread encrypting a
    /// quota update for thousands of subscribers is what a large fleet waits on. Set before
    /// the first socket, when libzmq starts them.
    public convenience init(ioThreads: Int) {
        self.init()
        zmq_ctx_set(handle, ZMQ_IO_THREADS, Int32(clamping: max(1, ioThreads)))
    }

    deinit {
        zmq_ctx_term(handle)
    }
}

/// A libzmq socket. Like libzmq's own sockets it is **not** thread-safe: create, use and
/// close it on one thread (the shipper's or the ingest loop's).
public final class ZMQSocket {
    public enum Kind {
        case dealer, router, pub, sub
        /// A PUB that also hears its subscribers' (un)subscriptions: the quota channel
        /// answers every new subscription with a snapshot.
        case xpub
        /// Only the ZAP handler (`ZAPAuthenticator`) uses REP.
        case rep
        /// One end of an inproc pipe between two threads of one process.
        case pair

        var rawValue: Int32 {
            switch self {
            case .dealer: ZMQ_DEALER
            case .router: ZMQ_ROUTER
            case .pub: ZMQ_PUB
            case .sub: ZMQ_SUB
            case .xpub: ZMQ_XPUB
            case .rep: ZMQ_REP
            case .pair: ZMQ_PAIR
            }
        }
    }

    let handle: UnsafeMutableRawPointer
    private let context: ZMQContext

    public init(_ context: ZMQContext, _ kind: Kind) throws {
        guard let handle = zmq_socket(context.handle, kind.rawValue) else { throw ZMQError("zmq_socket") }
        self.handle = handle
        self.context = context
        // Unsent messages are resent by the protocol, so closing must never block on them.
        try setOption(ZMQ_LINGER, Int32(0))
    }

    deinit {
        zmq_close(handle)
    }

    /// The socket options Tollgate uses, typed so callers need not import libzmq.
    public enum Option {
        /// Queue messages only to completed connections (ZMQ_IMMEDIATE).
        case immediate(Bool)
        case reconnectIntervalMaxMs(Int32)
        /// Larger inbound messages are refused and the peer disconnected (ZMQ_MAXMSGSIZE).
        case maxMessageBytes(Int64)
        case receiveHighWaterMark(Int32)
        case sendHighWaterMark(Int32)
        /// Makes this a CurveZMQ server (ZMQ_CURVE_SERVER + ZMQ_CURVE_SECRETKEY). Set it before
        /// `bind`, and run a `ZAPAuthenticator` on the same context: without one libzmq admits
        /// every CURVE client (see `ZAPAuthenticator` for the ordering rules).
        case curveServer(secretKey: String)
        /// Makes this a CurveZMQ client of the server whose public key is `serverKey`
        /// (ZMQ_CURVE_SERVERKEY, ZMQ_CURVE_PUBLICKEY, ZMQ_CURVE_SECRETKEY). Set it before `connect`.
        case curveClient(serverKey: String, keyPair: CurveKeyPair)
        /// The ZAP domain (ZMQ_ZAP_DOMAIN). A NULL-mechanism (plaintext) server consults ZAP only
        /// when a domain is set; `zapEnforceDomain` needs one too.
        case zapDomain(String)
        /// ZMQ_ZAP_ENFORCE_DOMAIN: with a `zapDomain` set, refuse clients while no ZAP handler is
        /// bound instead of admitting them unauthenticated. A DRAFT option in libzmq 4.3: libzmq
        /// builds without the draft API fail with EINVAL ("Invalid argument").
        case zapEnforceDomain(Bool)
        /// XPUB: pass every subscription up, not only the first for a topic, so a
        /// resubscribing agent is noticed.
        case xpubVerbose(Bool)
        /// SUB: receive messages starting with this prefix (empty: all).
        case subscribe(Data)
        case unsubscribe(Data)
    }

    public func set(_ option: Option) throws {
        switch option {
        case .immediate(let on): try setOption(ZMQ_IMMEDIATE, Int32(on ? 1 : 0))
        case .reconnectIntervalMaxMs(let ms): try setOption(ZMQ_RECONNECT_IVL_MAX, ms)
        case .maxMessageBytes(let bytes): try setOption(ZMQ_MAXMSGSIZE, bytes)
        case .receiveHighWaterMark(let count): try setOption(ZMQ_RCVHWM, count)
        case .sendHighWaterMark(let count): try setOption(ZMQ_SNDHWM, count)
        case .curveServer(let secretKey):
            try setOption(ZMQ_CURVE_SERVER, Int32(1))
            try setCurveKey(ZMQ_CURVE_SECRETKEY, secretKey, label: "the server's secret key")
        case .curveClient(let serverKey, let keyPair):
            try setCurveKey(ZMQ_CURVE_SERVERKEY, serverKey, label: "the server's public key")
            try setCurveKey(ZMQ_CURVE_PUBLICKEY, keyPair.publicKey, label: "the client's public key")
            try setCurveKey(ZMQ_CURVE_SECRETKEY, keyPair.secretKey, label: "the client's secret key")
        case .zapDomain(let domain): try setOption(ZMQ_ZAP_DOMAIN, Data(domain.utf8))
        case .zapEnforceDomain(let on): try setOption(zapEnforceDomainOption, Int32(on ? 1 : 0))
        case .xpubVerbose(let on): try setOption(ZMQ_XPUB_VERBOSE, Int32(on ? 1 : 0))
        case .subscribe(let prefix): try setOption(ZMQ_SUBSCRIBE, prefix)
        case .unsubscribe(let prefix): try setOption(ZMQ_UNSUBSCRIBE, prefix)
        }
    }

    /// ZMQ_ZAP_ENFORCE_DOMAIN sits behind ZMQ_BUILD_DRAFT_API in zmq.h, so it is not imported.
    private var zapEnforceDomainOption: Int32 { 93 }

    /// libzmq takes a CURVE key as 32 raw bytes or as Z85 text; text must be the 40 characters
    /// plus the terminating NUL (41 bytes). The key is validated first so a bad one surfaces as a
    /// `CurveKeyError` naming the key, not as a bare EINVAL.
    private func setCurveKey(_ option: Int32, _ z85: String, label: String) throws {
        _ = try CurveKey.decode(z85, label: label)
        var bytes = Array(z85.utf8)
        bytes.append(0)
        let result = bytes.withUnsafeBytes { zmq_setsockopt(handle, option, $0.baseAddress, $0.count) }
        guard result == 0 else { throw ZMQError("zmq_setsockopt(\(option))") }
    }

    public func setOption(_ option: Int32, _ value: Int32) throws {
        var value = value
        guard zmq_setsockopt(handle, option, &value, MemoryLayout<Int32>.size) == 0 else { throw ZMQError("zmq_setsockopt(\(option))") }
    }

    public func setOption(_ option: Int32, _ value: Int64) throws {
        var value = value
        guard zmq_setsockopt(handle, option, &value, MemoryLayout<Int64>.size) == 0 else { throw ZMQError("zmq_setsockopt(\(option))") }
    }

    public func setOption(_ option: Int32, _ value: Data) throws {
        let result = value.withUnsafeBytes { zmq_setsockopt(handle, option, $0.baseAddress, value.count) }
        guard result == 0 else { throw ZMQError("zmq_setsockopt(\(option))") }
    }

    public func bind(_ endpoint: String) throws {
        guard zmq_bind(handle, endpoint) == 0 else { throw ZMQError("bind \(endpoint)") }
    }

    /// Gives the endpoint up now. Closing a socket releases its endpoints later, on libzmq's
    /// reaper thread, so a socket about to be closed is unbound first when the same
    /// endpoint may be bound again at once (an `inproc://` name is unregistered synchronously).
    public func unbind(_ endpoint: String) throws {
        guard zmq_unbind(handle, endpoint) == 0 else { throw ZMQError("unbind \(endpoint)") }
    }

    public func connect(_ endpoint: String) throws {
        guard zmq_connect(handle, endpoint) == 0 else { throw ZMQError("connect \(endpoint)") }
    }

    /// The endpoint actually bound (resolves `tcp://127.0.0.1:*` to a port).
    public var lastEndpoint: String {
        var buffer = [CChar](repeating: 0, count: 256)
        var size = buffer.count
        zmq_getsockopt(handle, ZMQ_LAST_ENDPOINT, &buffer, &size)
        return String(cString: buffer)
    }

    /// Sends all frames as one message; false when it would block (peer absent, queue full).
    @discardableResult
    public func send(_ frames: [Data], dontWait: Bool = true) throws -> Bool {
        for (index, frame) in frames.enumerated() {
            var flags: Int32 = dontWait ? ZMQ_DONTWAIT : 0
            if index < frames.count - 1 { flags |= ZMQ_SNDMORE }
            let result = frame.withUnsafeBytes { zmq_send(handle, $0.baseAddress, frame.count, flags) }
            if result < 0 {
                let error = ZMQError("zmq_send")
                // libzmq sends the parts of a message atomically, so "would block" can only
                // happen on the first part.
                if error.isInterruptedOrAgain && index == 0 { return false }
                throw error
            }
        }
        return true
    }

    /// Receives one whole message without blocking; nil when none is waiting.
    public func receive() throws -> [Data]? {
        try receiveMessage(readingMetadata: false)?.frames
    }

    /// Like `receive()`, plus the ZAP User-Id the peer authenticated as (for a CURVE server, the
    /// allowlist name of the agent's key). nil when no ZAP handler vouched for the connection,
    /// which on a CURVE socket means it was admitted unauthenticated: drop such messages.
    public func receiveWithMetadata() throws -> (frames: [Data], userID: String?)? {
        try receiveMessage(readingMetadata: true).map { ($0.frames, $0.userID) }
    }

    /// One message with what libzmq knows of the connection it came on.
    public struct ReceivedMessage {
        public var frames: [Data]
        /// The ZAP User-Id, as in `receiveWithMetadata()`.
        public var userID: String?
        /// The peer's IP address ("Peer-Address"), for TCP connections; nil for inproc and ipc.
        public var peerAddress: String?
    }

    /// Like `receiveWithMetadata()`, plus the peer's address.
    public func receiveWithPeer() throws -> ReceivedMessage? {
        try receiveMessage(readingMetadata: true)
    }

    private func receiveMessage(readingMetadata: Bool) throws -> ReceivedMessage? {
        var received = ReceivedMessage(frames: [])
        while true {
            var message = zmq_msg_t()
            zmq_msg_init(&message)
            defer { zmq_msg_close(&message) }
            if zmq_msg_recv(&message, handle, ZMQ_DONTWAIT) < 0 {
                let error = ZMQError("zmq_msg_recv")
                if error.isInterruptedOrAgain && received.frames.isEmpty { return nil }
                throw error
            }
            received.frames.append(Data(bytes: zmq_msg_data(&message), count: zmq_msg_size(&message)))
            // A ROUTER's routing-id frame is made locally and may carry no connection metadata,
            // so look at every frame until one has it.
            if readingMetadata {
                if received.userID == nil, let value = zmq_msg_gets(&message, "User-Id") {
                    received.userID = String(cString: value)
                }
                if received.peerAddress == nil, let value = zmq_msg_gets(&message, "Peer-Address") {
                    received.peerAddress = String(cString: value)
                }
            }
            if zmq_msg_more(&message) == 0 { return received }
        }
    }

    /// Waits up to `milliseconds` for a message to arrive, or until `wakeup` is woken;
    /// true when a message is ready.
    public func waitForInput(milliseconds: Int, wakeup: ZMQWakeup? = nil) throws -> Bool {
        try Self.waitForInput(on: [self], milliseconds: milliseconds, wakeup: wakeup)[0]
    }

    /// Waits up to `milliseconds` for a message on any of `sockets`, or until `wakeup` is
    /// woken (the wake-up is consumed); which sockets have a message.
    public static func waitForInput(on sockets: [ZMQSocket], milliseconds: Int, wakeup: ZMQWakeup? = nil) throws -> [Bool] {
        var items = sockets.map { zmq_pollitem_t(socket: $0.handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0) }
        if let wakeup { items.append(wakeup.pollItem) }
        let result = zmq_poll(&items, Int32(items.count), milliseconds)
        if result < 0 {
            let error = ZMQError("zmq_poll")
            if error.code == EINTR { return sockets.map { _ in false } }
            throw error
        }
        if let wakeup, let last = items.last, last.revents & Int16(ZMQ_POLLIN) != 0 { wakeup.drain() }
        return items.prefix(sockets.count).map { $0.revents & Int16(ZMQ_POLLIN) != 0 }
    }
}
