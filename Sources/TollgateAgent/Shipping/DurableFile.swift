import Foundation

/// The few POSIX file operations that crash safety rests on, with errors that name the path.
enum DurableFile {
    /// Replaces `path` with `data` so that after a crash the file is either the old or the
    /// new content, never a mix: write a temp file, fsync it, rename, fsync the directory.
    static func writeAtomically(_ data: Data, to path: String) throws {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SpoolError.io(path: temporary, operation: "create", code: errno) }
        defer { close(fd) }
        try writeAll(fd, data, path: temporary)
        guard fsync(fd) == 0 else { throw SpoolError.io(path: temporary, operation: "fsync", code: errno) }
        guard rename(temporary, path) == 0 else { throw SpoolError.io(path: path, operation: "rename", code: errno) }
        try syncDirectory(of: path)
    }

    static func writeAll(_ fd: Int32, _ data: Data, path: String) throws {
        try data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw SpoolError.io(path: path, operation: "write", code: errno)
                }
                offset += written
            }
        }
    }

    /// A rename is durable only once the directory entry itself is on disk.
    static func syncDirectory(of path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let fd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw SpoolError.io(path: directory, operation: "open directory", code: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw SpoolError.io(path: directory, operation: "fsync directory", code: errno) }
    }
}

enum SpoolError: Error, CustomStringConvertible {
    case io(path: String, operation: String, code: Int32)

    var description: String {
        switch self {
        case .io(let path, let operation, let code):
            "spool \(operation) failed for \(path): \(String(cString: strerror(code))); check state_dir's disk space and permissions"
        }
    }
}

/// Little-endian integers in and out of byte buffers, for the spool's record headers.
struct ByteWriter {
    private(set) var data = Data()

    mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) }
    }

    mutating func append(_ bytes: Data) { data.append(bytes) }
}

struct ByteReader {
    let data: Data
    private(set) var offset: Int

    init(_ data: Data) {
        self.data = data
        offset = data.startIndex
    }

    var remaining: Int { data.endIndex - offset }

    mutating func read<T: FixedWidthInteger>(_: T.Type) -> T? {
        let size = MemoryLayout<T>.size
        guard remaining >= size else { return nil }
        var value = T.zero
        withUnsafeMutableBytes(of: &value) { data.copyBytes(to: $0, from: offset..<offset + size) }
        offset += size
        return T(littleEndian: value)
    }

    mutating func read(count: Int) -> Data? {
        guard count >= 0, remaining >= count else { return nil }
        defer { offset += count }
        return data.subdata(in: offset..<offset + count)
    }
}
