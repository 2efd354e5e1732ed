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

extension APIOptions {
    /// A request with an optional JSON body and bearer token; the decoded `{"error"}` on failure.
    func send(_ method: String, _ path: String, body: Data? = nil, token: String?) async throws -> Data {
        guard let url = URL(string: baseURL + path) else { throw CLIError("invalid --api URL \(baseURL)") }
        var request = URLRequest(url: url)
        request.httpMethod = method
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let body {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw CLIError("cannot reach the aggregator at \(baseURL) (\(error.localizedDescription)); is `tollgate serve` running? Set --api or TOLLGATE_API.")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            let message = (try? JSONDecoder().decode([String: String].self, from: data))?["error"] ?? String(decoding: data, as: UTF8.self)
            let hint = status == 401 ? " (pass --token-file, or set TOLLGATE_TOKEN)" : ""
            throw CLIError("aggregator answered \(status): \(message)\(hint)")
        }
        return data
    }
}

/// The API token for the budget and agents commands: `--token-file`, else `TOLLGATE_TOKEN`, else the
/// aggregator's default token file if this user can read it.
struct TokenOptions: ParsableArguments {
    static let defaultFile = "/var/lib/tollgate/api-token"

    @Option(help: "File holding the aggregator's API token (default: $TOLLGATE_TOKEN, else \(TokenOptions.defaultFile)).")
    var tokenFile: String?

    func token() throws -> String {
        if let tokenFile {
            guard let token = Self.read(tokenFile) else {
                throw CLIError("cannot read an API token from --token-file \(tokenFile); it is the aggregator's api_token_file (by default <data_dir>/api-token)")
            }
            return token
        }
        if let token = ProcessInfo.processInfo.environment["TOLLGATE_TOKEN"], !token.isEmpty { return token }
        if let token = Self.read(Self.defaultFile) { return token }
        throw CLIError("budget and agents commands need the aggregator's API token: pass --token-file FILE or set TOLLGATE_TOKEN "
            + "(the aggregator writes it to <data_dir>/api-token, \(Self.defaultFile) by default, unless api_token_file is set)")
    }

    private static func read(_ path: String) -> String? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return token.isEmpty ? nil : token
    }
}

struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
