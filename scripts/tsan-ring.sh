#!/usr/bin/env bash
# Builds ring-benchmark with ThreadSanitizer (debug, in its own scratch path so it does not
# clobber the normal build) and runs its `--stress` check: 4 producers x 250k records
# through a 256-slot MPSCRing. Fails on a lost or reordered record or on any TSan report.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=.build-tsan
swift build --sanitize=thread --scratch-path "$scratch" --product ring-benchmark
# halt_on_error turns the first report into a non-zero exit instead of a warning.
TSAN_OPTIONS="halt_on_error=1 ${TSAN_OPTIONS:-}" "$scratch/debug/ring-benchmark" --stress
