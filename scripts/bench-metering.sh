#!/usr/bin/env bash
# Metering cost per request without I/O (request classification, usage from a JSON body
# and from a 22-event SSE stream), against Foundation's JSONDecoder reading the same fields
# in the same run; and the spend-policy step per request with 0 and with 100 policies (issue
# #20). Extra arguments go to the benchmark: --iterations N --runs R --policies P --only KEY
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product metering-benchmark >/dev/null
"$(swift build -c release --show-bin-path)/metering-benchmark" "$@"
