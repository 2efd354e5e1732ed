#!/usr/bin/env bash
# The full kill tests of issue #17, under load with one API key per request, every request
# checked against the mock's ledger: SIGKILLs the agent 20 times (KILLS=n to change), then
# the aggregator 20 times (AGGREGATOR_KILLS=n). CI runs the same tests with 5 kills each as
# part of the integration suite.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --build-tests
TOLLGATE_KILLS="${KILLS:-20}" swift test --skip-build --filter 'SpoolDurabilityTests/killingTheAgentUnderLoadLosesNoDeliveredResponse'
TOLLGATE_AGGREGATOR_KILLS="${AGGREGATOR_KILLS:-20}" swift test --skip-build --filter 'AggregatorDurabilityTests/killingTheAggregatorUnderLoadLosesNothing'
