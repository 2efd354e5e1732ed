import Foundation

/// Reads every page of one admin report: both providers page the same way (`has_more`, and
/// a `next_page` cursor sent back as `page`), so one loop serves all four reports.
struct AdminPager {
    var client: AdminHTTPClient
    var source: AdminSource
    /// A cursor that never ends is a provider bug; stop rather than loop forever.
    static let maxPages = 1_000

    struct PageInfo: Decodable {
        var has_more: Bool
        var next_page: String?
    }

    /// Calls `read` with each page's body, in order, and returns how many pages there were.
    func forEachPage(_ path: String, _ query: [(String, String)], _ read: (Data) throws -> Void) throws(ReconcileError) -> Int {
        var cursor: String?
        var pages = 0
        let endpoint = source.baseURL.absoluteString + path
        repeat {
            var parameters = query
            if let cursor { parameters.append(("page", cursor)) }
            let answer = try client.get(source.url(path, parameters), headers: source.headers, provider: source.provider)
            switch answer.status {
            case 200..<300: break
            case 401, 403:
                throw .unauthorized(provider: source.provider, status: answer.status, message: Self.errorMessage(answer.body))
            default:
                throw .http(provider: source.provider, endpoint: endpoint, status: answer.status, message: Self.errorMessage(answer.body))
            }
            pages += 1
            let info: PageInfo
            do {
                info = try JSONDecoder().decode(PageInfo.self, from: answer.body)
                try read(answer.body)
            } catch let error as ReconcileError {
                throw error
            } catch {
                throw .malformed(provider: source.provider, endpoint: endpoint, detail: Self.describe(error))
            }
            if info.has_more {
                guard let next = info.next_page, !next.isEmpty, next != cursor else {
                    throw .malformed(provider: source.provider, endpoint: endpoint, detail: "has_more is true but next_page is missing or repeats the cursor")
                }
                guard pages < Self.maxPages else {
                    throw .malformed(provider: source.provider, endpoint: endpoint, detail: "more than \(Self.maxPages) pages; narrow --since")
                }
                cursor = next
            } else {
                cursor = nil
            }
        } while cursor != nil
        return pages
    }

    /// The provider's own error message (`{"error":{"message"}}` in both shapes), else the
    /// start of the body.
    static func errorMessage(_ body: Data) -> String {
        struct Shape: Decodable {
            struct Inner: Decodable { var message: String? }
            var error: Inner?
        }
        if let message = (try? JSONDecoder().decode(Shape.self, from: body))?.error?.message { return message }
        let text = String(decoding: body.prefix(200), as: UTF8.self)
        return text.isEmpty ? "(empty body)" : text
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            "missing field '\((context.codingPath.map(\.stringValue) + [key.stringValue]).joined(separator: "."))'"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            "field '\(context.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type"
        case DecodingError.dataCorrupted(let context):
            context.codingPath.isEmpty ? "not JSON" : "invalid value at '\(context.codingPath.map(\.stringValue).joined(separator: "."))'"
        default: "\(error)"
        }
    }
}

/// A parse failure inside a page that is valid JSON (a bad timestamp, a foreign currency).
struct AdminShapeError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
