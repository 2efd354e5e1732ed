import Testing
@testable import TollgateProviders

@Suite struct JSONArrayStreamSplitterTests {
    private func split(_ chunks: [String], maxElementBytes: Int = JSONArrayStreamSplitter.defaultMaxElementBytes) -> ([String], JSONArrayStreamSplitter) {
        var splitter = JSONArrayStreamSplitter(maxElementBytes: maxElementBytes)
        var elements: [String] = []
        for chunk in chunks {
            elements += splitter.feed(Array(chunk.utf8)).map { String(decoding: $0, as: UTF8.self) }
        }
        return (elements, splitter)
    }

    @Test func splitsElementsAsTheyClose() {
        var splitter = JSONArrayStreamSplitter()
        #expect(splitter.feed(Array("[{\"a\":1}\r\n,\r\n{\"b\":".utf8)).map { String(decoding: $0, as: UTF8.self) } == ["{\"a\":1}"])
        #expect(splitter.hasPartialElement)
        #expect(splitter.feed(Array("[2]}\r\n]".utf8)).map { String(decoding: $0, as: UTF8.self) } == ["{\"b\":[2]}"])
        #expect(splitter.isComplete)
    }

    @Test func bracketsQuotesAndEscapesInsideStringsDoNotCount() {
        let element = #"{"text":"a } ] \" \\ { [ ","n":{"m":[1,{"k":"]"}]}}"#
        let (elements, splitter) = split(["[", element, ",", element, "]"])
        #expect(elements == [element, element])
        #expect(splitter.isComplete)
        #expect(splitter.unexpectedByteRuns == 0)
    }

    @Test func everyByteBoundaryGivesTheSameElements() {
        let text = #"[{"x":"\\\"}"}, {"y":[{}]} ]"#
        let bytes = Array(text.utf8)
        for cut in 0...bytes.count {
            let (elements, splitter) = split([String(decoding: bytes[..<cut], as: UTF8.self), String(decoding: bytes[cut...], as: UTF8.self)])
            #expect(elements == [#"{"x":"\\\"}"}"#, #"{"y":[{}]}"#], "cut at \(cut)")
            #expect(splitter.isComplete)
        }
    }

    @Test func anUnclosedArrayIsIncomplete() {
        let (elements, splitter) = split(["[{\"a\":1},{\"b\""])
        #expect(elements == ["{\"a\":1}"])
        #expect(!splitter.isComplete)
        #expect(splitter.hasPartialElement)
    }

    @Test func garbageBetweenElementsIsCountedAndSkipped() {
        let (elements, splitter) = split(["[{\"a\":1} junk, {\"b\":2}] trailing"])
        #expect(elements == ["{\"a\":1}", "{\"b\":2}"])
        #expect(splitter.unexpectedByteRuns == 2)
    }

    @Test func anOversizedElementIsDroppedAndCounted() {
        let big = "{\"t\":\"" + String(repeating: "z", count: 200) + "\"}"
        let (elements, splitter) = split(["[", big, ",{\"ok\":true}]"], maxElementBytes: 64)
        #expect(elements == ["{\"ok\":true}"])
        #expect(splitter.oversizedElements == 1)
        #expect(splitter.isComplete)
    }
}
