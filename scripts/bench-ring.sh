#!/usr/bin/env bash
# Benchmarks MPSCRing against a Mutex-guarded ring array: events/s for 1, 2 and 4 producer
# threads feeding one consumer, median of several runs, as a table. Release build only:
# debug numbers say nothing. Arguments pass through, e.g. `--repetitions 3 --events 2000000`
# (see `--help`). Progress goes to stderr, the table to stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
swift run -c release ring-benchmark "$@"
