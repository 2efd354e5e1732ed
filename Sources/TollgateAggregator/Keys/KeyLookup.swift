import Foundation

/// Finds the key an operator means by what they typed: a key id, the start of one (the
/// eight characters reports show), or a hint (`openai:sk-…0001`, `sk-…0001`, `…0001`).
///
/// Only keys the aggregator has seen can be labelled: a label for a key no agent ever
/// shipped is almost always a typo, and would silently attribute nothing.
public enum KeyLookup {
    public enum Result: Equatable, Sendable {
        case found(KeySighting)
        case none(String)
        case ambiguous(String, [KeySighting])
    }

    public static func resolve(_ reference: String, among keys: [KeySighting]) -> Result {
        let text = reference.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else { return .none(text) }
        if let exact = keys.first(where: { $0.keyID == text }) { return .found(exact) }
        let matches = keys.filter { key in
            if text.count >= 6, key.keyID.hasPrefix(text) { return true }
            if key.hint == text { return true }
            // The hint without its provider, or just its tail (`…0001`, `0001`).
            if let colon = key.hint.firstIndex(of: ":"), key.hint[key.hint.index(after: colon)...] == text { return true }
            return text.count >= 4 && key.hint.hasSuffix(text)
        }
        switch matches.count {
        case 0: return .none(text)
        case 1: return .found(matches[0])
        default: return .ambiguous(text, matches.sorted { $0.keyID < $1.keyID })
        }
    }

    /// The error an operator sees for `.none` and `.ambiguous`; nil for `.found`.
    public static func problem(_ result: Result) -> String? {
        switch result {
        case .found: nil
        case .none(let text):
            "no key this aggregator has seen matches '\(text)'; give a key id, its first 8 characters or its hint "
                + "(`tollgate keys list` shows every key seen). A key is known once a request made with it went through an agent."
        case .ambiguous(let text, let keys):
            "'\(text)' matches \(keys.count) keys: "
                + keys.map { "\($0.keyID) (\($0.hint))" }.joined(separator: ", ") + "; give the key id"
        }
    }
}
