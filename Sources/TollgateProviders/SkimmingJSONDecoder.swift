/// A `Decoder` over JSON bytes for the meter's small "read these few fields" structs.
///
/// Foundation's `JSONDecoder` builds every object it passes through (a dictionary with a
/// `String` per key), including the ones the struct never asks for: a prompt's messages, a
/// completion's choices. This one validates the document once with `JSONScanner` and then
/// decodes only the members a `Decodable` asks for, so reading `model` and `usage` from a
/// 100 KB request costs one pass over its bytes and almost no allocation. It accepts and
/// rejects the same documents (the differential tests compare the two on every fixture and
/// on corrupted copies).
enum SkimmingJSONDecoder {
    static func decode<T: Decodable>(_ type: T.Type, from bytes: some Collection<UInt8>) throws -> T {
        let document = JSONDocumentBytes(Array(bytes))
        guard let root = document.withScanner({ $0.validatedRoot() }) else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "The given data was not valid JSON."))
        }
        return try SkimDecoder(document: document, span: root).decode(type)
    }
}

private struct SkimDecoder: Decoder, SingleValueDecodingContainer {
    let document: JSONDocumentBytes
    let span: JSONSpan
    var codingPath: [CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard span.kind == .object else { throw mismatch([String: Int].self) }
        return KeyedDecodingContainer(SkimKeyedContainer<Key>(document: document, members: document.withScanner { $0.members(of: span) }))
    }

    func unkeyedContainer() throws -> UnkeyedDecodingContainer {
        guard span.kind == .array else { throw mismatch([Int].self) }
        return SkimUnkeyedContainer(document: document, elements: document.withScanner { $0.elements(of: span) })
    }

    func singleValueContainer() throws -> SingleValueDecodingContainer { self }

    // MARK: SingleValueDecodingContainer

    func decodeNil() -> Bool { span.kind == .null }

    func decode(_ type: Bool.Type) throws -> Bool {
        guard let value = document.withScanner({ $0.bool(span) }) else { throw mismatch(type) }
        return value
    }

    func decode(_ type: String.Type) throws -> String {
        guard let value = document.withScanner({ $0.string(span) }) else { throw mismatch(type) }
        return value
    }

    func decode(_ type: Double.Type) throws -> Double {
        guard let value = document.withScanner({ $0.double(span) }) else { throw mismatch(type) }
        return value
    }

    func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }

    func decode(_ type: Int64.Type) throws -> Int64 {
        guard let value = document.withScanner({ $0.int64(span) }) else { throw mismatch(type) }
        return value
    }

    func decode(_ type: Int.Type) throws -> Int { try integer(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(type) }

    func decode(_ type: UInt64.Type) throws -> UInt64 {
        if let small = document.withScanner({ $0.int64(span) }), let value = UInt64(exactly: small) { return value }
        guard let double = document.withScanner({ $0.double(span) }), let value = UInt64(exactly: double) else { throw mismatch(type) }
        return value
    }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        // The scalars the meter's structs use, without a trip through `init(from:)`.
        if type == String.self { return try decode(String.self) as! T }
        if type == Int64.self { return try decode(Int64.self) as! T }
        if type == Bool.self { return try decode(Bool.self) as! T }
        return try T(from: self)
    }

    private func integer<I: FixedWidthInteger>(_ type: I.Type) throws -> I {
        guard let wide = document.withScanner({ $0.int64(span) }), let value = I(exactly: wide) else { throw mismatch(type) }
        return value
    }

    private func mismatch(_ type: Any.Type) -> DecodingError {
        span.kind == .null
            ? .valueNotFound(type, .init(codingPath: [], debugDescription: "Expected \(type) but found null."))
            : .typeMismatch(type, .init(codingPath: [], debugDescription: "Expected \(type) but found a JSON \(span.kind)."))
    }
}

private struct SkimKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let document: JSONDocumentBytes
    let members: [JSONMember]
    var codingPath: [CodingKey] { [] }

    var allKeys: [Key] {
        document.withScanner { scanner in
            members.compactMap { member in
                scanner.string(JSONSpan(kind: .string, range: (member.key.lowerBound - 1)..<(member.key.upperBound + 1))).flatMap(Key.init(stringValue:))
            }
        }
    }

    /// The first member with this key, as Foundation's decoder takes it.
    private func value(for key: Key) -> JSONSpan? {
        let name = key.stringValue
        return document.withScanner { scanner in
            members.first { scanner.key($0, equals: name) }?.value
        }
    }

    private func decoder(for key: Key) throws -> SkimDecoder {
        guard let span = value(for: key) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: [], debugDescription: "No value for key \"\(key.stringValue)\"."))
        }
        return SkimDecoder(document: document, span: span)
    }

    func contains(_ key: Key) -> Bool { value(for: key) != nil }

    func decodeNil(forKey key: Key) throws -> Bool { try decoder(for: key).decodeNil() }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try decoder(for: key).decode(type) }

    /// One lookup instead of the default's three (contains, decodeNil, decode).
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? { try present(type, forKey: key) }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { try present(type, forKey: key) }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { try present(type, forKey: key) }
    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { try present(type, forKey: key) }

    private func present<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let span = value(for: key), span.kind != .null else { return nil }
        return try SkimDecoder(document: document, span: span).decode(type)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try decoder(for: key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer {
        try decoder(for: key).unkeyedContainer()
    }

    func superDecoder() throws -> Decoder {
        throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "superDecoder is not supported."))
    }

    func superDecoder(forKey key: Key) throws -> Decoder { try decoder(for: key) }
}

private struct SkimUnkeyedContainer: UnkeyedDecodingContainer {
    let document: JSONDocumentBytes
    let elements: [JSONSpan]
    private(set) var currentIndex = 0
    var codingPath: [CodingKey] { [] }
    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    init(document: JSONDocumentBytes, elements: [JSONSpan]) {
        self.document = document
        self.elements = elements
    }

    private func peek(_ type: Any.Type) throws -> SkimDecoder {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(type, .init(codingPath: [], debugDescription: "Unkeyed container is at end."))
        }
        return SkimDecoder(document: document, span: elements[currentIndex])
    }

    private mutating func next(_ type: Any.Type) throws -> SkimDecoder {
        let decoder = try peek(type)
        currentIndex += 1
        return decoder
    }

    mutating func decodeNil() throws -> Bool {
        guard try peek(Any?.self).decodeNil() else { return false }
        currentIndex += 1
        return true
    }

    /// Like Foundation's, an element that fails to decode is not consumed.
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let value = try peek(type).decode(type)
        currentIndex += 1
        return value
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next(type).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> UnkeyedDecodingContainer {
        try next([Int].self).unkeyedContainer()
    }

    mutating func superDecoder() throws -> Decoder { try next(Any.self) }
}
