import NIOCore

/// Cuts one message head (start line to blank line) off a connection's bytes, however the
/// reads split it, keeping a partial head until the rest arrives and refusing one longer
/// than `maxBytes`.
struct HTTPHeadReader {
    let maxBytes: Int
    /// Whether a lone LF may end the head (what lenient response parsers accept).
    let bareLF: Bool
    /// A head split over reads, kept until its blank line arrives.
    private var partial: ByteBuffer?

    struct TooLarge: Error {}

    init(maxBytes: Int, bareLF: Bool) {
        self.maxBytes = maxBytes
        self.bareLF = bareLF
    }

    /// True while part of a head has arrived.
    var isMidHead: Bool { partial != nil }

    /// The next complete head, taken from the front of `input`; nil when more is needed
    /// (what arrived is kept, and `input` is used up).
    mutating func read(_ input: inout ByteBuffer) throws(TooLarge) -> ByteBuffer? {
        if var buffered = partial {
            partial = nil
            let searchFrom = max(0, buffered.readableBytes - 3)
            buffered.writeBuffer(&input)
            guard let end = endOfHead(in: buffered, from: searchFrom) else {
                guard buffered.readableBytes <= maxBytes else { throw TooLarge() }
                partial = buffered
                return nil
            }
            guard end <= maxBytes else { throw TooLarge() }
            let head = buffered.readSlice(length: end)!
            input = buffered  // what followed the head
            return head
        }
        guard input.readableBytes > 0 else { return nil }
        guard let end = endOfHead(in: input, from: 0) else {
            guard input.readableBytes <= maxBytes else { throw TooLarge() }
            partial = input.readSlice(length: input.readableBytes)
            return nil
        }
        guard end <= maxBytes else { throw TooLarge() }
        return input.readSlice(length: end)!
    }

    private func endOfHead(in buffer: ByteBuffer, from offset: Int) -> Int? {
        buffer.withUnsafeReadableBytes { HTTPSyntax.endOfHead(in: $0, from: offset, bareLF: bareLF) }
    }
}
