/// Why a usage message was rejected. The aggregator counts each reason and keeps running.
public enum WireError: Error, Equatable, CustomStringConvertible {
    case wrongFrameCount(Int)
    case badHeader(String)
    case oversized(Int)
    case checksumMismatch(expected: UInt32, actual: UInt32)
    case unsupportedCodec(Int)
    case corruptPayload(String)

    public var description: String {
        switch self {
        case .wrongFrameCount(let count): "expected 2 frames (header, payload), got \(count)"
        case .badHeader(let reason): "unreadable batch header: \(reason)"
        case .oversized(let bytes): "batch of \(bytes) bytes exceeds the \(UsageBatchCodec.maxUncompressedBytes)-byte limit"
        case .checksumMismatch(let expected, let actual): "payload checksum \(actual) does not match header \(expected)"
        case .unsupportedCodec(let codec): "unsupported codec \(codec)"
        case .corruptPayload(let reason): "corrupt payload: \(reason)"
        }
    }

    /// Every `reason`, so a metric can export each at zero before it first happens.
    public static let reasons = ["frame_count", "bad_header", "oversized", "checksum", "codec", "corrupt_payload"]

    /// A short label for metrics.
    public var reason: String {
        switch self {
        case .wrongFrameCount: "frame_count"
        case .badHeader: "bad_header"
        case .oversized: "oversized"
        case .checksumMismatch: "checksum"
        case .unsupportedCodec: "codec"
        case .corruptPayload: "corrupt_payload"
        }
    }
}
