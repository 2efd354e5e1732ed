/// The metric names a PromQL expression reads, for checking that dashboards and alert rules
/// name series the programs really export.
///
/// Not a PromQL parser: a tokenizer that knows what is *not* a metric name. An identifier
/// followed by `(` is a function or aggregation; keywords (`by`, `and`, `offset`, …) are not
/// names; what is inside `{…}` (label matchers), `[…]` (ranges), quotes, and the label lists
/// after `by`/`without`/`on`/`ignoring`/`group_left`/`group_right` is skipped; Grafana's
/// `$variables` and `${variables}` are skipped; numbers and durations are not identifiers.
/// Grafana's `label_values(metric, label)` reads `metric` and not `label`.
public enum PromQLMetricNames {
    static let keywords: Set<String> = [
        "by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool",
        "and", "or", "unless", "atan2", "inf", "nan", "start", "end",
    ]
    /// Aggregation operators: followed by `(` or by `by (…)`/`without (…)`, never names.
    static let aggregations: Set<String> = [
        "sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk", "bottomk", "quantile",
        "count_values", "group", "limitk", "limit_ratio",
    ]
    static let labelListKeywords: Set<String> = ["by", "without", "on", "ignoring", "group_left", "group_right"]

    /// Every metric name `expression` reads, in order of first appearance.
    public static func names(in expression: String) -> [String] {
        let characters = Array(expression)
        var names: [String] = []
        var index = 0
        /// Skips from an opening bracket to just past its closing one (quotes respected).
        func skipBalanced(open: Character, close: Character) {
            var depth = 0
            while index < characters.count {
                let character = characters[index]
                if character == "\"" || character == "'" || character == "`" {
                    skipQuoted()
                    continue
                }
                if character == open { depth += 1 }
                if character == close {
                    depth -= 1
                    if depth == 0 { index += 1; return }
                }
                index += 1
            }
        }
        func skipQuoted() {
            let quote = characters[index]
            index += 1
            while index < characters.count && characters[index] != quote {
                if characters[index] == "\\" { index += 1 }
                index += 1
            }
            index += 1
        }
        func skipSpaces() {
            while index < characters.count && characters[index].isWhitespace { index += 1 }
        }
        func isIdentifierStart(_ character: Character) -> Bool { character.isLetter || character == "_" || character == ":" }
        func isIdentifierPart(_ character: Character) -> Bool { isIdentifierStart(character) || character.isNumber }

        while index < characters.count {
            let character = characters[index]
            if character == "\"" || character == "'" || character == "`" {
                skipQuoted()
            } else if character == "{" {
                skipBalanced(open: "{", close: "}")
            } else if character == "[" {
                skipBalanced(open: "[", close: "]")
            } else if character == "$" {
                // A Grafana variable: $name, ${name}, ${name:format}, $__rate_interval.
                index += 1
                if index < characters.count && characters[index] == "{" {
                    skipBalanced(open: "{", close: "}")
                } else {
                    while index < characters.count && isIdentifierPart(characters[index]) { index += 1 }
                }
            } else if character.isNumber || (character == "." && index + 1 < characters.count && characters[index + 1].isNumber) {
                // A number, a duration (5m, 1h30m) or an exponent (1e-9): letters after digits belong to it.
                while index < characters.count && (characters[index].isNumber || characters[index].isLetter || characters[index] == ".") { index += 1 }
            } else if isIdentifierStart(character) {
                let start = index
                while index < characters.count && isIdentifierPart(characters[index]) { index += 1 }
                let word = String(characters[start..<index])
                let afterWord = index
                skipSpaces()
                let next = index < characters.count ? characters[index] : nil
                if labelListKeywords.contains(word.lowercased()) {
                    if next == "(" { skipBalanced(open: "(", close: ")") }
                } else if keywords.contains(word.lowercased()) || aggregations.contains(word.lowercased()) {
                    continue
                } else if next == "(" {
                    if word == "label_values" {
                        // label_values(metric, label) or label_values(label): only a metric before a comma.
                        let open = index
                        skipBalanced(open: "(", close: ")")
                        let inside = String(characters[(open + 1)..<(index - 1)])
                        if let comma = inside.firstIndex(of: ",") {
                            names.append(contentsOf: Self.names(in: String(inside[..<comma])).filter { !names.contains($0) })
                        }
                    }
                    // Any other function: its arguments are read as the loop goes on.
                } else {
                    if !names.contains(word) { names.append(word) }
                    index = afterWord
                }
            } else {
                index += 1
            }
        }
        return names
    }

    /// Every name a `/metrics` page makes queryable: each family declared by `# HELP` or
    /// `# TYPE` (so one with no samples yet counts), each sample's name, and a histogram's or
    /// summary's `_bucket`/`_sum`/`_count` series.
    public static func exported(by page: String) -> Set<String> {
        var names: Set<String> = []
        for line in page.split(separator: "\n") {
            let words = line.split(separator: " ")
            if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE "), words.count >= 3 {
                let family = String(words[2])
                names.insert(family)
                if line.hasPrefix("# TYPE "), words.count >= 4 {
                    switch words[3] {
                    case "histogram": names.formUnion(["_bucket", "_sum", "_count"].map { family + $0 })
                    case "summary": names.formUnion(["_sum", "_count"].map { family + $0 })
                    default: break
                    }
                }
            } else if !line.hasPrefix("#"), let name = line.split(whereSeparator: { $0 == "{" || $0 == " " }).first {
                names.insert(String(name))
            }
        }
        return names
    }
}
