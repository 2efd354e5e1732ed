/// A 64-byte stand-in for Tollgate's fixed-size usage record (time, dimension ids, token
/// counts, cost, flags): eight Int64 fields, so moving one copies a full cache line.
struct Record: Sendable {
    var unixTime: Int64 = 0
    var keyID: Int64 = 0
    var modelID: Int64 = 0
    var inputTokens: Int64 = 0
    var outputTokens: Int64 = 0
    var cachedTokens: Int64 = 0
    var costNanodollars: Int64 = 0
    var flags: Int64 = 0

    /// A record that encodes who produced it and in which order, so the consumer can check
    /// both, and a checksum over all eight fields can prove nothing was torn.
    init(producer: Int, sequence: Int) {
        unixTime = 1_700_000_000 &+ Int64(sequence)
        keyID = Int64(producer)
        modelID = Int64(producer &* 7)
        inputTokens = Int64(sequence)
        outputTokens = Int64(sequence &* 3)
        cachedTokens = Int64(sequence & 0xff)
        costNanodollars = Int64(sequence) &* 1_000 &+ Int64(producer)
        flags = Int64(producer &+ sequence) & 0xf
    }

    init() {}

    var checksum: Int64 {
        unixTime &+ keyID &* 31 &+ modelID &* 17 &+ inputTokens &* 5
            &+ outputTokens &+ cachedTokens &* 3 &+ costNanodollars &+ flags &* 11
    }

    static func expectedChecksum(producer: Int, events: Int) -> Int64 {
        var sum: Int64 = 0
        for sequence in 0..<events {
            sum &+= Record(producer: producer, sequence: sequence).checksum
        }
        return sum
    }
}
