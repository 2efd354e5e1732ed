#!/usr/bin/env bash
# Runs the whole test suite: unit tests and the end-to-end tests that start the real
# aggregator, agent and mock provider as processes on loopback. `.ci/run` calls this.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# Build every product first: the integration tests launch the executables.
swift build --build-tests
# What deploy/ ships, offline: Prometheus rules (promtool check and test), Kubernetes
# manifests (kubernetes-validate) and their ConfigMaps' configs against the built programs,
# the Grafana dashboard's shape (~15 s).
scripts/check-deploy.sh
# The lock-free ring under ThreadSanitizer (its own small build in .build-tsan, ~1 min).
scripts/tsan-ring.sh
# Unit tests first, then the multi-process integration tests on their own: those time real
# processes (drains, kills, restarts), and CPU-heavy unit tests beside them can starve the
# cooperative thread pool for seconds. Split, the suite is also quicker (~57 s against ~62 s).
swift test --skip-build --skip TollgateIntegrationTests
swift test --skip-build --filter TollgateIntegrationTests --skip FleetBedTests --skip ShutdownOrderTests \
  --skip BudgetEnforcementTests --skip ProxyLimitsWireTests
# Suites that time the agent against a deadline (caps reached within a stated overshoot
# while clients retry; a stream outliving the request deadline) run beside each other only:
# among the ~70 other integration tests their workers were starved for a minute and more.
swift test --skip-build --filter "BudgetEnforcementTests|ProxyLimitsWireTests"
# The agent's graceful shutdown runs inside the test process, on the same two-thread
# cooperative pool (on 2 cores) as the other suites' clients, whose raw-socket reads block
# their thread for seconds: beside them, the shutdown itself waited (once 16 s). Alone, ~6 s.
swift test --skip-build --filter ShutdownOrderTests
# The fleet test bed last and alone: it builds hosts out of network namespaces
# (scripts/lib/fleet-netns.sh), needs root and iproute2 and fails, saying so, without them;
# it times how fast a cap reaches every host, which other multi-process suites running
# beside it would measure instead (~70 s, mostly a 30 s partition).
swift test --skip-build --filter FleetBedTests
# The Debian package: a release build with the Swift runtime linked statically, installed
# into a fresh debootstrap root, its files, owners, modes, units and version checked and
# both services started from it (scripts/test-package.sh; the slowest phase: the release
# build, then a minimal bookworm root and the package's Depends from Debian's mirror).
scripts/test-package.sh
