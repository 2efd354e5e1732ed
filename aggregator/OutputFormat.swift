import ArgumentParser
import Foundation

/// How a command prints: aligned tables for people, JSON for machines.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable { case table, json }

func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}
