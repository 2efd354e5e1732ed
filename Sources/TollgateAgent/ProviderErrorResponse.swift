import Foundation
import NIOCore
import NIOHTTP1

/// An error the agent itself answers with, shaped like OpenAI's errors so SDKs surface
/// it as a normal API error (`{"error":{"message","type","param","code"}}`).
struct ProviderErrorResponse {
    var status: HTTPResponseStatus
    var code: String
    var message: String

    func body(allocator: ByteBufferAllocator) -> ByteBuffer {
        let escaped = message.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return allocator.buffer(string: #"{"error":{"message":"\#(escaped)","type":"tollgate_error","param":null,"code":"\#(code)"}}"#)
    }
}
