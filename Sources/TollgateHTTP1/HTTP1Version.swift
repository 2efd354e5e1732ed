/// HTTP/1.0 or HTTP/1.1: the only versions the framers read or write.
public struct HTTP1Version: Hashable, Sendable, CustomStringConvertible {
    public var major: Int
    public var minor: Int

    public static let http1_0 = HTTP1Version(major: 1, minor: 0)
    public static let http1_1 = HTTP1Version(major: 1, minor: 1)

    /// As on the wire: `HTTP/1.1`.
    public var description: String { "HTTP/\(major).\(minor)" }
}
