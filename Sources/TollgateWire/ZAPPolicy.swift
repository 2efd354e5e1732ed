import CZeroMQ
import Foundation

/// One ZAP request (RFC 27, zeromq.org/spec/27) as the handler's REP socket receives it.
struct ZAPRequest: Equatable {
    var version: String
    var requestID: Data
    var domain: String
    var address: String
    var routingID: Data
    var mechanism: String
    /// CURVE: one frame, the client's 32-byte long-term public key. NULL: none.
    var credentials: [Data]

    /// nil when there are fewer than the six fixed frames.
    init?(frames: [Data]) {
        guard frames.count >= 6 else { return nil }
        version = String(decoding: frames[0], as: UTF8.self)
        requestID = frames[1]
        domain = String(decoding: frames[2], as: UTF8.self)
        address = String(decoding: frames[3], as: UTF8.self)
        routingID = frames[4]
        mechanism = String(decoding: frames[5], as: UTF8.self)
        credentials = Array(frames[6...])
    }
}

/// The handler's answer. libzmq reads exactly these six frames.
struct ZAPReply: Equatable {
    enum Status: String {
        case ok = "200"
        case denied = "400"
        case internalError = "500"
    }

    var requestID: Data
    var status: Status
    /// For a refusal, the reason an operator reads; libzmq only tells the client the code.
    var text: String
    /// Becomes the connection's "User-Id" message property.
    var userID: String

    var frames: [Data] {
        [Data("1.0".utf8), requestID, Data(status.rawValue.utf8), Data(text.utf8), Data(userID.utf8), Data()]
    }
}

/// Who gets in: CURVE clients whose key is allowlisted, plus plaintext (NULL) clients when the
/// channel runs in explicit lab mode. A pure value, so the rules are testable without sockets.
struct ZAPPolicy: Sendable {
    var allowlist: CurveAllowlist
    var allowPlaintextForLab: Bool

    func answer(_ frames: [Data]) -> ZAPReply {
        guard let request = ZAPRequest(frames: frames), request.version == "1.0" else {
            let requestID = frames.count > 1 ? frames[1] : Data()
            return ZAPReply(requestID: requestID, status: .internalError,
                            text: "malformed ZAP request (\(frames.count) frames)", userID: "")
        }
        func deny(_ why: String) -> ZAPReply {
            let domain = request.domain.isEmpty ? "" : " (ZAP domain \"\(request.domain)\")"
            return ZAPReply(requestID: request.requestID, status: .denied,
                            text: "refused \(request.mechanism) client at \(request.address)\(domain): \(why)", userID: "")
        }
        switch request.mechanism {
        case "CURVE":
            guard request.credentials.count == 1, request.credentials[0].count == CurveKey.byteCount else {
                return deny("malformed credentials (expected one 32-byte public key)")
            }
            let key = request.credentials[0]
            guard let name = allowlist.name(ofKey: key) else {
                return deny("public key \(Self.z85(key)) is not in the allowlist; add it to admit this agent")
            }
            return ZAPReply(requestID: request.requestID, status: .ok, text: "OK", userID: name)
        case "NULL" where allowPlaintextForLab:
            return ZAPReply(requestID: request.requestID, status: .ok, text: "OK (plaintext lab mode)", userID: "")
        case "NULL":
            return deny("this channel requires CurveZMQ; give the agent its keypair and the aggregator's public key (plaintext is accepted only in explicit lab mode)")
        default:
            return deny("only CURVE is accepted")
        }
    }

    private static func z85(_ key: Data) -> String {
        var text = [CChar](repeating: 0, count: CurveKey.textLength + 1)
        let ok = key.withUnsafeBytes { zmq_z85_encode(&text, $0.bindMemory(to: UInt8.self).baseAddress, key.count) } != nil
        return ok ? String(cString: text) : "(unencodable)"
    }
}
