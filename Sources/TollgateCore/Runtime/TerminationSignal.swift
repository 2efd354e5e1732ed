import Dispatch
import Foundation

/// Blocks the calling thread until SIGINT or SIGTERM arrives, so a daemon's `main` can
/// start its servers, wait here, and then shut down gracefully.
public func waitForTerminationSignal() {
    let received = DispatchSemaphore(value: 0)
    var sources: [DispatchSourceSignal] = []
    for signalNumber in [SIGINT, SIGTERM] {
        // Ignore the default action so the dispatch source, not the kernel, handles it.
        signal(signalNumber, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
        source.setEventHandler { received.signal() }
        source.resume()
        sources.append(source)
    }
    received.wait()
    sources.forEach { $0.cancel() }
}
