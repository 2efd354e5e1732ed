import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Blocking HTTPS GETs to a provider's admin API, for `Reconciler`, which runs on the API's
/// query pool (never on an event loop). URLSession verifies TLS against the system store.
///
/// The admin key travels only in the request header named by the source; it is never part
/// of a URL, an error or a log line.
struct AdminHTTPClient: Sendable {
    var timeout: TimeInterval = 30

    struct Answer {
        var status: Int
        var body: Data
    }

    func get(_ url: URL, headers: [(String, String)], provider: ReconcileProvider) throws(ReconcileError) -> Answer {
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = "GET"
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let box = ResultBox()
        let session = URLSession(configuration: .ephemeral)
        defer { session.finishTasksAndInvalidate() }
        session.dataTask(with: request) { data, response, error in
            if let error {
                box.set(.failure(.transport(provider: provider, endpoint: Self.describe(url), message: error.localizedDescription)))
            } else {
                box.set(.success(Answer(status: (response as? HTTPURLResponse)?.statusCode ?? 0, body: data ?? Data())))
            }
        }.resume()
        return try box.wait().get()
    }

    /// Scheme, host and path: the query holds nothing secret, but cursors make lines long.
    static func describe(_ url: URL) -> String {
        var components = URLComponents(url: url, resolvingAgainstBaseURL: false)
        components?.query = nil
        return components?.string ?? url.path
    }

    /// Hands the completion's result to the blocked caller.
    private final class ResultBox: @unchecked Sendable {
        private let semaphore = DispatchSemaphore(value: 0)
        private var result: Result<Answer, ReconcileError>?

        func set(_ value: Result<Answer, ReconcileError>) {
            result = value
            semaphore.signal()
        }

        func wait() -> Result<Answer, ReconcileError> {
            semaphore.wait()
            return result!
        }
    }
}
