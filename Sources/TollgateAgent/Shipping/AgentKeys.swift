import Foundation
import TollgateWire

/// The agent's own CurveZMQ keypair, created on first start so installing an agent needs
/// no key ceremony: the operator copies the public half (`tollgate-agent key`) into the
/// aggregator's authorized_keys_dir.
public enum AgentKeys {
    public static func loadOrCreate(secretKeyFile path: String) throws -> CurveKeyPair {
        if FileManager.default.fileExists(atPath: path) { return try CurveKeyPair(secretKeyFile: path) }
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let keyPair = try CurveKeyPair.generate()
        try keyPair.write(secretKeyTo: path, publicKeyTo: path + ".pub")
        return keyPair
    }
}
