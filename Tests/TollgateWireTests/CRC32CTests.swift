import Foundation
import Testing
@testable import TollgateWire
import TestSupport

@Suite struct CRC32CTests {
    /// The textbook byte-at-a-time CRC-32C, as the reference for the sliced one.
    static func bytewise(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        }
        return crc ^ 0xFFFF_FFFF
    }

    @Test func matchesTheStandardCheckValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8]()) == 0)
    }

    @Test func slicingByEightMatchesTheBytewiseDefinitionAtEveryLengthAndOffset() {
        var generator = SplitMix64(seed: 7)
        let bytes = (0..<300).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        for start in 0..<9 {
            for end in stride(from: start, through: bytes.count, by: 7) {
                let slice = Array(bytes[start..<end])
                let expected = Self.bytewise(slice)
                #expect(CRC32C.checksum(slice) == expected)
                // Data slices start at an offset: the unaligned loads must not care.
                #expect(CRC32C.checksum(Data(bytes)[start..<end]) == expected)
                // A sequence with no contiguous storage takes the copying path.
                #expect(CRC32C.checksum(slice.lazy.map { $0 }) == expected)
            }
        }
    }
}
