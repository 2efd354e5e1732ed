import CZeroMQ
import Foundation

/// Why a CurveZMQ key or key file could not be used. Messages name the key and the fix; they
/// never include a secret key's text.
public enum CurveKeyError: Error, CustomStringConvertible, Equatable {
    /// This libzmq was built without CURVE (libsodium).
    case curveUnavailable
    /// `label` names the key ("the client's secret key", "line 3 of /etc/tollgate/agent.key").
    case notZ85Key(label: String, problem: String)
    case unreadableFile(path: String, reason: String)
    case noKeyInFile(path: String)
    case severalKeysInFile(path: String)
    case fileExists(path: String)
    case cannotWriteFile(path: String, reason: String)
    case duplicateAllowlistKey(names: [String])
    case emptyAllowlistName

    public var description: String {
        switch self {
        case .curveUnavailable:
            "this libzmq was built without CURVE support (libsodium); install one that has it (Debian's libzmq5 does)"
        case .notZ85Key(let label, let problem):
            "\(label) is not a Z85 CurveZMQ key (40 characters): \(problem); generate one with `tollgate keygen`"
        case .unreadableFile(let path, let reason):
            "cannot read key file \(path): \(reason)"
        case .noKeyInFile(let path):
            "key file \(path) holds no key: expected one line of 40 Z85 characters (lines starting with # are comments); generate one with `tollgate keygen`"
        case .severalKeysInFile(let path):
            "key file \(path) holds more than one key line; keep exactly one"
        case .fileExists(let path):
            "\(path) already exists; refusing to overwrite a key file (move it away first if you mean to replace the key)"
        case .cannotWriteFile(let path, let reason):
            "cannot write key file \(path): \(reason)"
        case .duplicateAllowlistKey(let names):
            "allowlist entries \(names.joined(separator: ", ")) have the same public key; give each agent its own keypair (`tollgate keygen`)"
        case .emptyAllowlistName:
            "an allowlist entry has an empty name; name every agent key (the name becomes the connection's User-Id)"
        }
    }
}

/// Z85 key text ↔ the 32 raw bytes libzmq and ZAP use.
enum CurveKey {
    static let textLength = 40
    static let byteCount = 32
    private static let alphabet = Set(
        "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#".utf8)

    /// The key's 32 bytes, or a `notZ85Key` error that says what is wrong with it.
    static func decode(_ text: String, label: String) throws -> Data {
        let utf8 = Array(text.utf8)
        guard utf8.count == textLength else {
            let stray = text.contains(where: \.isWhitespace) ? " (stray whitespace?)" : ""
            throw CurveKeyError.notZ85Key(label: label, problem: "it has \(text.count) characters\(stray)")
        }
        // Checked here, not left to zmq_z85_decode: that reads up to the first NUL, so a key with
        // an embedded NUL would decode "successfully" to fewer than 32 bytes.
        guard utf8.allSatisfy(alphabet.contains) else {
            throw CurveKeyError.notZ85Key(label: label, problem: "it has characters outside the Z85 alphabet")
        }
        var bytes = [UInt8](repeating: 0, count: byteCount)
        guard zmq_z85_decode(&bytes, text) != nil else {
            throw CurveKeyError.notZ85Key(label: label, problem: "it does not decode to 32 bytes")
        }
        return Data(bytes)
    }
}

/// A CurveZMQ keypair as Z85 text, the form operators copy between files and configs.
///
/// Key files are tiny text files holding one line with the 40-character Z85 key, plus any blank
/// lines and comment lines (starting with `#`). A secret key file holds the secret key (its
/// public key is derived from it); a public key file holds a public key, for the aggregator's
/// allowlist or an agent's copy of the aggregator's key.
public struct CurveKeyPair: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    public let publicKey: String
    public let secretKey: String

    /// Whether this libzmq can do CURVE at all (`zmq_has("curve")`).
    public static var isAvailable: Bool { zmq_has("curve") != 0 }

    /// The keypair of a secret key; the public key is derived from it.
    public init(secretKey: String) throws {
        publicKey = try Self.publicKey(fromSecret: secretKey)
        self.secretKey = secretKey
    }

    private init(publicKey: String, secretKey: String) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// A fresh random keypair (`zmq_curve_keypair`).
    public static func generate() throws -> CurveKeyPair {
        var publicText = [CChar](repeating: 0, count: CurveKey.textLength + 1)
        var secretText = [CChar](repeating: 0, count: CurveKey.textLength + 1)
        guard zmq_curve_keypair(&publicText, &secretText) == 0 else {
            throw isAvailable ? ZMQError("zmq_curve_keypair") : CurveKeyError.curveUnavailable
        }
        return CurveKeyPair(publicKey: String(cString: publicText), secretKey: String(cString: secretText))
    }

    /// The public key belonging to `secretKey` (`zmq_curve_public`).
    public static func publicKey(fromSecret secretKey: String) throws -> String {
        // zmq_curve_public does not check its input decodes, so validate first.
        _ = try CurveKey.decode(secretKey, label: "the secret key")
        var publicText = [CChar](repeating: 0, count: CurveKey.textLength + 1)
        guard zmq_curve_public(&publicText, secretKey) == 0 else {
            throw isAvailable ? ZMQError("zmq_curve_public") : CurveKeyError.curveUnavailable
        }
        return String(cString: publicText)
    }

    /// Throws `CurveKeyError.notZ85Key` unless `key` is 40 Z85 characters that decode to 32 bytes.
    /// `label` names the key in the message ("the aggregator's public key").
    public static func validate(_ key: String, label: String = "the key") throws {
        _ = try CurveKey.decode(key, label: label)
    }

    // MARK: Key files

    /// Loads the keypair from a secret key file (see the type's documentation for the format).
    public init(secretKeyFile path: String) throws {
        try self.init(secretKey: Self.readKey(file: path))
    }

    /// Reads a public key file: the allowlist entry of an agent, or the aggregator's key.
    public static func readPublicKey(file path: String) throws -> String {
        try readKey(file: path)
    }

    /// Writes the secret key file (mode 0600) and the public key file (mode 0644). Refuses to
    /// overwrite either: replacing a key by accident would lock agents out.
    public func write(secretKeyTo secretPath: String, publicKeyTo publicPath: String) throws {
        for path in [secretPath, publicPath] where FileManager.default.fileExists(atPath: path) {
            throw CurveKeyError.fileExists(path: path)
        }
        try Self.createFile(secretPath, mode: 0o600, text: """
            # Tollgate CurveZMQ secret key. Keep it private (mode 0600); never copy it off this host.
            # Its public key (safe to share): \(publicKey)
            \(secretKey)

            """)
        do {
            try Self.createFile(publicPath, mode: 0o644, text: """
                # Tollgate CurveZMQ public key. Safe to share: an agent's goes into the aggregator's
                # allowlist, the aggregator's into each agent's config.
                \(publicKey)

                """)
        } catch {
            // Half a keypair on disk would only confuse the next attempt.
            unlink(secretPath)
            throw error
        }
    }

    static func readKey(file path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = access(path, R_OK) == 0 ? "read failed" : String(cString: strerror(errno))
            throw CurveKeyError.unreadableFile(path: path, reason: reason)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw CurveKeyError.unreadableFile(path: path, reason: "not UTF-8 text")
        }
        return try keyLine(in: text, path: path)
    }

    static func keyLine(in text: String, path: String) throws -> String {
        var keys: [String] = []
        for (index, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            // `#` is a Z85 digit, but worth 84·85⁴ > 2³²: no valid key starts with it.
            if line.isEmpty || line.hasPrefix("#") { continue }
            _ = try CurveKey.decode(line, label: "line \(index + 1) of \(path)")
            keys.append(line)
        }
        guard keys.count <= 1 else { throw CurveKeyError.severalKeysInFile(path: path) }
        guard let key = keys.first else { throw CurveKeyError.noKeyInFile(path: path) }
        return key
    }

    private static func createFile(_ path: String, mode: mode_t, text: String) throws {
        // O_EXCL makes "never overwrite" atomic and refuses to follow a planted symlink.
        let fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode)
        guard fd >= 0 else {
            if errno == EEXIST { throw CurveKeyError.fileExists(path: path) }
            throw CurveKeyError.cannotWriteFile(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        do {
            // The umask can only clear bits; fchmod makes the mode exact (a 077 umask would
            // otherwise leave the public file 0600).
            guard fchmod(fd, mode) == 0 else { throw Self.writeError(path) }
            var bytes = Array(text.utf8)[...]
            while !bytes.isEmpty {
                let written = bytes.withUnsafeBytes { posixWrite(fd, $0.baseAddress, $0.count) }
                if written < 0 {
                    if errno == EINTR { continue }
                    throw Self.writeError(path)
                }
                bytes = bytes.dropFirst(written)
            }
            guard fsync(fd) == 0 else { throw Self.writeError(path) }
        } catch {
            unlink(path)
            throw error
        }
    }

    private static func writeError(_ path: String) -> CurveKeyError {
        .cannotWriteFile(path: path, reason: String(cString: strerror(errno)))
    }

    /// Only the public key: a keypair printed into a log must not leak the secret.
    public var description: String { "CurveKeyPair(public: \(publicKey))" }
    public var debugDescription: String { description }
}

/// `write(2)`, reachable from inside `CurveKeyPair` whose own `write(secretKeyTo:publicKeyTo:)`
/// would otherwise shadow it.
private func posixWrite(_ fd: Int32, _ bytes: UnsafeRawPointer?, _ count: Int) -> Int {
    write(fd, bytes, count)
}
