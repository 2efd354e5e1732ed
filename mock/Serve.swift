import ArgumentParser
import Dispatch
import Foundation
import TollgateMockProvider

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the mock OpenAI server until interrupted.",
        discussion: """
        Serves POST /v1/chat/completions like OpenAI: any non-empty `Authorization: Bearer` \
        key is accepted, the response names the dated model snapshot (gpt-4o → \
        gpt-4o-2024-08-06) and carries a full usage object. Prompts over 1024 tokens \
        report half their tokens as cached; o-series models report reasoning tokens.

        Test hooks:
          X-Mock-Status: 429     answer with that status (any 4xx/5xx) in OpenAI's error shape
          GET /_mock/ledger      every successful completion so far, per key and model
          GET /healthz           liveness

        Once bound it prints one line, `tollgate-mock listening on http://HOST:PORT`, so \
        scripts can pass --port 0 and read the real port. Stops on SIGINT or SIGTERM.
        """
    )

    @Option(help: "Address to bind.")
    var host = "127.0.0.1"

    @Option(help: "Port to bind; 0 picks a free one and prints it.")
    var port = 9700

    func validate() throws {
        guard (0...65535).contains(port) else {
            throw ValidationError("--port \(port) is out of range; use 0...65535 (0 = any free port)")
        }
    }

    func run() async throws {
        let server = MockProviderServer()
        let boundPort: Int
        do {
            boundPort = try server.start(host: host, port: port)
        } catch {
            server.stop()
            throw ValidationError("cannot listen on \(host):\(port): \(error); pick another --port or pass 0")
        }
        let urlHost = host.contains(":") ? "[\(host)]" : host
        print("tollgate-mock listening on http://\(urlHost):\(boundPort)")
        fflush(stdout)

        await TerminationSignal.wait()
        server.stop()
    }
}

/// Suspends until SIGINT or SIGTERM, so `serve` can close its socket and exit cleanly.
enum TerminationSignal {
    static func wait() async {
        let queue = DispatchQueue(label: "tollgate-mock.signals")
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            var sources: [DispatchSourceSignal] = []
            var resumed = false
            for number in [SIGINT, SIGTERM] {
                // The default action would kill the process before the handler runs.
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
                source.setEventHandler {
                    guard !resumed else { return }
                    resumed = true
                    sources.forEach { $0.cancel() }
                    continuation.resume()
                }
                source.resume()
                sources.append(source)
            }
        }
    }
}
