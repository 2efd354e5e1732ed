import Foundation

/// A child process driven by lines on its stdin and answering by lines on its stdout.
final class ChildProcess {
    let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private var buffer = Data()

    init(_ executable: String, _ arguments: [String], stderr: FileHandle? = nil) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = input
        process.standardOutput = output
        if let stderr { process.standardError = stderr }
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }

    func send(_ line: String) {
        input.fileHandleForWriting.write(Data((line + "\n").utf8))
    }

    /// The next line, blocking; nil once the child closed its stdout.
    func readLine() -> String? {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...newline)
                return line
            }
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { return nil }
            buffer.append(chunk)
        }
    }

    /// The next line's words, or a fatal error naming what the child was asked.
    func expect(_ prefix: String) -> [String] {
        guard let line = readLine() else { fatalError("a worker exited while \(prefix)") }
        let words = line.split(separator: " ").map(String.init)
        guard words.first == prefix else { fatalError("a worker answered '\(line.prefix(200))' while \(prefix)") }
        return words
    }

    func terminate() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}

/// What /proc says of a process: resident memory now and at peak, threads, open descriptors.
struct ProcessFootprint: CustomStringConvertible {
    var rssKiB = 0
    var peakKiB = 0
    var threads = 0
    var openFiles = 0

    init(pid: Int32) {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        for line in status.split(separator: "\n") {
            let words = line.split(whereSeparator: \.isWhitespace)
            guard words.count >= 2, let value = Int(words[1]) else { continue }
            switch words[0] {
            case "VmRSS:": rssKiB = value
            case "VmHWM:": peakKiB = value
            case "Threads:": threads = value
            default: break
            }
        }
        openFiles = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
    }

    var description: String {
        String(format: "RSS %.1f MiB (peak %.1f MiB), %d open fds, %d threads",
               Double(rssKiB) / 1024, Double(peakKiB) / 1024, openFiles, threads)
    }
}

/// Another process's CPU time so far (user + system, every thread), in ms, from
/// /proc/PID/stat: clock ticks, so a difference is good to about 10 ms per reading.
func processCPUMilliseconds(pid: Int32) -> Double {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return .nan }
    // Fields after the command name: state is the 3rd field, utime the 14th, stime the 15th.
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return .nan }
    return (user + system) * 1_000 / Double(sysconf(Int32(_SC_CLK_TCK)))
}
