import Foundation

/// The part of JSON Schema (2020-12, OpenAPI 3.1's dialect) that docs/openapi.yaml uses:
/// `$ref` into the document, `type` (one or a list), `enum`, `required`, `properties`,
/// `additionalProperties` (false or a schema), `items`, `minimum`, `maximum`, `pattern`.
/// Any other keyword in the document is an error here, so the document cannot promise
/// what this check does not verify.
struct JSONSchemaCheck {
    /// The whole OpenAPI document, as Yams loads it: `$ref`s resolve against it.
    let document: [String: Any]

    static let understood: Set<String> = ["$ref", "type", "enum", "required", "properties", "additionalProperties", "items",
                                          "minimum", "maximum", "pattern", "format", "description", "default"]

    /// Every way `value` breaks `schema`, each naming where (`$[3].cost_usd`); empty when it conforms.
    func problems(_ value: JSONValue, _ schema: [String: Any], at path: String = "$") -> [String] {
        if let unknown = schema.keys.first(where: { !Self.understood.contains($0) }) {
            return ["\(path): the schema uses '\(unknown)', which this check does not verify"]
        }
        if let reference = schema["$ref"] as? String {
            guard let target = resolve(reference) else { return ["\(path): unresolvable $ref \(reference)"] }
            return problems(value, target, at: path)
        }
        var found: [String] = []
        if let types = (schema["type"] as? [String]) ?? (schema["type"] as? String).map({ [$0] }), !types.contains(where: { Self.matches(value, $0) }) {
            return ["\(path): \(Self.describe(value)) is not \(types.joined(separator: " or "))"]
        }
        if let allowed = schema["enum"] as? [Any] {
            let texts = allowed.map { "\($0)" }
            if case .string(let text) = value, !texts.contains(text) { found.append("\(path): '\(text)' is not one of \(texts)") }
        }
        switch value {
        case .object(let members):
            for name in schema["required"] as? [String] ?? [] where members[name] == nil {
                found.append("\(path): required field '\(name)' is missing")
            }
            let properties = schema["properties"] as? [String: Any] ?? [:]
            for (name, member) in members.sorted(by: { $0.key < $1.key }) {
                if let property = properties[name] as? [String: Any] {
                    found += problems(member, property, at: "\(path).\(name)")
                } else if let extra = schema["additionalProperties"] as? [String: Any] {
                    found += problems(member, extra, at: "\(path).\(name)")
                } else if schema["additionalProperties"] as? Bool == false {
                    found.append("\(path): field '\(name)' is not in the document (add it to docs/openapi.yaml)")
                }
            }
        case .array(let elements):
            if let items = schema["items"] as? [String: Any] {
                for (index, element) in elements.enumerated() { found += problems(element, items, at: "\(path)[\(index)]") }
            }
        case .integer(let number):
            if let minimum = schema["minimum"] as? Int, number < minimum { found.append("\(path): \(number) is below \(minimum)") }
            if let maximum = schema["maximum"] as? Int, number > maximum { found.append("\(path): \(number) is above \(maximum)") }
        case .string(let text):
            if let pattern = schema["pattern"] as? String, text.range(of: pattern, options: .regularExpression) == nil {
                found.append("\(path): '\(text)' does not match \(pattern)")
            }
        default:
            break
        }
        return found
    }

    func resolve(_ reference: String) -> [String: Any]? {
        guard reference.hasPrefix("#/") else { return nil }
        var node: Any = document
        for part in reference.dropFirst(2).split(separator: "/") {
            guard let next = (node as? [String: Any])?[String(part)] else { return nil }
            node = next
        }
        return node as? [String: Any]
    }

    static func matches(_ value: JSONValue, _ type: String) -> Bool {
        switch (value, type) {
        case (.null, "null"), (.bool, "boolean"), (.integer, "integer"), (.integer, "number"), (.number, "number"),
             (.string, "string"), (.array, "array"), (.object, "object"): true
        default: false
        }
    }

    static func describe(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool(let flag): "boolean \(flag)"
        case .integer(let number): "integer \(number)"
        case .number(let number): "number \(number)"
        case .string(let text): "string '\(text.prefix(40))'"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
