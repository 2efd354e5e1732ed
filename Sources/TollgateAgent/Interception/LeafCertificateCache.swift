import Crypto
import Foundation
import NIOConcurrencyHelpers
import NIOSSL
import SwiftASN1
import TollgateCore
import X509

/// TLS server contexts for intercepted hosts, each presenting a leaf certificate minted on
/// first use and signed by the agent's CA. Minting costs about a millisecond, so contexts
/// are cached per host; a leaf is re-minted a day before it expires so a long-running
/// agent never presents an expired certificate.
final class LeafCertificateCache: Sendable {
    struct Leaf: Sendable {
        let certificate: Certificate
        let context: NIOSSLContext
        var notValidAfter: Date { certificate.notValidAfter }
    }

    private struct Entry {
        let leaf: Leaf
        let sequence: UInt64
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var nextSequence: UInt64 = 0
    }

    private let authority: CertificateAuthority
    private let authorityCertificate: NIOSSLCertificate
    private let capacity: Int
    private let leafValidity: TimeInterval
    private let renewBefore: TimeInterval
    /// Leaves are minted and renewed by its calendar.
    private let clock: ServiceClock
    private let state = NIOLockedValueBox(State())

    init(authority: CertificateAuthority,
         capacity: Int = 1000,
         leafValidity: TimeInterval = 7 * 86_400,
         renewBefore: TimeInterval = 86_400,
         clock: ServiceClock = .system) throws {
        precondition(capacity > 0 && renewBefore < leafValidity)
        self.authority = authority
        authorityCertificate = try NIOSSLCertificate(bytes: Self.der(authority.certificate), format: .der)
        self.capacity = capacity
        self.leafValidity = leafValidity
        self.renewBefore = renewBefore
        self.clock = clock
    }

    var count: Int { state.withLockedValue { $0.entries.count } }

    /// The server context to terminate TLS for `host` (a DNS name or an IP literal, without port).
    func context(forHost host: String) throws -> NIOSSLContext {
        try leaf(forHost: host).context
    }

    func leaf(forHost host: String) throws -> Leaf {
        let key = try Self.normalize(host)
        let now = clock.date
        if let cached = state.withLockedValue({ $0.entries[key] }), isFresh(cached.leaf, at: now) {
            return cached.leaf
        }
        // Mint outside the lock so one slow mint does not stall handshakes for cached hosts.
        // Two racing first handshakes may both mint; the first to store wins and both use it.
        let minted = try mint(forHost: key, at: now)
        return state.withLockedValue { state in
            if let raced = state.entries[key], isFresh(raced.leaf, at: now) { return raced.leaf }
            if state.entries[key] == nil, state.entries.count >= capacity,
               let oldest = state.entries.min(by: { $0.value.sequence < $1.value.sequence })?.key {
                state.entries[oldest] = nil
            }
            state.entries[key] = Entry(leaf: minted, sequence: state.nextSequence)
            state.nextSequence += 1
            return minted
        }
    }

    private func isFresh(_ leaf: Leaf, at now: Date) -> Bool {
        now < leaf.notValidAfter.addingTimeInterval(-renewBefore)
    }

    func mint(forHost host: String, at now: Date) throws -> Leaf {
        let key = P256.Signing.PrivateKey()
        let publicKey = Certificate.PrivateKey(key).publicKey
        let ipAddress = Self.ipAddressBytes(host)
        let subject = try DistinguishedName {
            OrganizationName("Tollgate agent")
            // X.520 caps a common name at 64 characters; clients match on the SAN anyway.
            if host.utf8.count <= 64 { CommonName(host) }
        }
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(KeyUsage(digitalSignature: true))
            try ExtendedKeyUsage([.serverAuth])
            SubjectAlternativeNames([ipAddress.map { .ipAddress(ASN1OctetString(contentBytes: $0[...])) } ?? .dnsName(host)])
            SubjectKeyIdentifier(hash: publicKey)
            AuthorityKeyIdentifier(keyIdentifier: authority.keyIdentifier)
        }
        // Backdated an hour so a client whose clock runs a little slow still accepts it.
        let notValidAfter = min(now.addingTimeInterval(leafValidity), authority.certificate.notValidAfter)
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: publicKey,
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: notValidAfter,
            issuer: authority.certificate.subject,
            subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions,
            issuerPrivateKey: authority.privateKey)

        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try NIOSSLCertificate(bytes: Self.der(certificate), format: .der)),
                               .certificate(authorityCertificate)],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(key.derRepresentation), format: .der)))
        configuration.minimumTLSVersion = .tlsv12
        // The interception path speaks HTTP/1.1 to the client; say so rather than let a
        // client that offers h2 guess.
        configuration.applicationProtocols = ["http/1.1"]
        return Leaf(certificate: certificate, context: try NIOSSLContext(configuration: configuration))
    }

    /// One cache entry per host however the client spelled it: DNS names are
    /// case-insensitive and a trailing dot names the same host.
    static func normalize(_ host: String) throws -> String {
        var name = host.lowercased()
        if name.hasPrefix("["), name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        if name.hasSuffix(".") { name.removeLast() }
        let isDNSName = name.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
        }
        guard !name.isEmpty, name.utf8.count <= 253, isDNSName || ipAddressBytes(name) != nil else {
            throw LeafCertificateError.invalidHost(host)
        }
        return name
    }

    static func ipAddressBytes(_ host: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    private static func der(_ certificate: Certificate) throws -> [UInt8] {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return serializer.serializedBytes
    }
}

enum LeafCertificateError: Error, CustomStringConvertible {
    case invalidHost(String)

    var description: String {
        switch self {
        case .invalidHost(let host):
            "cannot mint a certificate for \"\(host)\": not a DNS name or IP address"
        }
    }
}
