import Testing
@testable import TollgateProviders

@Suite struct SSEParserTests {
    private func parse(_ chunks: [[UInt8]], maxEventBytes: Int = SSEParser.defaultMaxEventBytes) -> (events: [ServerSentEvent], parser: SSEParser) {
        var parser = SSEParser(maxEventBytes: maxEventBytes)
        var events: [ServerSentEvent] = []
        for chunk in chunks { events += parser.feed(chunk) }
        events += parser.finish()
        return (events, parser)
    }

    private func parse(_ text: String) -> [ServerSentEvent] { parse([Array(text.utf8)]).events }

    @Test func readsEventNamesAndData() {
        #expect(parse("event: ping\ndata: {\"type\":\"ping\"}\n\ndata: plain\n\n") == [
            ServerSentEvent(event: "ping", data: "{\"type\":\"ping\"}"),
            ServerSentEvent(data: "plain"),
        ])
    }

    @Test(arguments: ["\n", "\r", "\r\n"])
    func acceptsEveryLineEnding(ending: String) {
        let text = ["event: a", "data: 1", "", "data: 2", "", ""].joined(separator: ending)
        #expect(parse(text) == [ServerSentEvent(event: "a", data: "1"), ServerSentEvent(data: "2")])
    }

    @Test func aCRLFSplitAcrossChunksIsOneLineEnding() {
        let first = Array("data: a\r".utf8), second = Array("\n\r".utf8), third = Array("\ndata: b\r\n\r\n".utf8)
        let (events, _) = parse([first, second, third])
        #expect(events == [ServerSentEvent(data: "a"), ServerSentEvent(data: "b")])
    }

    @Test func joinsMultiLineDataAndSkipsComments() {
        let text = ": keep-alive\ndata: first\n: in between\ndata:second\ndata\nid: 7\nretry: 10\n\n"
        #expect(parse(text) == [ServerSentEvent(data: "first\nsecond\n")])
    }

    @Test func onlyOneLeadingSpaceIsStripped() {
        #expect(parse("data:  two spaces\n\n") == [ServerSentEvent(data: " two spaces")])
    }

    @Test func eventsWithoutDataAreNotDispatched() {
        #expect(parse("event: lonely\n\n: only a comment\n\n\n\n").isEmpty)
    }

    @Test func skipsALeadingBOMEvenSplitAcrossChunks() {
        let (events, _) = parse([[0xEF], [0xBB], [0xBF] + Array("data: x\n\n".utf8)])
        #expect(events == [ServerSentEvent(data: "x")])
    }

    @Test func aPartialBOMIsContentNotDropped() {
        let (events, parser) = parse([[0xEF, 0xBB] + Array("data: x\n\n".utf8)])
        // "\u{EF}\u{BB}data" is a field named with invalid UTF-8, which is no field at all.
        #expect(events.isEmpty)
        #expect(parser.invalidUTF8Events == 0)
    }

    @Test func aLastEventWithoutItsBlankLineIsStillRead() {
        #expect(parse("data: {\"usage\":1}") == [ServerSentEvent(data: "{\"usage\":1}")])
        #expect(parse("data: {\"usage\":1}\n") == [ServerSentEvent(data: "{\"usage\":1}")])
    }

    @Test func anOversizedEventIsDroppedCountedAndTheNextOneRead() {
        let big = "data: " + String(repeating: "x", count: 300) + "\ndata: more\n\n"
        let (events, parser) = parse([Array((big + "data: small\n\n").utf8)], maxEventBytes: 100)
        #expect(events == [ServerSentEvent(data: "small")])
        #expect(parser.oversizedEvents == 1)
    }

    @Test func anOversizedEventIsDroppedWhateverTheChunking() {
        let text = Array(("data: " + String(repeating: "y", count: 150) + "\n\ndata: ok\n\n").utf8)
        let (events, parser) = parse(text.map { [$0] }, maxEventBytes: 64)
        #expect(events == [ServerSentEvent(data: "ok")])
        #expect(parser.oversizedEvents == 1)
    }

    @Test func invalidUTF8IsDecodedLossilyAndCounted() {
        let bytes = Array("data: caf".utf8) + [0xC3] + Array("\n\ndata: fine\n\n".utf8)
        let (events, parser) = parse([bytes])
        #expect(events == [ServerSentEvent(data: "caf\u{FFFD}"), ServerSentEvent(data: "fine")])
        #expect(parser.invalidUTF8Events == 1)
    }

    @Test func multiByteCharactersSplitAcrossChunksSurvive() {
        let bytes = Array("data: 🍂\n\n".utf8)
        let (events, parser) = parse(bytes.map { [$0] })
        #expect(events == [ServerSentEvent(data: "🍂")])
        #expect(parser.invalidUTF8Events == 0)
    }
}
