#!/usr/bin/env bash
# End-to-end shipping rate (ring → spool → ZeroMQ → RocksDB commit), median of 5 runs.
# Extra arguments go to the benchmark: --events N --producers P --keys K --repetitions R
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product shipping-benchmark >/dev/null
"$(swift build -c release --show-bin-path)/shipping-benchmark" "$@"
