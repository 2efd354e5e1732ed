#!/usr/bin/env bash
# Runs the whole test suite: unit tests and the end-to-end tests that start the real
# aggregator, agent and mock provider as processes on loopback. `.ci/run` calls this.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# Build every product first: the integration tests launch the executables.
swift build --build-tests
# The lock-free ring under ThreadSanitizer (its own small build in .build-tsan, ~1 min).
scripts/tsan-ring.sh
swift test --skip-build
