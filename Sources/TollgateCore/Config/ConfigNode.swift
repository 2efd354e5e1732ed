import Foundation
import Yams

/// Why a configuration file was rejected, always naming the key and what was expected.
public enum ConfigError: Error, CustomStringConvertible, Equatable {
    case unreadable(file: String, reason: String)
    case syntax(file: String, reason: String)
    case missing(key: String, expected: String)
    case invalid(key: String, value: String, expected: String)
    case unknownKey(key: String, allowed: [String])

    public var description: String {
        switch self {
        case .unreadable(let file, let reason): "cannot read config file \(file): \(reason)"
        case .syntax(let file, let reason): "config file \(file) is not valid YAML: \(reason)"
        case .missing(let key, let expected): "config key '\(key)' is missing; expected \(expected)"
        case .invalid(let key, let value, let expected): "config key '\(key)' has value '\(value)'; expected \(expected)"
        case .unknownKey(let key, let allowed):
            "config key '\(key)' is not known here (a typo?); allowed keys: \(allowed.joined(separator: ", "))"
        }
    }
}

/// A YAML mapping read key by key, so every error can name the full key path
/// (`aggregator.endpoint`) and unknown keys (typos) are rejected instead of ignored.
/// String values may name `${CREDENTIALS_DIRECTORY}` (see `CredentialsDirectory`).
public struct ConfigNode {
    private let mapping: [String: Yams.Node]
    private let path: String
    private let environment: [String: String]

    /// Reads `${CREDENTIALS_DIRECTORY}` from this process's environment.
    public init(yaml: String, source: String) throws {
        try self.init(yaml: yaml, source: source, environment: ProcessInfo.processInfo.environment)
    }

    public init(yaml: String, source: String, environment: [String: String]) throws {
        let node: Yams.Node?
        do {
            node = try Yams.compose(yaml: yaml)
        } catch {
            throw ConfigError.syntax(file: source, reason: "\(error)")
        }
        guard let node else { self.init(mapping: [:], path: "", environment: environment); return }
        guard let mapping = node.mapping else {
            throw ConfigError.syntax(file: source, reason: "the top level must be a mapping of keys to values")
        }
        try self.init(mapping, path: "", environment: environment)
    }

    public init(file: String) throws {
        try self.init(file: file, environment: ProcessInfo.processInfo.environment)
    }

    public init(file: String, environment: [String: String]) throws {
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw ConfigError.unreadable(file: file, reason: (error as NSError).localizedDescription)
        }
        try self.init(yaml: text, source: file, environment: environment)
    }

    private init(mapping: [String: Yams.Node], path: String, environment: [String: String]) {
        self.mapping = mapping
        self.path = path
        self.environment = environment
    }

    private init(_ mapping: Yams.Node.Mapping, path: String, environment: [String: String]) throws {
        var entries: [String: Yams.Node] = [:]
        for (key, value) in mapping {
            guard let name = key.scalar?.string else {
                throw ConfigError.invalid(key: path.isEmpty ? "?" : path, value: "\(key)", expected: "plain string keys")
            }
            entries[name] = value
        }
        self.init(mapping: entries, path: path, environment: environment)
    }

    public var keys: [String] { mapping.keys.sorted() }

    public func keyPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// Fails on any key not in `allowed`.
    public func rejectUnknownKeys(allowed: [String]) throws {
        for key in keys where !allowed.contains(key) {
            throw ConfigError.unknownKey(key: keyPath(key), allowed: allowed)
        }
    }

    public func contains(_ key: String) -> Bool { mapping[key] != nil }

    public func optionalString(_ key: String) throws -> String? {
        guard let node = mapping[key] else { return nil }
        if case .scalar(let scalar) = node {
            if scalar.string.isEmpty && scalar.style == .plain { return nil }
            return try CredentialsDirectory.expand(scalar.string, key: keyPath(key), environment: environment)
        }
        throw ConfigError.invalid(key: keyPath(key), value: "\(node)", expected: "a single value")
    }

    public func string(_ key: String, default defaultValue: String) throws -> String {
        try optionalString(key) ?? defaultValue
    }

    public func requiredString(_ key: String, expected: String) throws -> String {
        guard let value = try optionalString(key) else { throw ConfigError.missing(key: keyPath(key), expected: expected) }
        return value
    }

    public func int(_ key: String, default defaultValue: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = try optionalString(key) else { return defaultValue }
        guard let value = Int(text), range.contains(value) else {
            throw ConfigError.invalid(key: keyPath(key), value: text, expected: "a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// A `…_ms` key: whole milliseconds in the file, a `Duration` in code.
    public func milliseconds(_ key: String, default defaultValue: Duration, range: ClosedRange<Int>) throws -> Duration {
        .milliseconds(try int(key, default: Int(defaultValue.wholeMilliseconds), range: range))
    }

    public func bool(_ key: String, default defaultValue: Bool) throws -> Bool {
        guard let text = try optionalString(key) else { return defaultValue }
        switch text {
        case "true": return true
        case "false": return false
        default: throw ConfigError.invalid(key: keyPath(key), value: text, expected: "true or false")
        }
    }

    public func stringList(_ key: String) throws -> [String] {
        guard let node = mapping[key] else { return [] }
        if case .sequence(let sequence) = node {
            return try sequence.map { item in
                guard let value = item.scalar?.string else {
                    throw ConfigError.invalid(key: keyPath(key), value: "\(item)", expected: "a list of strings")
                }
                return value
            }
        }
        throw ConfigError.invalid(key: keyPath(key), value: "\(node)", expected: "a list of strings")
    }

    /// A nested mapping; nil when the key is absent.
    public func section(_ key: String) throws -> ConfigNode? {
        guard let node = mapping[key] else { return nil }
        guard let nested = node.mapping else {
            if node.scalar?.string.isEmpty == true { return ConfigNode(mapping: [:], path: keyPath(key), environment: environment) }
            throw ConfigError.invalid(key: keyPath(key), value: "\(node)", expected: "a mapping of keys to values")
        }
        return try ConfigNode(nested, path: keyPath(key), environment: environment)
    }
}
