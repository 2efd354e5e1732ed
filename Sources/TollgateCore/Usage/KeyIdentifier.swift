import Crypto
import Foundation

/// Turns an API key into what Tollgate may store: a keyed hash and a short hint.
///
/// The hash is keyed with the org secret so that a leaked report cannot be used to
/// confirm a guessed key; the hint (`openai:sk-…wxyz`) lets a human recognise their own key.
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

    /// `openai:sk-proj-…wxyz`: the provider (the same string sent to two providers is two
    /// credentials, and their hints must not read alike), the key's family prefix where it
    /// has a well-known one, and the last four characters. Nothing else of the key.
    public static func hint(for apiKey: String, provider: String) -> String {
        let tail = apiKey.suffix(4)
        guard apiKey.count >= 12 else { return "\(provider):…\(tail)" }
        return "\(provider):\(familyPrefix(of: apiKey))…\(tail)"
    }

    /// `sk-ant-`, `sk-proj-`, `sk-` or `AIza`; otherwise the first two characters.
    static func familyPrefix(of apiKey: String) -> String {
        if apiKey.hasPrefix("AIza") { return "AIza" }
        guard apiKey.hasPrefix("sk-") else { return String(apiKey.prefix(2)) }
        let family = apiKey.dropFirst(3).prefix { $0 != "-" }
        let isFamily = (2...8).contains(family.count) && family.allSatisfy { $0.isLowercase && $0.isASCII }
            && apiKey.dropFirst(3 + family.count).first == "-"
        return isFamily ? "sk-\(family)-" : "sk-"
    }
}
