import Foundation
import Testing
import TollgateWire
@testable import TollgateAggregator

/// The allowlist is re-read only when its stamp changes: every change an operator makes to a
/// key file must change it, and nothing else may.
@Suite struct AuthorizedAgentsTests {
    @Test func theStampChangesWithEveryKeyFileChangeAndOnlyThen() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("agents-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try CurveKeyPair.generate(), second = try CurveKeyPair.generate()
        try first.publicKey.write(toFile: directory + "/runner-1.pub", atomically: false, encoding: .utf8)
        let start = try AuthorizedAgents.stamp(directory: directory)
        #expect(try AuthorizedAgents.stamp(directory: directory) == start)
        // Files that are not keys do not count.
        try "notes".write(toFile: directory + "/README", atomically: false, encoding: .utf8)
        #expect(try AuthorizedAgents.stamp(directory: directory) == start)

        // A key added.
        try second.publicKey.write(toFile: directory + "/runner-2.pub", atomically: false, encoding: .utf8)
        let added = try AuthorizedAgents.stamp(directory: directory)
        #expect(added != start)
        // A key rewritten in place, same length (a rotated key): the change time moves.
        Thread.sleep(forTimeInterval: 0.01)
        try first.publicKey.write(toFile: directory + "/runner-2.pub", atomically: false, encoding: .utf8)
        let rotated = try AuthorizedAgents.stamp(directory: directory)
        #expect(rotated != added)
        // Replaced by a rename (how editors and config tools write): a new inode.
        try second.publicKey.write(toFile: directory + "/runner-2.pub", atomically: true, encoding: .utf8)
        let renamed = try AuthorizedAgents.stamp(directory: directory)
        #expect(renamed != rotated)
        // A key removed.
        try FileManager.default.removeItem(atPath: directory + "/runner-1.pub")
        let removed = try AuthorizedAgents.stamp(directory: directory)
        #expect(removed != renamed)
        #expect(removed.keys.sorted() == ["runner-2.pub"])
    }
}
