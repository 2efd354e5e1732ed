import Foundation
import Testing
@testable import TollgateWire

/// Lease messages on the usage channel: two frames that no batch or reply is mistaken for.
@Suite struct LeaseCodecTests {
    @Test func requestsAndGrantsRoundTrip() throws {
        let request = LeaseRequestMessage(agentID: "a1", budgetID: "ml-daily", windowStart: 1_795_392_000, leaseID: 7, need: 2_400_000,
                                          want: 19_200_000, unreflected: 300, release: false)
        let frames = try LeaseCodec.frames(request)
        #expect(LeaseCodec.isLease(frames))
        #expect(try LeaseCodec.decodeRequest(frames[1]) == request)
        let grant = LeaseGrantMessage(budgetID: "ml-daily", windowStart: 1_795_392_000, leaseID: 7, added: 100, total: 300,
                                      ttlMilliseconds: 5_000, refused: nil)
        #expect(try LeaseCodec.decodeGrant(try LeaseCodec.frames(grant)[1]) == grant)
        let refused = LeaseGrantMessage(budgetID: "ml-daily", windowStart: 0, leaseID: 0, added: 0, total: 0, ttlMilliseconds: 5_000,
                                        refused: .unknownAgent)
        #expect(try LeaseCodec.decodeGrant(try LeaseCodec.frames(refused)[1]).refused == .unknownAgent)
    }

    @Test func malformedInputIsRefusedWithAReason() throws {
        #expect(!LeaseCodec.isLease([Data("lease".utf8)]))
        #expect(!LeaseCodec.isLease([Data("batch".utf8), Data()]))
        #expect { try LeaseCodec.decodeRequest(Data(repeating: 0x0A, count: 2_000)) } throws: { "\($0)".contains("at most") }
        #expect { try LeaseCodec.decodeRequest(Data([0xFF, 0xFF])) } throws: { $0 is WireError }
        let anonymous = try LeaseCodec.frames(LeaseRequestMessage(agentID: "", budgetID: "b", windowStart: 0))
        #expect { try LeaseCodec.decodeRequest(anonymous[1]) } throws: { "\($0)".contains("without an agent id") }
        let negative = try LeaseCodec.frames(LeaseRequestMessage(agentID: "a", budgetID: "b", windowStart: 0, need: -1))
        #expect { try LeaseCodec.decodeRequest(negative[1]) } throws: { "\($0)".contains("negative") }
    }
}
