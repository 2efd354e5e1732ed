@testable import TollgateAgent
import Testing

@Suite struct InjectedUsageChunkFilterTests {
    let stream = """
        data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}],"usage":null,"obfuscation":"x1"}

        data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}

        data: {"id":"c1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}

        data: [DONE]


        """

    /// What the provider sends without `include_usage`: no usage chunk, and no `usage` key.
    var expected: String {
        stream.replacingOccurrences(of: #"data: {"id":"c1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}"# + "\n\n", with: "")
            .replacingOccurrences(of: #","usage":null"#, with: "")
    }

    @Test func dropsTheUsageChunkAndTheNullUsageMembersAtEverySplit() {
        let bytes = Array(stream.utf8)
        for split in 0...bytes.count {
            var filter = InjectedUsageChunkFilter()
            let output = filter.filter(bytes[..<split]) + filter.filter(bytes[split...]) + filter.finish()
            #expect(String(decoding: output, as: UTF8.self) == expected, "split at \(split)")
            #expect(filter.droppedUsageChunks == 1)
        }
    }

    @Test func forwardsCompleteEventsAtOnce() {
        var filter = InjectedUsageChunkFilter()
        let first = "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\ndata: {\"choi"
        #expect(String(decoding: filter.filter(Array(first.utf8)), as: UTF8.self) == "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n")
    }

    @Test func aRunawayEventIsPassedThroughRatherThanHeld() {
        var filter = InjectedUsageChunkFilter()
        let huge = [UInt8](repeating: UInt8(ascii: "a"), count: InjectedUsageChunkFilter.maxPendingBytes + 1)
        #expect(filter.filter(huge).count == huge.count)
        #expect(filter.gaveUp)
    }

    /// Only the chunk's own member goes: text that looks like it stays, wherever it is, and
    /// the member goes whether it comes first, in the middle or last.
    @Test(arguments: [
        (#"data: {"usage":null,"choices":[]}"#, #"data: {"choices":[]}"#),
        (#"data: {"a":1,"usage":null,"b":2}"#, #"data: {"a":1,"b":2}"#),
        (#"data: {"a":1, "usage":null}"#, #"data: {"a":1}"#),
        (#"data: {"choices":[{"delta":{"content":"\"usage\":null,"}}],"usage":null}"#, #"data: {"choices":[{"delta":{"content":"\"usage\":null,"}}]}"#),
        (#"data: {"choices":[{"usage":null}]}"#, #"data: {"choices":[{"usage":null}]}"#),
        (#"data: {"usage":{"total_tokens":1},"choices":[{}]}"#, #"data: {"usage":{"total_tokens":1},"choices":[{}]}"#),
    ])
    func removesOnlyTheTopLevelNullUsageMember(event: String, expected: String) {
        var filter = InjectedUsageChunkFilter()
        let output = filter.filter(Array((event + "\n\n").utf8)) + filter.finish()
        #expect(String(decoding: output, as: UTF8.self) == expected + "\n\n")
    }
}
