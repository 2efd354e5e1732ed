import Foundation
import Testing
@testable import TollgateProviders
import TollgateCore

/// `JSONValue` reads the formats on every request's path; these pin down its leniency,
/// its strictness for token counts, and its scalar counting against `String`'s.
@Suite struct JSONValueTests {
    @Test func requestFieldsOfTheWrongShapeAreLostOneByOne() throws {
        let fields = try #require(RequestBodyFields(Array(
            #"{"model":7,"stream":true,"max_tokens":"many","stream_options":{"include_usage":true},"metadata":{"user_id":"u1"},"generationConfig":[1]}"#.utf8)))
        #expect(fields.model == nil)
        #expect(fields.stream == true)
        #expect(fields.maxTokens == nil)
        #expect(fields.includeUsage == true)
        #expect(fields.metadataUserID == "u1")
        #expect(fields.generationMaxOutputTokens == nil)
    }

    /// One pass takes each name's first member, as a lookup (and Foundation's decoder) does,
    /// and matches escaped keys by their text.
    @Test func onePassReadsTheFirstMemberOfEachNameAndEscapedKeys() throws {
        let object = try #require(JSONValue(parsing: Array(#"{"b":1,"a":2,"b":3,"\u0063":4,"zz":5}"#.utf8))?.object)
        var seen: [String] = []
        object.read(JSONKeys(["a", "b", "c"])) { index, value in seen.append("\(["a", "b", "c"][index])=\(value.int64 ?? -1)") }
        #expect(seen == ["b=1", "a=2", "c=4"])
    }

    @Test(arguments: [("\"flex\"", ServiceTier.flex), ("\"default\"", .standard), ("\"PRIORITY\"", .priority),
                      ("\"\\u0062atch\"", .batch), ("\"unheard\"", nil), ("7", nil)] as [(String, ServiceTier?)])
    func serviceTierIsReadFromBytesWithTheGeneralPathBehind(json: String, tier: ServiceTier?) throws {
        let value = try #require(JSONValue(parsing: Array(json.utf8)))
        #expect(value.serviceTier == tier)
    }

    @Test(arguments: ["", "[1]", "\"text\"", "{\"model\":", "{\"model\":\"a\"} x"])
    func aBodyThatIsNoObjectHasNoFields(text: String) {
        #expect(RequestBodyFields(Array(text.utf8)) == nil)
    }

    @Test(arguments: ["plain", "", "caf\u{E9} \u{1F600} 漢字", "esc \\\"q\\\" \\n \\\\", "\\u00e9\\ud83d\\ude00x", "a\\/b"])
    func meteredLengthCountsScalarsAsStringDoes(raw: String) throws {
        let value = try #require(JSONValue(parsing: Array("\"\(raw)\"".utf8)))
        let decoded = try #require(value.string)
        #expect(value.meteredLength == decoded.unicodeScalars.count)
    }

    @Test func countsMustBeIntegersWhenPresent() throws {
        let object = try #require(JSONValue(parsing: Array(#"{"a":3,"b":null,"c":"3","d":1.5,"e":2e1}"#.utf8))?.object)
        #expect(try object.count("a") == 3)
        #expect(try object.count("b") == nil)
        #expect(try object.count("missing") == nil)
        #expect(try object.count("e") == 20)
        #expect(throws: JSONShapeError.self) { try object.count("c") }
        #expect(throws: JSONShapeError.self) { try object.count("d") }
    }

    @Test func aMalformedUsageObjectMakesTheChunkUnreadable() {
        #expect(OpenAIChoicesBody(Array(#"{"usage":{"prompt_tokens":"12"}}"#.utf8)) == nil)
        #expect(OpenAIChoicesBody(Array(#"{"usage":[]}"#.utf8)) == nil)
        #expect(OpenAIChoicesBody(Array(#"{"usage":null,"choices":[{"delta":{"content":"hé"}}]}"#.utf8))?.outputCharacters == 2)
    }

    @Test func choicesCountOnlyWhenEveryChoiceIsAnObject() {
        let text = #"{"choices":[{"message":{"content":"abc","tool_calls":[{"function":{"arguments":"{}"}}]}},{"text":"de"}]}"#
        #expect(OpenAIChoicesBody(Array(text.utf8))?.outputCharacters == 7)
        #expect(OpenAIChoicesBody(Array(#"{"choices":[{"text":"de"},3]}"#.utf8))?.outputCharacters == 0)
    }
}
