import Foundation

/// A JSON value kept as it was written: the `before` and `after` of an audit entry, which
/// are whatever the changed thing encodes to (a budget, an exemption, a key label), so
/// one log holds every kind of change, including kinds added later.
///
/// Integers are kept as `Int64` (nanodollar limits exceed a Double's exact range).
public indirect enum AuditJSON: Equatable, Sendable, Codable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([AuditJSON])
    case object([String: AuditJSON])

    /// `value` as `JSONEncoder` writes it.
    public init<T: Encodable>(encoding value: T) throws {
        self = try JSONDecoder().decode(AuditJSON.self, from: JSONEncoder().encode(value))
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([AuditJSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: AuditJSON].self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// One line for a table: compact JSON, keys sorted.
    public var compact: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "?"
    }
}
