// swift-tools-version:6.1
import PackageDescription

/// Tollgate: an LLM-spend meter and cap. See README.md and docs/ for the map.
///
/// Module order (a module depends only on modules above it):
/// CZeroMQ/CLZ4/CRocksDB → TollgateCore → TollgateProviders → TollgateHTTP1 → TollgateWire
/// → TollgateAgent / TollgateAggregator. TollgateMockProvider is the stand-in
/// for the LLM providers that tests and the demo talk to.
/// Every target builds in the Swift 6 language mode (complete concurrency checking).
let swiftSettings: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "tollgate",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tollgate-agent", targets: ["tollgate-agent"]),
        .executable(name: "tollgate", targets: ["tollgate"]),
        .executable(name: "tollgate-mock", targets: ["tollgate-mock"]),
        .executable(name: "ring-benchmark", targets: ["ring-benchmark"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-atomics.git", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        // System libraries, found through pkg-config (scripts/install-deps.sh installs them).
        .systemLibrary(name: "CZeroMQ", pkgConfig: "libzmq", providers: [.apt(["libzmq3-dev"])]),
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
        .systemLibrary(name: "CRocksDB", pkgConfig: "rocksdb", providers: [.apt(["librocksdb-dev"])]),

        .target(
            name: "TollgateCore",
            dependencies: [
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
                // Both sides' /metrics share CounterFamily and the build-info gauge.
                .product(name: "Prometheus", package: "swift-prometheus"),
                // NIOLock and NIOLockedValueBox: the one lock Tollgate's own code uses.
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TollgateProviders",
            dependencies: ["TollgateCore"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TollgateHTTP1",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TollgateWire",
            dependencies: [
                "TollgateCore", "CZeroMQ", "CLZ4",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            exclude: ["README.md"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TollgateAgent",
            dependencies: [
                "TollgateCore", "TollgateProviders", "TollgateHTTP1", "TollgateWire", "TollgateRing",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TollgateAggregator",
            dependencies: [
                // Providers: the price catalog, which resolves budgets' model names.
                "TollgateCore", "TollgateProviders", "TollgateWire", "CRocksDB",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TollgateRing",
            dependencies: [.product(name: "Atomics", package: "swift-atomics")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TollgateMockProvider",
            dependencies: [
                "TollgateCore", "TollgateProviders",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                // TLS, so tests can pose as api.openai.com behind a throwaway CA.
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),

        .executableTarget(
            name: "tollgate-agent",
            dependencies: [
                "TollgateAgent", "TollgateCore", "TollgateProviders",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "agent",
            exclude: ["tollgate-agent.example.yaml"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "tollgate",
            dependencies: [
                "TollgateAggregator", "TollgateCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "aggregator",
            exclude: ["tollgate.example.yaml"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "tollgate-mock",
            dependencies: [
                "TollgateMockProvider", "TollgateCore", "TollgateProviders",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            path: "mock",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "ring-benchmark",
            dependencies: ["TollgateRing"],
            path: "Benchmarks/ring-benchmark",
            swiftSettings: swiftSettings
        ),

        .executableTarget(
            name: "shipping-benchmark",
            dependencies: ["TollgateAgent", "TollgateAggregator", "TollgateCore", .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/shipping-benchmark",
            swiftSettings: swiftSettings
        ),

        .executableTarget(
            name: "ingest-benchmark",
            dependencies: ["TollgateAggregator", "TollgateCore", "TollgateWire", .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/ingest-benchmark",
            swiftSettings: swiftSettings
        ),

        .executableTarget(
            name: "query-benchmark",
            dependencies: ["TollgateAggregator", "TollgateCore", "TollgateWire", .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/query-benchmark",
            swiftSettings: swiftSettings
        ),

        .executableTarget(
            name: "proxy-floor",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Benchmarks/proxy-floor",
            swiftSettings: swiftSettings
        ),

        .executableTarget(
            name: "metering-benchmark",
            dependencies: ["TollgateProviders"],
            path: "Benchmarks/metering-benchmark",
            swiftSettings: swiftSettings
        ),

        .executableTarget(
            name: "quota-benchmark",
            dependencies: ["TollgateAggregator", "TollgateCore", "TollgateWire", .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/quota-benchmark",
            swiftSettings: swiftSettings
        ),

        .executableTarget(
            name: "fleet-scale-benchmark",
            // NIOPosix only for CNIOLinux's epoll (FleetReadiness), which Glibc's module leaves out.
            dependencies: ["TollgateCore", "TollgateWire", "CZeroMQ", .product(name: "NIOPosix", package: "swift-nio")],
            path: "Benchmarks/fleet-scale-benchmark",
            swiftSettings: swiftSettings
        ),

        // Helpers shared by the test targets (a seeded random generator, the manual clock).
        .target(
            name: "TestSupport",
            dependencies: ["TollgateCore", .product(name: "NIOConcurrencyHelpers", package: "swift-nio")],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TollgateCoreTests",
            dependencies: ["TollgateCore", "TestSupport", .product(name: "Prometheus", package: "swift-prometheus")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TollgateProvidersTests",
            dependencies: ["TollgateProviders", "TestSupport"],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TollgateHTTP1Tests",
            dependencies: [
                "TollgateHTTP1", "TestSupport",
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "TollgateWireTests", dependencies: ["TollgateWire", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "TollgateAgentTests",
            dependencies: [
                "TollgateAgent", "TollgateHTTP1", "TollgateWire", "TestSupport",
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TollgateAggregatorTests",
            dependencies: [
                // The mock serves the providers' admin reports the reconciliation tests pull.
                "TollgateAggregator", "TestSupport", "TollgateMockProvider",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "TollgateRingTests", dependencies: ["TollgateRing"], swiftSettings: swiftSettings),
        .testTarget(
            name: "TollgateIntegrationTests",
            dependencies: [
                "TollgateCore", "TollgateAgent", "TollgateAggregator", "TollgateMockProvider", "TestSupport",
                "tollgate-agent", "tollgate", "tollgate-mock",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                // Reads docs/openapi.yaml, which the API is tested against.
                .product(name: "Yams", package: "Yams"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
