#!/usr/bin/env bash
# Quota propagation: from the usage batch that crosses a budget's cap to every one of 100
# subscribed agents holding it as blocking (real aggregator in process, loopback ZeroMQ);
# p50/p99 over 200 trials. Extra arguments go to the benchmark: --agents N --trials T
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product quota-benchmark >/dev/null
"$(swift build -c release --show-bin-path)/quota-benchmark" "$@"
