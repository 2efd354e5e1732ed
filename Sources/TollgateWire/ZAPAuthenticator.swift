import Foundation
import NIOConcurrencyHelpers
import Synchronization
import TollgateCore

/// Admits CurveZMQ clients whose public key is allowlisted, by answering libzmq's ZAP requests
/// (RFC 27) on a REP socket bound at `inproc://zeromq.zap.01`, on a thread of its own.
///
/// **Ordering.** libzmq looks for the handler in the server socket's *context*, afresh for each
/// incoming connection at the moment of its CURVE handshake — not when the server socket binds.
/// A connection that handshakes while no handler is bound there is admitted *unauthenticated*
/// (CurveZMQ's "Stonehouse" fallback: encrypted, but anyone in), unless the server socket set
/// `.zapDomain(_:)` and `.zapEnforceDomain(true)`, which makes it refuse instead. Hence:
/// 1. create the authenticator with the server socket's `ZMQContext` and `start()` it before
///    binding (`start` returns only once the handler is bound);
/// 2. keep it running for the server socket's whole life: `stop()` only after closing the socket;
/// 3. set `.zapEnforceDomain(true)` where this libzmq has it, and drop messages whose
///    `receiveWithMetadata().userID` is nil, as the last line of defence.
///
/// **Verdicts are per handshake.** An allowlist change does not disconnect agents already
/// admitted. And libzmq 4.3 never retries a connection the server refused (the client's session
/// ends on the ERROR): a refused agent gets in after its key is allowlisted only once it opens a
/// fresh socket (on its ack timeout, or on ZMQ_EVENT_HANDSHAKE_FAILED_AUTH from a socket monitor).
///
/// One authenticator per context: the endpoint name is fixed.
public final class ZAPAuthenticator: Sendable {
    public static let endpoint = "inproc://zeromq.zap.01"

    private let context: ZMQContext
    private let policy: NIOLockedValueBox<ZAPPolicy>
    private let onReject: (@Sendable (String) -> Void)?
    private let accepted = Atomic<Int>(0)
    private let rejected = Atomic<Int>(0)
    private let stopRequested = Atomic<Bool>(false)
    /// The thread answering handshakes; nil while stopped.
    private let running = NIOLockedValueBox<WorkerThread?>(nil)

    /// - Parameters:
    ///   - allowPlaintextForLab: also admit NULL-mechanism (plaintext) clients. Only for a lab
    ///     channel explicitly configured without CurveZMQ; its server socket must set a
    ///     `.zapDomain(_:)`, since libzmq consults ZAP for NULL only then.
    ///   - onReject: called with a readable reason (peer address and why) for every refusal, on
    ///     the authenticator's thread; handshakes wait for it, so keep it quick (a log line).
    public init(
        context: ZMQContext, allowlist: CurveAllowlist, allowPlaintextForLab: Bool = false,
        onReject: (@Sendable (String) -> Void)? = nil
    ) {
        self.context = context
        policy = NIOLockedValueBox(ZAPPolicy(allowlist: allowlist, allowPlaintextForLab: allowPlaintextForLab))
        self.onReject = onReject
    }

    /// Handshakes admitted so far.
    public var acceptedCount: Int { accepted.load(ordering: .relaxed) }
    /// Handshakes refused so far (a refused agent retries, so one agent can count many times).
    public var rejectedCount: Int { rejected.load(ordering: .relaxed) }
    public var isRunning: Bool { running.withLockedValue { $0 != nil } }

    /// Takes effect for the next handshake; connections already admitted stay connected, and
    /// clients refused earlier stay away until they reconnect with a new socket.
    public func updateAllowlist(_ allowlist: CurveAllowlist) {
        policy.withLockedValue { $0.allowlist = allowlist }
    }

    /// Binds the handler and returns once it is bound (so ZAP is in force for every handshake
    /// after this returns). Throws when the bind fails, e.g. "Address already in use" when
    /// another handler runs on the same context. Does nothing when already running.
    public func start() throws {
        try running.withLockedValue { running in
            guard running == nil else { return }
            stopRequested.store(false, ordering: .sequentiallyConsistent)
            running = try WorkerThread.start(name: "tollgate-zap") { [self] ready in serve(ready) }.thread
        }
    }

    /// Stops answering and waits for the thread to close its socket. Stop the server socket
    /// first: handshakes after this are let in unauthenticated unless the domain is enforced.
    /// Only `stop()` stops it: the running thread keeps the authenticator (and its context) alive.
    public func stop() {
        running.withLockedValue { running in
            guard let thread = running else { return }
            stopRequested.store(true, ordering: .sequentiallyConsistent)
            thread.join()
            running = nil
        }
    }

    /// Runs on the authenticator's thread: libzmq sockets must stay on one thread, so the REP
    /// socket is created, used and closed (when this returns) here.
    private func serve(_ ready: @Sendable (Result<Void, Error>) -> Void) {
        let socket: ZMQSocket
        do {
            socket = try ZMQSocket(context, .rep)
            try socket.bind(Self.endpoint)
        } catch {
            return ready(.failure(error))
        }
        ready(.success(()))
        // Released before the socket closes, so a handler started right after this one stops
        // can bind the same name (closing alone frees it later, on libzmq's reaper thread).
        defer { try? socket.unbind(Self.endpoint) }
        // Polling in short slices keeps `stop()` prompt without a second (wake-up) socket.
        while !stopRequested.load(ordering: .sequentiallyConsistent) {
            do {
                guard try socket.waitForInput(milliseconds: 50) else { continue }
                // REP needs a reply to every request before the next receive, and libzmq holds
                // the handshake until it gets one; so answer everything, malformed or not.
                while let request = try socket.receive() {
                    try socket.send(answer(request).frames)
                }
            } catch {
                // Cannot happen while we hold the context and always reply; keep serving anyway,
                // because a handler that goes away lets clients in unauthenticated.
                Thread.sleep(forTimeInterval: 0.01)
            }
        }
    }

    private func answer(_ request: [Data]) -> ZAPReply {
        let reply = policy.withLockedValue { $0.answer(request) }
        if reply.status == .ok {
            accepted.add(1, ordering: .relaxed)
        } else {
            rejected.add(1, ordering: .relaxed)
            onReject?(reply.text)
        }
        return reply
    }
}
