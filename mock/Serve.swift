import ArgumentParser
import Dispatch
import Foundation
import TollgateMockProvider

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the mock OpenAI server until interrupted.",
        discussion: """
        Serves POST /v1/chat/completions like OpenAI: any non-empty bearer key is \
        accepted, the response names the dated model snapshot (gpt-4o becomes \
        gpt-4o-2024-08-06) and carries a full usage object. Prompts of 1024 tokens or \
        more report about half of them as cached; o-series models report reasoning.

        Test hooks:
          X-Mock-Status: 503   request header: reply with that 4xx/5xx status
          GET /_mock/ledger    every successful completion so far, per key and model
          GET /healthz         liveness

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
            throw ServeError.cannotListen(host: host, port: port, reason: "\(error)")
        }
        let urlHost = host.contains(":") ? "[\(host)]" : host
        print("tollgate-mock listening on http://\(urlHost):\(boundPort)")
        fflush(stdout)

        await TerminationSignal.wait()
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
