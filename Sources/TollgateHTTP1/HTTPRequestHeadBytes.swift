import NIOCore

/// A client's request head as it arrived, with the positions of its fields, checked
/// strictly: the client is the untrusted side, and a proxy that reads a request's framing
/// differently from its client is how requests get smuggled. So every line ends in CRLF,
/// there is exactly one way to find where the body ends (a content-length, or chunked,
/// never both, never two of either), and anything ambiguous is refused.
public struct HTTPRequestHeadBytes {
    typealias Field = HTTPSyntax.Field

    public enum Framing: Equatable {
        case none
        case length(Int)
        case chunked
    }

    /// From the request line's first byte to the blank line that ends the head.
    public let bytes: ByteBuffer
    public let method: HTTPRequestMethod
    /// The request target as sent: a path, an absolute URL (HTTP_PROXY) or host:port (CONNECT).
    public let target: String
    public let version: HTTP1Version
    let fields: [Field]
    /// The elements of every `connection` field: `close`, `keep-alive`, and the names of
    /// fields that concern only this connection (RFC 9110 §7.6.1).
    public let connectionOptions: [Range<Int>]
    public let isKeepAlive: Bool
    public let framing: Framing

    public init(parsing bytes: ByteBuffer) throws(HTTPRequestFramingError) {
        self.bytes = bytes
        let parsed = try bytes.withUnsafeReadableBytes { (raw: UnsafeRawBufferPointer) throws(HTTPRequestFramingError) in
            try Self.parse(raw.bindMemory(to: UInt8.self))
        }
        (method, target, version, fields, connectionOptions, framing) = parsed
        isKeepAlive = bytes.withUnsafeReadableBytes { [version, connectionOptions] raw in
            let view = raw.bindMemory(to: UInt8.self)
            // HTTP/1.1 keeps the connection unless told to close; 1.0 only when asked to.
            let token = version == .http1_0 ? "keep-alive" : "close"
            let named = connectionOptions.contains { HTTPSyntax.nameEquals(view, $0, token) }
            return version == .http1_0 ? named : !named
        }
    }

    /// The first value of the field `name` (lowercase).
    public func first(name: String) -> String? {
        HTTPSyntax.firstValue(of: name, in: fields, of: bytes)
    }

    // MARK: Parsing

    private static func parse(_ view: UnsafeBufferPointer<UInt8>) throws(HTTPRequestFramingError)
        -> (HTTPRequestMethod, String, HTTP1Version, [Field], [Range<Int>], Framing) {
        var lines = Lines(view)
        guard let requestLine = try lines.next() else { throw .badRequestLine }
        let (method, target, version) = try parseRequestLine(view, requestLine)
        var fields: [Field] = []
        var contentLength: Int?
        var transferEncoding: Range<Int>?
        var hosts = 0
        var connectionOptions: [Range<Int>] = []
        while let line = try lines.next() {
            guard let field = HTTPSyntax.field(view, line) else { throw .badHeader }
            fields.append(field)
            if HTTPSyntax.nameEquals(view, field.name, "content-length") {
                guard contentLength == nil, let length = HTTPSyntax.decimal(view, field.value) else { throw .badContentLength }
                contentLength = length
            } else if HTTPSyntax.nameEquals(view, field.name, "transfer-encoding") {
                guard transferEncoding == nil else { throw .unsupportedTransferEncoding }
                transferEncoding = field.value
            } else if HTTPSyntax.nameEquals(view, field.name, "host") {
                hosts += 1
            } else if HTTPSyntax.nameEquals(view, field.name, "connection") {
                connectionOptions += HTTPSyntax.listElements(view, field.value)
            }
        }
        // RFC 9112 §3.2: an HTTP/1.1 request names exactly one host.
        guard hosts == 1 || (hosts == 0 && version == .http1_0) else { throw .badHost }
        let framing: Framing
        if let transferEncoding {
            // Only plain chunked is understood; with a content-length beside it the two
            // could disagree about where the body ends (RFC 9112 §6.1).
            guard contentLength == nil, version == .http1_1,
                  HTTPSyntax.nameEquals(view, HTTPSyntax.trimmed(view, transferEncoding), "chunked") else {
                throw .unsupportedTransferEncoding
            }
            framing = .chunked
        } else if let contentLength, contentLength > 0 {
            framing = .length(contentLength)
        } else {
            framing = .none
        }
        return (method, target, version, fields, connectionOptions, method == .CONNECT ? .none : framing)
    }

    /// What providers' APIs and proxy clients use; anything else is refused (501) rather
    /// than passed on to an upstream that might read it differently.
    private static let knownMethods = HTTPRequestMethod.allCases

    /// `method SP request-target SP HTTP/1.x`
    private static func parseRequestLine(_ view: UnsafeBufferPointer<UInt8>, _ line: Range<Int>) throws(HTTPRequestFramingError)
        -> (HTTPRequestMethod, String, HTTP1Version) {
        guard let methodEnd = view[line].firstIndex(of: UInt8(ascii: " ")), methodEnd > line.lowerBound,
              let targetEnd = view[(methodEnd + 1)..<line.upperBound].firstIndex(of: UInt8(ascii: " ")),
              targetEnd > methodEnd + 1 else {
            throw .badRequestLine
        }
        let methodName = view[line.lowerBound..<methodEnd]
        guard let method = knownMethods.first(where: { methodName.elementsEqual($0.rawValue.utf8) }) else { throw .unsupportedMethod }
        // Visible ASCII only: no spaces, controls or raw UTF-8 in a request target.
        for index in (methodEnd + 1)..<targetEnd where view[index] <= 0x20 || view[index] >= 0x7F { throw .badRequestLine }
        guard hasValidForm(view[(methodEnd + 1)..<targetEnd], for: method) else { throw .badRequestLine }
        let versionBytes = view[(targetEnd + 1)..<line.upperBound]
        let version: HTTP1Version
        if versionBytes.elementsEqual("HTTP/1.1".utf8) {
            version = .http1_1
        } else if versionBytes.elementsEqual("HTTP/1.0".utf8) {
            version = .http1_0
        } else if versionBytes.starts(with: "HTTP/".utf8) && versionBytes.count == 8 {
            throw .unsupportedVersion
        } else {
            throw .badRequestLine
        }
        let target = String(decoding: UnsafeBufferPointer(rebasing: view[(methodEnd + 1)..<targetEnd]), as: UTF8.self)
        return (method, target, version)
    }

    /// RFC 9112 §3.2: a path (origin form), a URL (absolute form, what HTTP_PROXY clients
    /// send), host:port for CONNECT (authority form) and `*` for OPTIONS alone.
    private static func hasValidForm(_ target: Slice<UnsafeBufferPointer<UInt8>>, for method: HTTPRequestMethod) -> Bool {
        if method == .CONNECT { return !target.contains(UInt8(ascii: "/")) && target.contains(UInt8(ascii: ":")) }
        if target.elementsEqual("*".utf8) { return method == .OPTIONS }
        if target.first == UInt8(ascii: "/") { return true }
        // scheme "://" authority …, the scheme a letter and then letters, digits, + - .
        guard let colon = target.firstIndex(of: UInt8(ascii: ":")), colon > target.startIndex,
              target[colon...].starts(with: "://".utf8), target.index(colon, offsetBy: 3) < target.endIndex else { return false }
        let scheme = target[target.startIndex..<colon]
        return isLetter(scheme.first!) && scheme.allSatisfy { isLetter($0) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || "+-.".utf8.contains($0) }
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        HTTPSyntax.lowercased(byte) >= UInt8(ascii: "a") && HTTPSyntax.lowercased(byte) <= UInt8(ascii: "z")
    }

    /// The head's lines without their CRLF, up to the blank line (every LF of a head is
    /// the end of one of them); a line ending in a bare LF is refused.
    private struct Lines {
        private let view: UnsafeBufferPointer<UInt8>
        private var start = 0

        public init(_ view: UnsafeBufferPointer<UInt8>) {
            self.view = view
        }

        public mutating func next() throws(HTTPRequestFramingError) -> Range<Int>? {
            guard start < view.count, let newline = view[start...].firstIndex(of: UInt8(ascii: "\n")) else { return nil }
            guard newline > start, view[newline - 1] == UInt8(ascii: "\r") else { throw .bareLineFeed }
            let line = start..<(newline - 1)
            start = newline + 1
            return line.isEmpty ? nil : line
        }
    }
}

/// Why a client's request was refused before it went anywhere; each maps to the status
/// the client gets (`status`).
public enum HTTPRequestFramingError: Error, Equatable, CustomStringConvertible {
    case headTooLarge
    case badRequestLine
    case unsupportedMethod
    case unsupportedVersion
    case bareLineFeed
    case badHeader
    case badHost
    case badContentLength
    case unsupportedTransferEncoding
    case badChunk

    /// 431, 505, 501 or 400.
    public var status: Int {
        switch self {
        case .headTooLarge: 431
        case .unsupportedVersion: 505
        case .unsupportedMethod, .unsupportedTransferEncoding: 501
        default: 400
        }
    }

    /// The `code` of the error body the client gets.
    public var code: String {
        switch status {
        case 431: "request_headers_too_large"
        case 400: "malformed_request"
        default: "unsupported_request"
        }
    }

    public var description: String {
        switch self {
        case .headTooLarge: "the request head exceeds \(HTTPRequestFramer.maxHeadBytes) bytes"
        case .badRequestLine: "the request line is not METHOD SP target SP HTTP/1.x"
        case .unsupportedMethod: "the method is not one the agent forwards (GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, CONNECT)"
        case .unsupportedVersion: "only HTTP/1.0 and HTTP/1.1 are served"
        case .bareLineFeed: "a line of the request head ends in LF without CR"
        case .badHeader: "a header line is not name: value (or is folded, or holds control characters)"
        case .badHost: "an HTTP/1.1 request needs exactly one host header"
        case .badContentLength: "content-length is not a single decimal number"
        case .unsupportedTransferEncoding: "transfer-encoding must be just chunked, once, without content-length, on HTTP/1.1"
        case .badChunk: "the chunked body is malformed"
        }
    }
}
