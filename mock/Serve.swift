import ArgumentParser
import Foundation
import TollgateMockProvider
import UnixSignals

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the mock provider server (OpenAI, Azure, Anthropic, Gemini) until interrupted.",
        discussion: """
        Serves each provider's API in its own wire format, whole or streamed, with usage \
        that is a pure function of the request body (the same request always bills the \
        same tokens). Any non-empty key is accepted; responses name the model as the \
        provider would (gpt-4o becomes gpt-4o-2024-08-06, claude-sonnet-4-5 becomes \
        claude-sonnet-4-5-20250929).

          POST /v1/chat/completions
              OpenAI. "stream": true streams chunks; the usage chunk comes only
              with stream_options.include_usage.
          POST /v1/responses
              OpenAI Responses; "stream": true streams typed events.
          POST /v1/embeddings
              OpenAI; float or base64 vectors.
          POST /v1/completions
              OpenAI legacy completions; max_tokens defaults to 16.
          POST /openai/deployments/D/chat/completions?api-version=V
              Azure OpenAI; api-key header; the model is the deployment, D.
          POST /v1/messages
              Anthropic; x-api-key or Bearer key, anthropic-version header.
          POST /v1beta/models/M:generateContent (or /v1/models/…)
          POST /v1beta/models/M:streamGenerateContent
              Gemini; ?alt=sse streams SSE, otherwise a JSON array;
              x-goog-api-key header or ?key=.

        The agent's route prefixes /openai, /anthropic and /gemini are accepted and \
        stripped, so `traffic --agent-url` can target the mock directly. Prompts of 1024 \
        tokens or more report cached input (OpenAI: half; Gemini: on about half the \
        requests); Anthropic prompts with a cache_control breakpoint over 1024 tokens write \
        the cache on about one request in three and read it on the others; o-series and \
        GPT-5 models report reasoning, Gemini Pro and 2.5 Flash report thoughts.

        Test hooks (request headers):
          X-Mock-Status: 503          reply with that 4xx/5xx, in the provider's shape
          X-Mock-Chunk-Delay-Ms: 50   pause between streamed events (default 0)
        and endpoints:
          GET /_mock/ledger           every billed request, per provider, key, model
          GET /healthz                liveness

        Once bound it prints one line, `tollgate-mock listening on http://HOST:PORT`, so \
        scripts can pass --port 0 and read the real port. Stops on SIGINT or SIGTERM.
        """
    )

    @Option(help: "Address to bind.")
    var host = "127.0.0.1"

    @Option(help: "Port to bind; 0 picks a free one and prints it.")
    var port = 9700

    @Option(help: "Also serve HTTPS on this port (0 = any free one), posing as --tls-hosts with a throwaway CA.")
    var tlsPort: Int?

    @Option(help: "Comma-separated host names the TLS certificate covers.")
    var tlsHosts = MockTLSIdentity.defaultHosts.joined(separator: ",")

    @Option(help: "Where to write the throwaway CA's certificate (PEM) for clients to trust.")
    var tlsCAFile: String?

    func validate() throws {
        guard (0...65535).contains(port) else {
            throw ValidationError("--port \(port) is out of range; use 0...65535 (0 = any free port)")
        }
        if let tlsPort, !(0...65535).contains(tlsPort) {
            throw ValidationError("--tls-port \(tlsPort) is out of range; use 0...65535 (0 = any free port)")
        }
        if tlsPort != nil && tlsCAFile == nil {
            throw ValidationError("--tls-port needs --tls-ca-file: clients must be able to trust the mock's CA")
        }
    }

    func run() async throws {
        let server = MockProviderServer()
        let boundPort: Int
        do {
            boundPort = try server.start(host: host, port: port)
        } catch {
            server.stop()
            throw ServeError.cannotListen(host: host, port: port, reason: "\(error)")
        }
        let urlHost = host.contains(":") ? "[\(host)]" : host
        print("tollgate-mock listening on http://\(urlHost):\(boundPort)")
        if let tlsPort, let tlsCAFile {
            let identity = try MockTLSIdentity(hosts: tlsHosts.split(separator: ",").map(String.init))
            try identity.caPEM.write(toFile: tlsCAFile, atomically: true, encoding: .utf8)
            let boundTLSPort: Int
            do {
                boundTLSPort = try server.start(host: host, port: tlsPort, tls: identity.serverContext)
            } catch {
                server.stop()
                throw ServeError.cannotListen(host: host, port: tlsPort, reason: "\(error)")
            }
            print("tollgate-mock listening on https://\(urlHost):\(boundTLSPort) as \(tlsHosts) (CA: \(tlsCAFile))")
        }
        fflush(nil)  // all output streams; `stdout` itself is a global var Swift 6 will not touch

        // Until SIGINT or SIGTERM, so the socket closes and the process exits cleanly.
        for await _ in await UnixSignalsSequence(trapping: .sigterm, .sigint) { break }
        server.stop()
    }
}

/// Startup failures; thrown rather than `ValidationError` because the arguments were fine.
enum ServeError: Error, CustomStringConvertible {
    case cannotListen(host: String, port: Int, reason: String)

    var description: String {
        switch self {
        case .cannotListen(let host, let port, let reason):
            "cannot listen on \(host):\(port) (\(reason)); pick another --port, or 0 for any free one"
        }
    }
}
