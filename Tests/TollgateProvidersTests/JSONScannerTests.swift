import Foundation
import Testing
@testable import TollgateProviders
import TestSupport

/// The meter reads JSON with `JSONScanner` (through `JSONValue`) for speed; these tests
/// hold it to Foundation's `JSONDecoder` as the reference: on every fixture, every SSE event
/// in them, and thousands of corrupted copies, both must accept the same documents and read
/// the same values.
@Suite struct JSONScannerTests {
    /// Every JSON document in the fixtures: whole bodies, and the `data:` of each SSE event.
    static let documents: [String] = {
        let directory = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        var documents: [String] = []
        for name in names.sorted() {
            guard let text = try? String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8) else { continue }
            if name.hasSuffix(".sse") {
                documents += text.split(whereSeparator: \.isNewline)
                    .filter { $0.hasPrefix("data:") }
                    .map { String($0.dropFirst(5)).trimmingCharacters(in: .whitespaces) }
                    .filter { $0 != "[DONE]" }
            } else {
                documents.append(text)
            }
        }
        return documents
    }()

    @Test func thereAreFixturesToCompare() {
        #expect(Self.documents.count > 40)
    }

    @Test func readsEveryFixtureAsFoundationDoes() throws {
        for document in Self.documents {
            let bytes = Array(document.utf8)
            let reference = try JSONDecoder().decode(JSONTree.self, from: Data(bytes))
            #expect(JSONTree(scanning: bytes) == reference, "\(document.prefix(80))")
        }
    }

    @Test func agreesWithFoundationOnCorruptedDocuments() {
        var random = SplitMix64(seed: 0x4A53_4F4E)
        var disagreements = 0
        var rejected = 0
        for document in Self.documents {
            let original = Array(document.utf8)
            for _ in 0..<60 {
                var bytes = original
                for _ in 0..<Int.random(in: 1...3, using: &random) where !bytes.isEmpty {
                    let position = Int.random(in: 0..<bytes.count, using: &random)
                    switch Int.random(in: 0..<4, using: &random) {
                    case 0: bytes[position] = UInt8.random(in: 0...255, using: &random)
                    case 1: bytes.insert(Self.structural.randomElement(using: &random)!, at: position)
                    case 2: bytes.remove(at: position)
                    default: bytes.removeSubrange(position...)
                    }
                }
                let reference = try? JSONDecoder().decode(JSONTree.self, from: Data(bytes))
                let scanned = JSONTree(scanning: bytes)
                if reference == nil { rejected += 1 }
                if reference != scanned {
                    disagreements += 1
                    Issue.record("Foundation read \(String(describing: reference).prefix(60)), the scanner read \(String(describing: scanned).prefix(60)) for \(String(decoding: bytes, as: UTF8.self).prefix(120))")
                }
                if disagreements > 5 { return }
            }
        }
        // The mutations must have produced plenty of invalid documents for this to mean anything.
        #expect(rejected > Self.documents.count * 20)
    }

    /// Bytes whose insertion breaks structure in interesting ways.
    static let structural: [UInt8] = Array("{}[]\",:\\-.0e tfn\u{7F}".utf8) + [0x00, 0x0A, 0xC3, 0xE2, 0xF0, 0x80, 0xBF]

    @Test(arguments: [
        "", " ", "{", "}", "[,]", "[1,,]", "{,}", "{\"a\" 1}", "01", "1.", ".5", "-", "1e", "+1", "\"\\x\"", "\"\\u12\"",
        "\"\u{01}\"", "nul", "truex", "[1] [2]", "{\"a\":1}}", "\"\\ud800\"", "\"\\udc00x\"", "[\"\u{FF}\"]",
    ])
    func rejectsWhatFoundationRejects(text: String) {
        let bytes = text == "[\"\u{FF}\"]" ? Array("[\"".utf8) + [0xFF] + Array("\"]".utf8) : Array(text.utf8)
        #expect((try? JSONDecoder().decode(JSONTree.self, from: Data(bytes))) == nil)
        #expect(JSONTree(scanning: bytes) == nil)
    }

    @Test(arguments: [
        "0", "-0", "12", "[1,]", "{\"a\":1,}", "[[],{},]", "-9223372036854775808", "9223372036854775807", "9223372036854775808", "1.5", "12.0", "1e3", "2E-2",
        "\"caf\\u00e9 \\ud83d\\ude00 \\\"q\\\" \\\\ \\/ \\b\\f\\n\\r\\t\"", "\"\u{1F600}\"", "true", "false", "null",
        " [ 1 , [ ] , { } , \"x\" ] ", "{\"a\":{\"b\":[null,{\"c\":true}]},\"d\":-1.25e+2}", "{\"k\\u0065y\":1}", "\u{FEFF}[1]",
    ])
    func readsValuesAsFoundationDoes(text: String) throws {
        let bytes = Array(text.utf8)
        let reference = try JSONDecoder().decode(JSONTree.self, from: Data(bytes))
        #expect(JSONTree(scanning: bytes) == reference)
    }

    @Test func firstDuplicateKeyWinsAsInFoundationAndEscapedKeysMatch() throws {
        struct Fields: Decodable { var model: String?; var n: Int64? }
        let text = #"{"m\u006fdel":"a","model":"b","n":1}"#
        let object = try #require(JSONValue(parsing: Array(text.utf8))?.object)
        #expect(object.string("model") == "a")
        #expect(try JSONDecoder().decode(Fields.self, from: Data(text.utf8)).model == "a")
        #expect(object["n"]?.int64 == 1)
    }

    @Test func deepNestingIsRejectedNotACrash() {
        let deep = Array(repeating: UInt8(ascii: "["), count: 100_000) + Array(repeating: UInt8(ascii: "]"), count: 100_000)
        #expect(JSONTree(scanning: deep) == nil)
    }
}

/// Any JSON value: decoded by Foundation through the `Decoder` API, or read by `JSONValue`.
indirect enum JSONTree: Decodable, Equatable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONTree])
    case object([String: JSONTree])

    init(from decoder: Decoder) throws {
        let single = try decoder.singleValueContainer()
        if single.decodeNil() {
            self = .null
        } else if let value = try? single.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? single.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? single.decode(Double.self) {
            self = .number(value)
        } else if let value = try? single.decode(String.self) {
            self = .string(value)
        } else if let value = try? single.decode([JSONTree].self) {
            self = .array(value)
        } else {
            self = .object(try single.decode([String: JSONTree].self))
        }
    }

    /// Nil where Foundation throws: invalid JSON, or text that is not (a lone surrogate).
    init?(scanning bytes: [UInt8]) {
        guard let root = JSONValue(parsing: bytes) else { return nil }
        self.init(root)
    }

    init?(_ value: JSONValue) {
        switch value.span.kind {
        case .null: self = .null
        case .bool: self = .bool(value.bool!)
        case .number:
            if let integer = value.int64 {
                self = .integer(integer)
            } else if let number = value.double {
                self = .number(number)
            } else {
                return nil
            }
        case .string:
            guard let text = value.string else { return nil }
            self = .string(text)
        case .array:
            var elements: [JSONTree] = []
            for element in value.array! {
                guard let tree = JSONTree(element) else { return nil }
                elements.append(tree)
            }
            self = .array(elements)
        case .object:
            var members: [String: JSONTree] = [:]
            for (key, member) in value.object!.entries {
                guard let key, let tree = JSONTree(member) else { return nil }
                if members[key] == nil { members[key] = tree }  // the first one wins, as in Foundation
            }
            self = .object(members)
        }
    }
}
