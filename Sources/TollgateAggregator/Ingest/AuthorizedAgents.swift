import Foundation
import TollgateWire

/// The agents allowed to ship usage: every `<name>.pub` file in a directory, each holding
/// one CurveZMQ public key (as `tollgate-agent key` prints it). The file name is the
/// agent's name in logs.
enum AuthorizedAgents {
    static func load(directory: String) throws -> CurveAllowlist {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".pub") }.sorted()
        var keys: [String: String] = [:]
        for file in names {
            keys[String(file.dropLast(".pub".count))] = try CurveKeyPair.readPublicKey(file: (directory as NSString).appendingPathComponent(file))
        }
        return try CurveAllowlist(keys)
    }
}
