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

    /// What the directory's key files look like from outside (name, inode, size, change
    /// time): the reload every few seconds reads and decodes the keys only when this changed.
    /// With 5,000 agents, reading every key each time was 2.6 % of the aggregator's CPU
    /// while ingesting; a `stat` per file is a small part of that.
    static func stamp(directory: String) throws -> [String: [Int]] {
        var stamps: [String: [Int]] = [:]
        for file in try FileManager.default.contentsOfDirectory(atPath: directory) where file.hasSuffix(".pub") {
            var info = stat()
            guard stat((directory as NSString).appendingPathComponent(file), &info) == 0 else {
                stamps[file] = []
                continue
            }
            stamps[file] = [Int(info.st_ino), Int(info.st_size), info.st_mtim.tv_sec, info.st_mtim.tv_nsec, info.st_ctim.tv_sec, info.st_ctim.tv_nsec]
        }
        return stamps
    }
}
