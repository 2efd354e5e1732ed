import NIOCore

/// A provider's response head as it arrived, with the positions of its status and fields,
/// so the proxy can write the head on to the client (minus hop-by-hop fields) by copying
/// bytes, and look up the few fields it needs without building a `String` for every one.
public struct HTTPResponseHeadBytes {
    typealias Field = HTTPSyntax.Field

    /// From the status line's first byte to the blank line that ends the head.
    public let bytes: ByteBuffer
    public let status: Int
    /// "200 OK": the status code and reason phrase, as sent.
    let statusText: Range<Int>
    let fields: [Field]
    /// What the connection header and version allow.
    private let connectionReusable: Bool
    public var framing: HTTPResponseFramer.Framing
    /// Whether the connection may carry another request once this response ends.
    public var keepAlive: Bool { connectionReusable && framing != .untilClose }

    public init(parsing bytes: ByteBuffer) throws(HTTPResponseFramingError) {
        self.bytes = bytes
        let parsed = try bytes.withUnsafeReadableBytes { (raw: UnsafeRawBufferPointer) throws(HTTPResponseFramingError) in
            try Self.parse(raw.bindMemory(to: UInt8.self))
        }
        (status, statusText, fields, connectionReusable, framing) = parsed
    }

    private static func parse(_ view: UnsafeBufferPointer<UInt8>) throws(HTTPResponseFramingError)
        -> (Int, Range<Int>, [Field], Bool, HTTPResponseFramer.Framing) {
        var fields: [Field] = []
        var statusLine: (status: Int, text: Range<Int>, http10: Bool)?
        var contentLength: Int?
        var transferEncoding: Range<Int>?
        var connection: [Range<Int>] = []
        var lineStart = 0
        while lineStart < view.count {
            var lineEnd = view[lineStart...].firstIndex(of: UInt8(ascii: "\n")) ?? view.count
            let next = lineEnd + 1
            if lineEnd > lineStart && view[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
            if lineEnd == lineStart { break }  // the blank line
            defer { lineStart = next }
            guard statusLine != nil else {
                statusLine = try parseStatusLine(view, lineStart..<lineEnd)
                continue
            }
            guard let field = HTTPSyntax.field(view, lineStart..<lineEnd) else { throw .badHeader }
            fields.append(field)
            if HTTPSyntax.nameEquals(view, field.name, "content-length") {
                guard let length = HTTPSyntax.decimal(view, field.value), contentLength == nil || contentLength == length else {
                    throw .badContentLength
                }
                contentLength = length
            } else if HTTPSyntax.nameEquals(view, field.name, "transfer-encoding") {
                transferEncoding = field.value
            } else if HTTPSyntax.nameEquals(view, field.name, "connection") {
                connection.append(field.value)
            }
        }
        guard let statusLine else { throw .badStatusLine }
        var keepAlive = !statusLine.http10
        for value in connection {
            if HTTPSyntax.containsToken(view, value, "close") { keepAlive = false }
            if HTTPSyntax.containsToken(view, value, "keep-alive") && statusLine.http10 { keepAlive = true }
        }
        let framing: HTTPResponseFramer.Framing
        if let transferEncoding {
            // The final coding decides; a body in any other coding runs to the close.
            framing = HTTPSyntax.lastTokenIs(view, transferEncoding, "chunked") ? .chunked : .untilClose
        } else if let contentLength {
            framing = .length(contentLength)
        } else {
            framing = .untilClose
        }
        return (statusLine.status, statusLine.text, fields, keepAlive, framing)
    }

    /// The first value of `name` (lowercase), as a string.
    public func value(of name: String) -> String? {
        HTTPSyntax.firstValue(of: name, in: fields, of: bytes)
    }

    /// Writes the head on towards the client: the same status and fields, minus hop-by-hop
    /// ones; `chunked` when the body is framed again, `close` when the connection ends after
    /// it (either way the provider's content-length no longer holds).
    public func write(to buffer: inout ByteBuffer, version: HTTP1Version, chunked: Bool, close: Bool,
                      extraFields: [(name: String, value: String)] = []) {
        let keepsLength = !chunked && !close
        buffer.writeString("HTTP/\(version.major).\(version.minor) ")
        buffer.writeImmutableBuffer(slice(statusText))
        buffer.writeStaticString("\r\n")
        bytes.withUnsafeReadableBytes { raw in
            let view = raw.bindMemory(to: UInt8.self)
            for field in fields {
                if HTTPSyntax.hopByHopFields.contains(where: { HTTPSyntax.nameEquals(view, field.name, $0) }) { continue }
                if !keepsLength && HTTPSyntax.nameEquals(view, field.name, "content-length") { continue }
                buffer.writeBytes(UnsafeRawBufferPointer(rebasing: raw[field.name]))
                buffer.writeStaticString(": ")
                buffer.writeBytes(UnsafeRawBufferPointer(rebasing: raw[field.value]))
                buffer.writeStaticString("\r\n")
            }
        }
        for field in extraFields {
            buffer.writeString(field.name)
            buffer.writeStaticString(": ")
            buffer.writeString(field.value)
            buffer.writeStaticString("\r\n")
        }
        if chunked { buffer.writeStaticString("transfer-encoding: chunked\r\n") }
        if close {
            buffer.writeStaticString("connection: close\r\n")
        } else if version == .http1_0 {
            // HTTP/1.0 closes by default; say so when the client asked to keep it.
            buffer.writeStaticString("connection: keep-alive\r\n")
        }
        buffer.writeStaticString("\r\n")
    }

    private func slice(_ range: Range<Int>) -> ByteBuffer {
        bytes.getSlice(at: bytes.readerIndex + range.lowerBound, length: range.count)!
    }

    // MARK: Parsing

    /// `HTTP/1.x SP 3DIGIT [SP reason]`
    private static func parseStatusLine(_ view: UnsafeBufferPointer<UInt8>, _ line: Range<Int>) throws(HTTPResponseFramingError) -> (Int, Range<Int>, Bool) {
        let prefix = Array("HTTP/1.".utf8)
        guard line.count >= 12, view[line.lowerBound..<line.lowerBound + 7].elementsEqual(prefix),
              view[line.lowerBound + 7] == UInt8(ascii: "0") || view[line.lowerBound + 7] == UInt8(ascii: "1"),
              view[line.lowerBound + 8] == UInt8(ascii: " ") else {
            throw .badStatusLine
        }
        let codeStart = line.lowerBound + 9
        guard let status = HTTPSyntax.decimal(view, codeStart..<codeStart + 3), status >= 100,
              line.count == 12 || view[codeStart + 3] == UInt8(ascii: " ") else {
            throw .badStatusLine
        }
        return (status, codeStart..<line.upperBound, view[line.lowerBound + 7] == UInt8(ascii: "0"))
    }
}
