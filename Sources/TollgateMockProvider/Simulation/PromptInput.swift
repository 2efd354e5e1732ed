/// The `input` of an embeddings request or the `prompt` of a legacy completion: a string,
/// a list of strings, a list of token ids, or a list of such lists.
enum PromptInput: Decodable {
    case texts([String])
    case tokenLists([[Int]])

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            self = .texts([text])
        } else if let texts = try? container.decode([String].self) {
            self = .texts(texts)
        } else if let tokens = try? container.decode([Int].self) {
            self = .tokenLists([tokens])
        } else {
            self = .tokenLists(try container.decode([[Int]].self))
        }
    }

    /// Tokens per item: counted for token lists, estimated for text.
    var tokenCounts: [Int] {
        switch self {
        case .texts(let texts): texts.map { max(1, $0.count / 4) }
        case .tokenLists(let lists): lists.map(\.count)
        }
    }

    var isEmpty: Bool {
        switch self {
        case .texts(let texts): texts.isEmpty || texts.contains(where: \.isEmpty)
        case .tokenLists(let lists): lists.isEmpty || lists.contains(where: \.isEmpty)
        }
    }
}
