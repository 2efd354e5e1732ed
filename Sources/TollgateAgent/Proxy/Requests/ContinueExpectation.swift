import NIOCore
import TollgateHTTP1

/// `Expect: 100-continue`. The agent takes the whole body before it forwards anything, so
/// there is nothing to ask the provider: it says go at once, or curl waits a second before
/// each large body.
enum ContinueExpectation {
    static func expectsContinue(_ head: HTTPRequestHeadBytes) -> Bool {
        head.framing != .none && head.version == .http1_1 && head.first(name: "expect")?.lowercased() == "100-continue"
    }

    static func interimResponse(allocator: ByteBufferAllocator) -> ByteBuffer {
        allocator.buffer(staticString: "HTTP/1.1 100 Continue\r\n\r\n")
    }
}
