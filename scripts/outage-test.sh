#!/usr/bin/env bash
# The 10-minute outage of issue #17: steady traffic (one API key per request, ~20 req/s)
# while the aggregator is down for 600 s (SECONDS_DOWN=n to change), then it restarts, the
# agent's backlog drains, and every request is checked against the mock's ledger. CI runs
# the same test with a 20 s outage as part of the integration suite.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --build-tests
TOLLGATE_OUTAGE_SECONDS="${SECONDS_DOWN:-600}" swift test --skip-build --filter 'AggregatorDurabilityTests/anOutageUnderSteadyTrafficLosesNothing'
