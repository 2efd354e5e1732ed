import Foundation
import Logging

/// A bearer token of the HTTP API.
///
/// Two kinds: the **admin** token (`api_token_file`, default `<data_dir>/api-token`) is
/// accepted everywhere; the **read** token (`api_read_token_file`, default
/// `<data_dir>/api-read-token`) only for reading (GET). Each is created on first start
/// (32 random bytes as hex, mode 0600) so a fresh install is never open, and so a
/// dashboard or a FinOps script can read spend without being able to change a budget.
public struct APIToken: Sendable {
    /// What a token may do; also who acted, in the audit log.
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case admin, read

        /// The config key naming its file, and the file's name under `data_dir`.
        var configKey: String { self == .admin ? "api_token_file" : "api_read_token_file" }
        var defaultName: String { self == .admin ? "api-token" : "api-read-token" }
    }

    let value: String
    public let kind: Kind

    public init(_ value: String, kind: Kind = .admin) {
        self.value = value
        self.kind = kind
    }

    public static func defaultPath(dataDirectory: String, kind: Kind = .admin) -> String {
        (dataDirectory as NSString).appendingPathComponent(kind.defaultName)
    }

    public static func loadOrCreate(file configured: String?, dataDirectory: String, kind: Kind = .admin, logger: Logger) throws -> APIToken {
        if let configured {
            guard let token = read(configured) else {
                throw ConfigTokenError("config key '\(kind.configKey)' names \(configured), which is not a readable, non-empty file; "
                    + "create it (e.g. `head -c 32 /dev/urandom | xxd -p -c 64 > \(configured)`) or remove the key to use <data_dir>/\(kind.defaultName)")
            }
            return APIToken(token, kind: kind)
        }
        let path = defaultPath(dataDirectory: dataDirectory, kind: kind)
        if let token = read(path) { return APIToken(token, kind: kind) }
        var generator = SystemRandomNumberGenerator()
        let token = (0..<32).map { _ in
            let byte = UInt8.random(in: 0...255, using: &generator)
            return (byte < 16 ? "0" : "") + String(byte, radix: 16)
        }.joined()
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        // Created 0600 by open(2) itself, so the secret is never readable by others, not even briefly.
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else {
            throw ConfigTokenError("cannot create the API token file \(path) (errno \(errno)); check that data_dir is writable, or set \(kind.configKey)")
        }
        let bytes = Array((token + "\n").utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        let synced = fsync(descriptor)
        close(descriptor)
        guard written == bytes.count, synced == 0 else {
            unlink(path)
            throw ConfigTokenError("cannot write the API token file \(path); check free disk space, or set \(kind.configKey)")
        }
        logger.notice("created the \(kind == .admin ? "admin" : "read-only") API token in \(path) (mode 0600); the tollgate CLI reads it with --token-file or TOLLGATE_TOKEN")
        return APIToken(token, kind: kind)
    }

    /// Whether an `Authorization` header carries this token; compares in constant time.
    func accepts(authorization: String?) -> Bool {
        guard let authorization, authorization.hasPrefix("Bearer ") else { return false }
        let offered = Array(authorization.dropFirst("Bearer ".count).trimmingCharacters(in: .whitespaces).utf8)
        let expected = Array(value.utf8)
        guard offered.count == expected.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(offered, expected) { difference |= a ^ b }
        return difference == 0
    }

    private static func read(_ path: String) -> String? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return token.isEmpty ? nil : token
    }
}

public struct ConfigTokenError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
