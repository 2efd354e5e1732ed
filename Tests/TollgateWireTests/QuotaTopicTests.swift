import Foundation
import Testing
import TollgateCore
import TollgateWire

/// The quota channel's topics: what each subscription reads as, and that a broadcast's
/// first byte is the one broadcast subscribers ask for.
struct QuotaTopicTests {
    @Test(arguments: [QuotaTopic.broadcast, .everything, .agent("a1"), .agent("0b4f…-uuid")])
    func aTopicReadsBackFromItsSubscription(_ topic: QuotaTopic) {
        #expect(QuotaTopic(subscription: topic.bytes) == topic)
    }

    @Test func anAgentsTopicIsNotAPrefixOfAnothers() {
        #expect(!QuotaTopic.agent("a10").bytes.starts(with: QuotaTopic.agent("a1").bytes))
        #expect(!QuotaTopic.agent("a1").bytes.starts(with: QuotaTopic.broadcast.bytes))
    }

    @Test(arguments: [Data("agent/a1".utf8), Data("agent/\0".utf8), Data("x".utf8)])
    func aSubscriptionNoAgentSendsIsNotATopic(_ bytes: Data) {
        #expect(QuotaTopic(subscription: bytes) == nil)
    }

    @Test func everyEncodedUpdateStartsWithTheBroadcastPrefix() throws {
        for version: UInt64 in [1, 2, 300, .max] {
            let data = try QuotaUpdateCodec.encode(QuotaUpdateMessage(version: version, isSnapshot: version == 1, budgets: [],
                                                                      issuedAtMilliseconds: 0, watermarks: ["a": 1]))
            #expect(data.starts(with: QuotaTopic.broadcast.bytes))
        }
    }
}
