import TestSupport

/// A line of a generated message (written with the line ending a test picks) or raw bytes.
enum HTTPWirePart {
    case line(String)
    case bytes([UInt8])
}

extension [HTTPWirePart] {
    func wire(lineEnding: String) -> [UInt8] {
        flatMap { part -> [UInt8] in
            switch part {
            case .line(let line): [UInt8]((line + lineEnding).utf8)
            case .bytes(let bytes): bytes
            }
        }
    }
}

extension String {
    /// A field value as NIO's decoders give it, without the trailing whitespace they keep
    /// (it is not part of the value, RFC 9110 §5.5), so it compares with the framers'.
    var withoutTrailingWhitespace: String {
        String(reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}

/// What the request and response generators share: choices, field spellings, payloads,
/// chunked framing and how a connection splits its bytes into reads.
protocol HTTPWireGenerating {
    var rng: SplitMix64 { get set }
}

extension HTTPWireGenerating {
    mutating func chance(_ probability: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < probability }
    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
    mutating func pick<T>(_ choices: [T]) -> T { choices.randomElement(using: &rng)! }

    /// `name: value` with the name in some case and optional whitespace around the value.
    mutating func field(_ name: String, _ value: String) -> String {
        let spelled = switch int(0...3) {
        case 0: name.uppercased()
        case 1: name.split(separator: "-").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined(separator: "-")
        default: name
        }
        // llhttp refuses a content-length, and misses "close" or "chunked", followed by a tab,
        // which RFC 9110 allows; those fields get only trailing spaces.
        let trailing = ["content-length", "connection", "transfer-encoding"].contains(name)
            ? pick(["", "", " ", "  "]) : pick(["", "", " ", "\t", " \t "])
        return spelled + ":" + pick(["", " ", " ", "  ", "\t", " \t"]) + value + trailing
    }

    mutating func randomPayload() -> [UInt8] {
        let count = chance(0.1) ? 0 : chance(0.1) ? int(2000...9000) : int(1...400)
        var payload = (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
        // Bytes that look like framing must still count as payload.
        if count > 20 && chance(0.3) {
            let decoy = Array("\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n\r\n".utf8)
            let at = int(0...(count - min(count, decoy.count)))
            payload.replaceSubrange(at..<min(count, at + decoy.count), with: decoy.prefix(count - at))
        }
        return payload
    }

    mutating func chunked(_ payload: [UInt8]) -> [HTTPWirePart] {
        var parts: [HTTPWirePart] = []
        var start = 0
        let largest = pick([1, 16, 300, 5000])
        // Few enough extensions to stay under the framer's limit on them even with 1-byte chunks.
        var extensions = 50
        func sizeLine(_ size: String) -> String {
            let ext = extensions > 0 ? chunkExtension() : ""
            if !ext.isEmpty { extensions -= 1 }
            return size + ext
        }
        while start < payload.count {
            let size = min(payload.count - start, int(1...largest))
            parts += [.line(sizeLine(chunkSize(size))), .bytes(Array(payload[start..<start + size])), .line("")]
            start += size
        }
        parts.append(.line(sizeLine(pick(["0", "0", "00"]))))
        if chance(0.2) {
            for index in 0..<int(1...2) { parts.append(.line(field("x-trailer-\(index)", "v\(index)"))) }
        }
        parts.append(.line(""))
        return parts
    }

    mutating func chunkSize(_ size: Int) -> String {
        (chance(0.1) ? "0" : "") + String(size, radix: 16, uppercase: chance(0.3))
    }

    mutating func chunkExtension() -> String {
        guard chance(0.25) else { return "" }
        return pick([";name=value", ";n", ";a=1;b=2", ";q=\"quoted value\"", ";usage=\(int(1...999))"])
    }

    /// The bytes in the reads a connection might deliver them in: sometimes a byte at a time.
    mutating func split(_ bytes: [UInt8]) -> [[UInt8]] {
        if chance(0.1) { return bytes.map { [$0] } }
        let largest = pick([3, 16, 100, 1000, max(1, bytes.count)])
        var pieces: [[UInt8]] = []
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + int(1...largest))
            pieces.append(Array(bytes[start..<end]))
            start = end
        }
        return pieces
    }
}
