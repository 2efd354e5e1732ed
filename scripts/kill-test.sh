#!/usr/bin/env bash
# The full kill test of issue #17: SIGKILLs the agent 20 times (KILLS=n to change) under
# load with one API key per request, and checks every request against the mock's ledger.
# CI runs the same test with 5 kills as part of the integration suite.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --build-tests
TOLLGATE_KILLS="${KILLS:-20}" swift test --skip-build --filter 'SpoolDurabilityTests/killingTheAgentUnderLoadLosesNoDeliveredResponse'
