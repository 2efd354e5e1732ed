import TollgateCore

/// A value in a validated JSON document, read on demand: how the meter reads every
/// provider format (request bodies, response bodies, stream events). Nothing is decoded
/// until asked for, and asking costs no generic `Decodable` machinery, which at the
/// proxy's request rates is most of a general decoder's time (scripts/bench-metering.sh).
///
/// Reads are lenient by shape: asking a number for its members, or an object for a string,
/// gives nil, so an unexpected shape costs that field only.
struct JSONValue {
    fileprivate let document: JSONDocumentBytes
    let span: JSONSpan

    /// The document's root, or nil if `bytes` are not one valid JSON value.
    init?(parsing bytes: some Collection<UInt8>) {
        let document = JSONDocumentBytes(Array(bytes))
        guard let root = document.withScanner({ $0.validatedRoot() }) else { return nil }
        self.init(document: document, span: root)
    }

    fileprivate init(document: JSONDocumentBytes, span: JSONSpan) {
        self.document = document
        self.span = span
    }

    var isNull: Bool { span.kind == .null }

    /// The members, if this is an object.
    var object: JSONObject? {
        guard span.kind == .object else { return nil }
        return JSONObject(document: document, members: document.withScanner { $0.members(of: span) })
    }

    /// The elements, if this is an array.
    var array: [JSONValue]? {
        guard span.kind == .array else { return nil }
        return document.withScanner { $0.elements(of: span) }.map { JSONValue(document: document, span: $0) }
    }

    var string: String? { document.withScanner { $0.string(span) } }
    var int64: Int64? { document.withScanner { $0.int64(span) } }
    var double: Double? { document.withScanner { $0.double(span) } }
    var bool: Bool? { document.withScanner { $0.bool(span) } }

    /// A `service_tier` value read from its bytes: every OpenAI response and stream chunk
    /// carries one, so the usual spellings are matched without building a `String`.
    var serviceTier: ServiceTier? {
        guard span.kind == .string else { return nil }
        let text = (span.range.lowerBound + 1)..<(span.range.upperBound - 1)
        if let tier = document.withScanner({ ServiceTier(exactUTF8: UnsafeBufferPointer(rebasing: $0.bytes[text])) }) { return tier }
        return string.flatMap { ServiceTier(providerValue: $0) }
    }

    /// Unicode scalars in a string value (what estimates count), 0 for anything else.
    var meteredLength: Int {
        guard span.kind == .string else { return 0 }
        return document.withScanner { $0.scalarCount(span) } ?? (string?.meteredLength ?? 0)
    }
}

/// An object's members, listed once so that reading several of them scans it once.
struct JSONObject {
    fileprivate let document: JSONDocumentBytes
    fileprivate let members: [JSONMember]

    /// The first member named `key`, as Foundation's decoder takes it.
    subscript(key: String) -> JSONValue? {
        document.withScanner { scanner in
            members.first { scanner.key($0, equals: key) }.map { JSONValue(document: document, span: $0.value) }
        }
    }

    /// Each member with the scanner of its document, for readers that match keys as bytes.
    func withMembers(_ body: (JSONScanner, JSONMember) -> Void) {
        document.withScanner { scanner in
            for member in members { body(scanner, member) }
        }
    }

    func value(of member: JSONMember) -> JSONValue {
        JSONValue(document: document, span: member.value)
    }

    /// A member that, like a `Decodable` optional, is absent or null when it is nil.
    func present(_ key: String) -> JSONValue? {
        guard let value = self[key], !value.isNull else { return nil }
        return value
    }

    /// A token count: absent or null is nil, an integer is its value, anything else makes
    /// the whole report unreadable (a provider changed its format; better a problem label
    /// than a guess).
    func count(_ key: String) throws -> Int64? {
        guard let value = present(key) else { return nil }
        guard let count = value.int64 else { throw JSONShapeError(key: key) }
        return count
    }

    /// A nested object that must be one when present (a usage object's `…_details`).
    func strictObject(_ key: String) throws -> JSONObject? {
        guard let value = present(key) else { return nil }
        guard let object = value.object else { throw JSONShapeError(key: key) }
        return object
    }

    /// Every member in document order, duplicates included; nil for a key that is not
    /// valid text (a lone surrogate escape).
    var entries: [(key: String?, value: JSONValue)] {
        document.withScanner { scanner in
            members.map { member in
                let quoted = JSONSpan(kind: .string, range: (member.key.lowerBound - 1)..<(member.key.upperBound + 1))
                return (scanner.string(quoted), JSONValue(document: document, span: member.value))
            }
        }
    }

    /// A string member, nil when absent or not a string.
    func string(_ key: String) -> String? { self[key]?.string }

    /// A string member's metered length, 0 when absent or not a string.
    func meteredLength(_ key: String) -> Int { self[key]?.meteredLength ?? 0 }

    /// The objects in an array member, or nil unless it is an array of objects only: one
    /// odd element makes the list unreadable rather than silently shorter.
    func objects(_ key: String) -> [JSONObject]? {
        self[key].flatMap(Self.objects(in:))
    }

    /// The objects in an array value, or nil unless it is an array of objects only.
    static func objects(in value: JSONValue) -> [JSONObject]? {
        guard let elements = value.array else { return nil }
        var objects: [JSONObject] = []
        objects.reserveCapacity(elements.count)
        for element in elements {
            guard let object = element.object else { return nil }
            objects.append(object)
        }
        return objects
    }
}

/// A member the format defines with one shape arrived with another.
struct JSONShapeError: Error {
    var key: String
}

extension String {
    /// Length counted the way estimates count it: in Unicode scalars, cheap and stable.
    var meteredLength: Int { unicodeScalars.count }
}
