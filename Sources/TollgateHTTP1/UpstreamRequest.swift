import NIOCore

/// The request as the provider gets it, written as one buffer: the client's request line
/// and fields as they arrived, minus what concerns only the client's connection, with the
/// upstream's host, no compression (usage is read from the response as it passes) and the
/// whole body with its length, so the provider never sees the client's own framing.
public enum UpstreamRequest {
    /// Fields never forwarded besides the hop-by-hop ones: the agent sets its own host,
    /// encoding and length, and the body is already here in full, so nothing waits on a 100.
    private static let replacedFields = ["host", "content-length", "accept-encoding", "expect"]

    public static func encode(_ head: HTTPRequestHeadBytes, target: String, host: String, body: ByteBuffer,
                       allocator: ByteBufferAllocator) -> ByteBuffer {
        var request = allocator.buffer(capacity: head.bytes.readableBytes + 128 + body.readableBytes)
        request.writeString(head.method.rawValue)
        request.writeStaticString(" ")
        request.writeString(target)
        request.writeStaticString(" HTTP/1.1\r\n")
        head.bytes.withUnsafeReadableBytes { raw in
            let view = raw.bindMemory(to: UInt8.self)
            for field in head.fields where forwards(field, view: view, connectionOptions: head.connectionOptions) {
                request.writeBytes(UnsafeRawBufferPointer(rebasing: raw[field.name]))
                request.writeStaticString(": ")
                request.writeBytes(UnsafeRawBufferPointer(rebasing: raw[field.value]))
                request.writeStaticString("\r\n")
            }
        }
        request.writeStaticString("host: ")
        request.writeString(host)
        request.writeStaticString("\r\naccept-encoding: identity\r\ncontent-length: ")
        request.writeString(String(body.readableBytes))
        request.writeStaticString("\r\n\r\n")
        request.writeImmutableBuffer(body)
        return request
    }

    private static func forwards(_ field: HTTPSyntax.Field, view: UnsafeBufferPointer<UInt8>, connectionOptions: [Range<Int>]) -> Bool {
        let name = field.name
        if HTTPSyntax.hopByHopFields.contains(where: { HTTPSyntax.nameEquals(view, name, $0) }) { return false }
        if replacedFields.contains(where: { HTTPSyntax.nameEquals(view, name, $0) }) { return false }
        if name.count > 11 && HTTPSyntax.nameEquals(view, name.prefix(11), "x-tollgate-") { return false }
        // RFC 9110 §7.6.1: what the client's connection header names is hop-by-hop too.
        return !connectionOptions.contains { HTTPSyntax.namesEqual(view, $0, name) }
    }
}
