import CLZ4
import Foundation

/// LZ4 block compression (liblz4). The uncompressed length travels in the frame header,
/// so decompression knows its output size up front and can refuse absurd claims.
public enum LZ4Block {
    public static func compress(_ input: Data) -> Data {
        guard !input.isEmpty else { return Data() }
        let bound = Int(LZ4_compressBound(Int32(input.count)))
        var output = Data(count: bound)
        let written = output.withUnsafeMutableBytes { destination in
            input.withUnsafeBytes { source in
                LZ4_compress_default(
                    source.baseAddress!.assumingMemoryBound(to: CChar.self),
                    destination.baseAddress!.assumingMemoryBound(to: CChar.self),
                    Int32(input.count), Int32(bound))
            }
        }
        precondition(written > 0, "LZ4_compress_default cannot fail with a compressBound-sized buffer")
        output.count = Int(written)
        return output
    }

    public static func decompress(_ input: Data, uncompressedLength: Int) throws -> Data {
        guard uncompressedLength > 0 else {
            guard input.isEmpty else { throw WireError.corruptPayload("non-empty payload for zero length") }
            return Data()
        }
        guard !input.isEmpty else { throw WireError.corruptPayload("empty payload") }
        var output = Data(count: uncompressedLength)
        let written = output.withUnsafeMutableBytes { destination in
            input.withUnsafeBytes { source in
                LZ4_decompress_safe(
                    source.baseAddress!.assumingMemoryBound(to: CChar.self),
                    destination.baseAddress!.assumingMemoryBound(to: CChar.self),
                    Int32(input.count), Int32(uncompressedLength))
            }
        }
        guard written == uncompressedLength else {
            throw WireError.corruptPayload("LZ4 block decoded to \(written) bytes, header says \(uncompressedLength)")
        }
        return output
    }
}
