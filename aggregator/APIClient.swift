import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Where the CLI finds the aggregator: `--api`, else `TOLLGATE_API`, else loopback.
struct APIOptions: ParsableArguments {
    @Option(help: "Base URL of the aggregator's HTTP API (default: $TOLLGATE_API or http://127.0.0.1:7601).")
    var api: String?

    var baseURL: String {
        api ?? ProcessInfo.processInfo.environment["TOLLGATE_API"] ?? "http://127.0.0.1:7601"
    }

    func get(_ path: String, query: [URLQueryItem]) async throws -> Data {
        guard var components = URLComponents(string: baseURL + path) else { throw CLIError("invalid --api URL \(baseURL)") }
        components.queryItems = query
        guard let url = components.url else { throw CLIError("invalid --api URL \(baseURL)") }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(from: url)
        } catch {
            throw CLIError("cannot reach the aggregator at \(baseURL) (\(error.localizedDescription)); is `tollgate serve` running? Set --api or TOLLGATE_API.")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status == 200 else {
            let message = (try? JSONDecoder().decode([String: String].self, from: data))?["error"] ?? String(decoding: data, as: UTF8.self)
            throw CLIError("aggregator answered \(status): \(message)")
        }
        return data
    }
}

struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
