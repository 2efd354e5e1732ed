import Foundation

/// A JSON value read if it has the expected shape and ignored otherwise.
///
/// Used for everything a meter reads besides the usage numbers (text for estimates,
/// request fields): a provider adding a new shape for `content` must not cost us the
/// usage in the same object. Declare it optional so an absent key is fine too.
struct Lenient<Value: Decodable>: Decodable {
    var value: Value?

    init(from decoder: Decoder) throws {
        value = try? Value(from: decoder)
    }
}

extension Lenient: Sendable where Value: Sendable {}

enum JSON {
    /// Decodes `T` or returns nil; the callers turn nil into their own problem label.
    /// `SkimmingJSONDecoder` reads only the members `T` declares, which is what keeps
    /// metering cheap next to the proxying itself.
    static func decode<T: Decodable>(_ type: T.Type, from bytes: some Collection<UInt8>) -> T? {
        try? SkimmingJSONDecoder.decode(type, from: bytes)
    }

    static func decode<T: Decodable>(_ type: T.Type, from text: String) -> T? {
        decode(type, from: text.utf8)
    }
}

extension String {
    /// Length counted the way estimates count it: in Unicode scalars, cheap and stable.
    var meteredLength: Int { unicodeScalars.count }
}

extension Optional where Wrapped == Lenient<String> {
    /// The text's metered length, zero when absent or not a string.
    var meteredLength: Int { self?.value?.meteredLength ?? 0 }
}

/// A model name as providers send it: Azure sends "" in some chunks, which names nothing.
func modelName(_ name: String?) -> String? {
    guard let name, !name.isEmpty else { return nil }
    return name
}
