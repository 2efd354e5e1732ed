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

    /// A GET with the bearer `token` (read-only or admin); the decoded `{"error"}` on failure.
    func get(_ path: String, query: [URLQueryItem], token: String? = nil) async throws -> Data {
        guard var components = URLComponents(string: baseURL + path) else { throw CLIError("invalid --api URL \(baseURL)") }
        components.queryItems = query
        guard let url = components.url else { throw CLIError("invalid --api URL \(baseURL)") }
        var request = URLRequest(url: url)
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw CLIError("cannot reach the aggregator at \(baseURL) (\(error.localizedDescription)); is `tollgate serve` running? Set --api or TOLLGATE_API.")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status == 200 else {
            let message = (try? JSONDecoder().decode([String: String].self, from: data))?["error"] ?? String(decoding: data, as: UTF8.self)
            let hint = status == 401 ? " (pass --token-file, or set TOLLGATE_TOKEN)" : ""
            throw CLIError("aggregator answered \(status): \(message)\(hint)")
        }
        return data
    }
}

extension APIOptions {
    /// A request with an optional JSON body and bearer token; the decoded `{"error"}` on failure.
    /// `actor` is who the aggregator's audit log says made the change.
    func send(_ method: String, _ path: String, body: Data? = nil, token: String?, actor: String = ActorOptions.defaultActor) async throws -> Data {
        guard let url = URL(string: baseURL + path) else { throw CLIError("invalid --api URL \(baseURL)") }
        var request = URLRequest(url: url)
        request.httpMethod = method
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        request.setValue(actor, forHTTPHeaderField: "X-Tollgate-Actor")
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
            let hint = switch status {
            case 401: " (pass --token-file, or set TOLLGATE_TOKEN)"
            case 403: " (pass the admin token with --token-file, or set TOLLGATE_TOKEN to it)"
            default: ""
            }
            throw CLIError("aggregator answered \(status): \(message)\(hint)")
        }
        return data
    }
}

/// The API token: `--token-file`, else `TOLLGATE_TOKEN`, else the aggregator's default
/// token file this user can read (admin first, then read-only). Reading (usage, keys list,
/// audit, budget list) takes either token; changing budgets, keys and exemptions the admin one.
struct TokenOptions: ParsableArguments {
    static let defaultFile = "/var/lib/tollgate/api-token"
    static let defaultReadFile = "/var/lib/tollgate/api-read-token"

    @Option(help: "File holding the aggregator's API token: the admin token (api_token_file) to change anything, the read-only one (api_read_token_file) to read (default: $TOLLGATE_TOKEN, else \(TokenOptions.defaultFile), else \(TokenOptions.defaultReadFile)).")
    var tokenFile: String?

    func token() throws -> String {
        if let tokenFile {
            guard let token = Self.read(tokenFile) else {
                throw CLIError("cannot read an API token from --token-file \(tokenFile); give the aggregator's api_token_file (admin, by default <data_dir>/api-token) "
                    + "or api_read_token_file (read-only, by default <data_dir>/api-read-token)")
            }
            return token
        }
        if let token = ProcessInfo.processInfo.environment["TOLLGATE_TOKEN"], !token.isEmpty { return token }
        if let token = Self.read(Self.defaultFile) ?? Self.read(Self.defaultReadFile) { return token }
        throw CLIError("this command needs an aggregator API token: pass --token-file FILE or set TOLLGATE_TOKEN. Reading takes the read-only token "
            + "(<data_dir>/api-read-token, \(Self.defaultReadFile) by default) or the admin token; changing budgets, keys and exemptions the admin token "
            + "(<data_dir>/api-token, \(Self.defaultFile) by default); api_token_file and api_read_token_file move them")
    }

    private static func read(_ path: String) -> String? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return token.isEmpty ? nil : token
    }
}

/// Who the aggregator's audit log says made a change: `--actor`, else `$USER@host`. The
/// token is what authorises the change; this says which person or job used it.
struct ActorOptions: ParsableArguments {
    @Option(help: "Who the audit log records as making this change (default: $USER@host).")
    var actor: String = ActorOptions.defaultActor

    static var defaultActor: String {
        let environment = ProcessInfo.processInfo.environment
        return "\(environment["USER"] ?? environment["LOGNAME"] ?? "unknown")@\(ProcessInfo.processInfo.hostName)"
    }
}

struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
