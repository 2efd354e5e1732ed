import Crypto
import Foundation
import X509

/// The agent's local certificate authority: it signs the leaf certificates the agent
/// presents when it terminates TLS for a provider host. Clients that trust `ca.crt` get
/// metered without code changes; anyone holding `ca.key` can impersonate any host to
/// them, which is why the key lives 0600 in the state dir and is never overwritten.
public struct CertificateAuthority: Sendable {
    public static let certificateFileName = "ca.crt"
    public static let privateKeyFileName = "ca.key"
    public static let defaultCommonName = "Tollgate agent local CA"
    public static let defaultValidity: TimeInterval = 10 * 365.25 * 86_400

    /// `<state_dir>/ca`: where `tollgate-agent ca init` writes the CA and the proxy loads it.
    public static func directory(stateDirectory: String) -> String {
        path("ca", in: stateDirectory)
    }

    let certificate: Certificate
    let privateKey: Certificate.PrivateKey
    /// Leaves name this in their authority key identifier so verifiers pick the right issuer.
    let keyIdentifier: ArraySlice<UInt8>

    /// A fresh P-256 CA. pathlen 0: it may sign leaves, never another CA.
    public static func create(commonName: String = defaultCommonName,
                              validity: TimeInterval = defaultValidity,
                              now: Date = Date()) throws -> CertificateAuthority {
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let name = try DistinguishedName {
            OrganizationName("Tollgate")
            CommonName(commonName)
        }
        let keyIdentifier = SubjectKeyIdentifier(hash: key.publicKey)
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
            Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            keyIdentifier
        }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: key.publicKey,
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(validity),
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions,
            issuerPrivateKey: key)
        return try CertificateAuthority(certificate: certificate, privateKey: key)
    }

    public init(certificatePEM: String, privateKeyPEM: String) throws {
        let certificate: Certificate
        let key: Certificate.PrivateKey
        do { certificate = try Certificate(pemEncoded: certificatePEM) } catch {
            throw CertificateAuthorityError.unreadable(what: "CA certificate", detail: "\(error)")
        }
        do { key = try Certificate.PrivateKey(pemEncoded: privateKeyPEM) } catch {
            throw CertificateAuthorityError.unreadable(what: "CA private key", detail: "\(error)")
        }
        try self.init(certificate: certificate, privateKey: key)
    }

    init(certificate: Certificate, privateKey: Certificate.PrivateKey) throws {
        guard privateKey.publicKey == certificate.publicKey else { throw CertificateAuthorityError.keyDoesNotMatchCertificate }
        guard case .isCertificateAuthority = try certificate.extensions.basicConstraints else {
            throw CertificateAuthorityError.notACertificateAuthority
        }
        self.certificate = certificate
        self.privateKey = privateKey
        keyIdentifier = try certificate.extensions.subjectKeyIdentifier?.keyIdentifier
            ?? SubjectKeyIdentifier(hash: certificate.publicKey).keyIdentifier
    }

    public var certificatePEM: String {
        get throws { try certificate.serializeAsPEM().pemString }
    }

    var privateKeyPEM: String {
        get throws { try privateKey.serializeAsPEM().pemString }
    }

    public var notValidAfter: Date { certificate.notValidAfter }

    /// Writes `ca.crt` (0644) and `ca.key` (0600) into `directory`, creating it 0700 if
    /// needed. Refuses to replace either file: a new CA would silently break every client
    /// that trusts the old one.
    public func write(to directory: String) throws {
        let keyPath = Self.path(Self.privateKeyFileName, in: directory)
        let certificatePath = Self.path(Self.certificateFileName, in: directory)
        for path in [keyPath, certificatePath] where FileManager.default.fileExists(atPath: path) {
            throw CertificateAuthorityError.alreadyExists(path: path)
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw CertificateAuthorityError.io(path: directory, operation: "create directory", detail: "\(error)")
        }
        try Self.createExclusively(keyPath, mode: 0o600, contents: privateKeyPEM)
        do {
            try Self.createExclusively(certificatePath, mode: 0o644, contents: certificatePEM)
        } catch {
            // A key without its certificate is useless and would block the next `ca init`.
            unlink(keyPath)
            throw error
        }
    }

    public static func load(from directory: String) throws -> CertificateAuthority {
        let keyPath = path(privateKeyFileName, in: directory)
        let certificatePath = path(certificateFileName, in: directory)
        let certificatePEM = try readText(certificatePath, what: "CA certificate")
        var status = stat()
        guard stat(keyPath, &status) == 0 else {
            if errno == ENOENT { throw CertificateAuthorityError.missing(path: keyPath, what: "CA private key") }
            throw CertificateAuthorityError.io(path: keyPath, operation: "stat", detail: String(cString: strerror(errno)))
        }
        let mode = UInt32(status.st_mode) & 0o777
        guard mode & 0o077 == 0 else { throw CertificateAuthorityError.keyTooOpen(path: keyPath, mode: mode) }
        let privateKeyPEM = try readText(keyPath, what: "CA private key")
        do {
            return try CertificateAuthority(certificatePEM: certificatePEM, privateKeyPEM: privateKeyPEM)
        } catch let error as CertificateAuthorityError {
            throw CertificateAuthorityError.inDirectory(directory, error)
        }
    }

    /// The CA certificate alone, for `ca export`: it needs no access to the key, so an
    /// operator without read access to `ca.key` can still hand the certificate out.
    public static func certificatePEM(in directory: String) throws -> String {
        let certificatePath = path(certificateFileName, in: directory)
        let pem = try readText(certificatePath, what: "CA certificate")
        do { return try Certificate(pemEncoded: pem).serializeAsPEM().pemString } catch {
            throw CertificateAuthorityError.inDirectory(
                directory, .unreadable(what: "CA certificate \(certificatePath)", detail: "\(error)"))
        }
    }

    static func path(_ file: String, in directory: String) -> String {
        (directory as NSString).appendingPathComponent(file)
    }

    private static func readText(_ path: String, what: String) throws -> String {
        guard FileManager.default.fileExists(atPath: path) else { throw CertificateAuthorityError.missing(path: path, what: what) }
        do { return try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw CertificateAuthorityError.io(path: path, operation: "read", detail: "\(error)")
        }
    }

    /// O_EXCL makes "never overwrite" hold even against a concurrent `ca init`; fchmod
    /// afterwards because the umask may have trimmed the mode passed to open.
    private static func createExclusively(_ path: String, mode: mode_t, contents: String) throws {
        let fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode)
        guard fd >= 0 else {
            if errno == EEXIST { throw CertificateAuthorityError.alreadyExists(path: path) }
            throw CertificateAuthorityError.io(path: path, operation: "create", detail: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        guard fchmod(fd, mode) == 0 else {
            throw CertificateAuthorityError.io(path: path, operation: "chmod", detail: String(cString: strerror(errno)))
        }
        do {
            let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: false)
            try handle.write(contentsOf: Data(contents.utf8))
            try handle.synchronize()
        } catch {
            throw CertificateAuthorityError.io(path: path, operation: "write", detail: "\(error)")
        }
    }
}

public enum CertificateAuthorityError: Error, CustomStringConvertible {
    case missing(path: String, what: String)
    case alreadyExists(path: String)
    case keyTooOpen(path: String, mode: UInt32)
    case unreadable(what: String, detail: String)
    case keyDoesNotMatchCertificate
    case notACertificateAuthority
    case io(path: String, operation: String, detail: String)
    indirect case inDirectory(String, CertificateAuthorityError)

    public var description: String {
        switch self {
        case .missing(let path, let what):
            "no \(what) at \(path); run `tollgate-agent ca init` to create the agent's CA"
        case .alreadyExists(let path):
            "\(path) already exists; refusing to overwrite it (clients trust the CA it belongs to). "
                + "Use `tollgate-agent ca export` to print the existing CA, or move the old files away first"
        case .keyTooOpen(let path, let mode):
            "\(path) is readable by other users (mode \(String(mode, radix: 8))); anyone who reads it can impersonate "
                + "any host to clients that trust this CA. Run `chmod 600 \(path)`"
        case .unreadable(let what, let detail):
            "the \(what) is not valid PEM: \(detail)"
        case .keyDoesNotMatchCertificate:
            "the CA private key does not belong to the CA certificate"
        case .notACertificateAuthority:
            "the CA certificate is not a CA (basic constraints CA:false or missing)"
        case .io(let path, let operation, let detail):
            "\(operation) failed for \(path): \(detail); check the state_dir's permissions and disk space"
        case .inDirectory(let directory, let error):
            "\(error) (in \(directory)); move the files away and run `tollgate-agent ca init` to create a new CA"
        }
    }
}
