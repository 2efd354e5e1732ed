#!/usr/bin/env bash
# Aggregator ingest rate (UsageStore.apply, one synced WriteBatch per 1,000-cell batch),
# without budgets and with 20 budgets active; medians of 5 alternating runs and the ratio.
# Extra arguments go to the benchmark: --batches N --cells C --runs R --budgets B
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product ingest-benchmark >/dev/null
"$(swift build -c release --show-bin-path)/ingest-benchmark" "$@"
