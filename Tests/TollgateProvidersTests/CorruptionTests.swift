import Foundation
import Testing
import TollgateCore
@testable import TollgateProviders
import TestSupport

/// What a damaged connection or a buggy provider may do to a response must never crash
/// a tap or pass for a real count: the usage is either exactly right, missing, or comes
/// with a problem label. The one exception is damage inside the usage object itself (a
/// digit flipped in `"output_tokens":30` is a different, valid report no parser could
/// doubt), so those mutations are allowed any result but a crash.
@Suite struct CorruptionTests {
    @Test(arguments: TapFixture.all)
    func randomMutationsNeverPassForARealCount(fixture: TapFixture) throws {
        let original = try fixture.bytes()
        let spans = usageSpans(in: original)
        var random = SplitMix64(seed: 0x5EED_0000 &+ UInt64(original.count))
        for iteration in 0..<300 {
            // Positions are chosen in the original's coordinates and applied from the end,
            // so each one still names the byte it was chosen for.
            let positions = (0..<Int.random(in: 1...3, using: &random))
                .map { _ in Int.random(in: 0..<original.count, using: &random) }
                .sorted(by: >)
            var bytes = original
            for position in positions {
                switch Int.random(in: 0..<3, using: &random) {
                case 0: bytes[position] = UInt8.random(in: 0...255, using: &random)
                case 1: bytes.insert(UInt8.random(in: 0...255, using: &random), at: position)
                default: bytes.remove(at: position)
                }
            }
            let result = run(fixture, chunks: randomChunks(bytes, using: &random))
            let touchedUsage = positions.contains { position in spans.contains { $0.contains(position) } }
            if !touchedUsage && !isHonest(result, for: fixture) {
                Issue.record("\(fixture.name) iteration \(iteration), mutations at \(positions): \(result)")
                return
            }
        }
    }

    /// A response cut off at any byte, as when a client disconnects: thanks to taps being
    /// values, each prefix is read by finishing a copy of the tap fed so far.
    @Test(arguments: TapFixture.all)
    func everyTruncationIsHonest(fixture: TapFixture) throws {
        let bytes = try fixture.bytes()
        var tap = fixture.makeTap()
        for length in 0...bytes.count {
            var copy = tap
            let result = copy.finish()
            if !isHonest(result, for: fixture) {
                Issue.record("\(fixture.name) cut at \(length): \(result)")
                return
            }
            if length < bytes.count { tap.consume(bytes[length...length]) }
        }
    }

    @Test func garbageOfEveryKindFinishes() {
        var random = SplitMix64(seed: 42)
        let kinds = TapFixture.all.map(\.kind)
        for _ in 0..<200 {
            let garbage = (0..<Int.random(in: 0..<512, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            for kind in kinds {
                let result = run(TapFixture("garbage", kind, nil, characters: 0), chunks: randomChunks(garbage, using: &random))
                #expect(result.usage == nil || !result.problems.isEmpty)
            }
        }
    }

    private func isHonest(_ result: TapResult, for fixture: TapFixture) -> Bool {
        let known = Set(TapProblem.allCases.map(\.rawValue))
        guard result.problems.allSatisfy(known.contains) else { return false }
        guard let usage = result.usage else { return true }
        return usage.tokens == fixture.expected.usage?.tokens || !result.problems.isEmpty
    }

    private func randomChunks(_ bytes: [UInt8], using random: inout SplitMix64) -> [ArraySlice<UInt8>] {
        var chunks: [ArraySlice<UInt8>] = []
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + Int.random(in: 1...64, using: &random))
            chunks.append(bytes[start..<end])
            start = end
        }
        return chunks
    }

    /// Byte ranges of every non-null `"usage"` / `"usageMetadata"` member, from the key's
    /// opening quote to the object's closing brace.
    private func usageSpans(in bytes: [UInt8]) -> [ClosedRange<Int>] {
        var spans: [ClosedRange<Int>] = []
        for key in [#""usage""#, #""usageMetadata""#].map({ Array($0.utf8) }) {
            var index = 0
            while index + key.count <= bytes.count {
                defer { index += 1 }
                guard bytes[index..<index + key.count].elementsEqual(key) else { continue }
                var cursor = index + key.count
                while cursor < bytes.count, [UInt8(ascii: " "), UInt8(ascii: ":")].contains(bytes[cursor]) { cursor += 1 }
                guard cursor < bytes.count, bytes[cursor] == UInt8(ascii: "{"), let end = closingBrace(in: bytes, from: cursor) else { continue }
                spans.append(index...end)
            }
        }
        return spans
    }

    private func closingBrace(in bytes: [UInt8], from open: Int) -> Int? {
        var depth = 0, inString = false, escaped = false
        for index in open..<bytes.count {
            let byte = bytes[index]
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"): depth += 1
            case UInt8(ascii: "}"):
                depth -= 1
                if depth == 0 { return index }
            default: break
            }
        }
        return nil
    }
}

