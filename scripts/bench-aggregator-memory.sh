#!/usr/bin/env bash
# Aggregator memory under steady ingest (issue #17): runs a release `tollgate serve` on a
# fresh data directory, feeds it RATE cells/s (default 50,000, from 20 simulated agents,
# new cell keys every minute) for SECONDS_TOTAL (default 660), and samples its RSS and the data
# directory's size every 10 s. Prints every sample, then one row per minute. NO_BUILD=1 and
# BIN_DIR=dir run binaries built elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TOTAL="${SECONDS_TOTAL:-660}"
RATE="${RATE:-50000}"
if [ -z "${NO_BUILD:-}" ]; then
  swift build -c release --product tollgate >/dev/null
  swift build -c release --product ingest-benchmark >/dev/null
fi
bin="${BIN_DIR:-$(swift build -c release --show-bin-path)}"
work="$(mktemp -d /tmp/tollgate-memory-XXXXXX)"
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
port=$((20000 + RANDOM % 20000))
cat > "$work/aggregator.yaml" <<YAML
data_dir: $work/data
insecure_plaintext: true
usage_listen: tcp://127.0.0.1:$port
quota_listen: tcp://127.0.0.1:$((port + 2))
api_listen: 127.0.0.1:$((port + 1))
YAML
"$bin/tollgate" serve --config "$work/aggregator.yaml" >"$work/aggregator.log" 2>&1 &
server=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$((port + 1))/healthz" >/dev/null && break; sleep 0.1; done
"$bin/ingest-benchmark" --target "tcp://127.0.0.1:$port" --seconds "$SECONDS_TOTAL" --rate "$RATE" >"$work/soak.log" 2>&1 &
soak=$!
echo "uptime at start: $(uptime)"
echo "seconds rss_mib data_mib"
start=$(date +%s)
while kill -0 "$soak" 2>/dev/null; do
  rss=$(awk '/VmRSS/ { print $2 }' "/proc/$server/status")
  data=$(du -sk "$work/data" | cut -f1)
  printf '%d %.1f %.1f\n' "$(( $(date +%s) - start ))" "$(echo "$rss / 1024" | bc -l)" "$(echo "$data / 1024" | bc -l)" | tee -a "$work/samples"
  sleep 10
done
wait "$soak"
cat "$work/soak.log"
echo "uptime at end: $(uptime)"
echo "minute  RSS (MiB, last sample of the minute)  data dir (MiB)"
awk '{ minute = int($1 / 60); rss[minute] = $2; data[minute] = $3; if (minute > last) last = minute }
     END { for (m = 0; m <= last; m++) if (m in rss) printf "%6d  %8.1f  %8.1f\n", m, rss[m], data[m] }' "$work/samples"
