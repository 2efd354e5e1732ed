import NIOCore
import TollgateHTTP1
@testable import TollgateAgent

extension HTTPRequestHeadBytes {
    /// A POST head carrying `fields`, parsed as the proxy would parse it off the wire.
    static func post(_ fields: KeyValuePairs<String, String>) throws -> HTTPRequestHeadBytes {
        let lines = fields.map { "\($0.key): \($0.value)\r\n" }.joined()
        return try HTTPRequestHeadBytes(parsing: ByteBuffer(string: "POST /v1/chat/completions HTTP/1.1\r\nHost: api.test\r\n\(lines)\r\n"))
    }
}
