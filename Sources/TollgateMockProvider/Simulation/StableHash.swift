/// FNV-1a, 64-bit: the mock's source of "randomness".
///
/// Swift's `hashValue` is seeded per process, so it would give every run different
/// token counts; the ledger-versus-meter comparisons need reruns to reproduce exactly.
enum StableHash {
    static func fnv1a<Bytes: Sequence>(_ bytes: Bytes, seed: UInt64 = 0xcbf2_9ce4_8422_2325) -> UInt64
    where Bytes.Element == UInt8 {
        var hash = seed
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return hash
    }

    static func fnv1a(_ text: String) -> UInt64 {
        fnv1a(text.utf8)
    }

    /// A second, independent-looking value from the same hash, for deriving several
    /// numbers from one request without them moving in lockstep.
    static func remix(_ hash: UInt64, _ salt: UInt64) -> UInt64 {
        var x = hash ^ (salt &* 0x9e37_79b9_7f4a_7c15)
        x = (x ^ (x >> 30)) &* 0xbf58_476d_1ce4_e5b9
        x = (x ^ (x >> 27)) &* 0x94d0_49bb_1331_11eb
        return x ^ (x >> 31)
    }
}
