import Crypto
import Foundation

/// Turns an API key into what Tollgate may store: a keyed hash and a short hint.
///
/// The hash is keyed with the org secret so that a leaked report cannot be used to
/// confirm a guessed key; the hint (`sk-…wxyz`) lets a human recognise their own key.
public struct KeyIdentifier: Sendable {
    private let secret: [UInt8]

    public init(orgSecret: [UInt8]) {
        secret = orgSecret
    }

    /// 128 bits of HMAC-SHA256, hex: collision-free for any real fleet, short in reports.
    public func keyID(for apiKey: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(apiKey.utf8), using: SymmetricKey(data: secret))
        let digits = Array("0123456789abcdef".utf8)
        var hex = [UInt8]()
        hex.reserveCapacity(32)
        for byte in mac.prefix(16) {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: hex, as: UTF8.self)
    }

    public static func hint(for apiKey: String) -> String {
        let tail = apiKey.suffix(4)
        guard apiKey.count >= 12 else { return "…\(tail)" }
        let head = apiKey.hasPrefix("sk-") ? "sk-" : String(apiKey.prefix(2))
        return "\(head)…\(tail)"
    }
}
