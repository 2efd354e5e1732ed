#!/usr/bin/env bash
# History that stays fast: 90 days of a realistic fleet (1,000 keys, 10 teams, 3 envs,
# 20 models, 50 use cases) loaded through the real ingest path with 20 budgets and rollups,
# then `GET /v1/usage` timed on a real aggregator (p50s), and ingest with / without rollups
# in the same sitting (ratio). Figures: docs/BENCHMARKS.md ("Usage queries over history").
# Extra arguments go to the benchmark: --days N --rate CELLS_PER_MIN --runs R --ingest-days D --ingest-runs R --only NAME
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product query-benchmark >/dev/null
"$(swift build -c release --show-bin-path)/query-benchmark" "$@"
