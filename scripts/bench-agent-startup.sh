#!/usr/bin/env bash
# Agent start-up after a day-long outage (issue #17): a release tollgate-agent starts on a
# state directory whose spool holds 350,000 one-cell batches (a day of 250 ms cuts with the
# aggregator away, laid out as the spool writes them), with no aggregator listening. Prints
# the time from launch to /healthz answering and to /status showing every batch recovered
# and queued for sending (page cache warm: the spool was just written). RUNS=n (default
# 3), BATCHES=n (default 350000).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-3}"
BATCHES="${BATCHES:-350000}"
if [ -z "${NO_BUILD:-}" ]; then
  swift build -c release --product tollgate-agent >/dev/null
  swift build --build-tests >/dev/null
fi
bin="${BIN_DIR:-$(swift build -c release --show-bin-path)}"
work="$(mktemp -d /tmp/tollgate-startup-XXXXXX)"
trap 'kill "$agent" 2>/dev/null || true; rm -rf "$work"' EXIT
agent=
# The spool, built by the same code the agent writes it with (Tests/TollgateAgentTests/SpoolStartupBenchmark.swift).
if [ -z "${SPOOL_FROM:-}" ]; then
  TOLLGATE_SPOOL_BENCH=1 TOLLGATE_SPOOL_BENCH_BATCHES="$BATCHES" TOLLGATE_SPOOL_BENCH_KEEP="$work/generated" \
    swift test --skip-build --filter 'SpoolStartupBenchmark/startUpAfterADayLongOutage' >/dev/null
  SPOOL_FROM="$work/generated"
fi
head -c 32 /dev/urandom > "$work/org-secret"
now_ms() { date +%s%3N; }
for run in $(seq "$RUNS"); do
  rm -rf "$work/state" && cp -a "$SPOOL_FROM" "$work/state"
  proxy=$((20000 + RANDOM % 20000)); admin=$((proxy + 1))
  cat > "$work/agent.yaml" <<YAML
listen: 127.0.0.1:$proxy
admin_listen: 127.0.0.1:$admin
state_dir: $work/state
org_secret_file: $work/org-secret
aggregator:
  endpoint: tcp://127.0.0.1:9
  insecure_plaintext: true
YAML
  start=$(now_ms)
  "$bin/tollgate-agent" run --config "$work/agent.yaml" >"$work/agent-$run.log" 2>&1 &
  agent=$!
  until curl -fs "http://127.0.0.1:$admin/healthz" >/dev/null 2>&1; do sleep 0.02; done
  healthy=$(now_ms)
  until curl -fs "http://127.0.0.1:$admin/status" 2>/dev/null | grep -q "\"unacked_batches\" : $BATCHES\b"; do sleep 0.05; done
  ready=$(now_ms)
  rss=$(awk '/VmRSS/ { print $2 }' "/proc/$agent/status")
  cpu=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f", ($14 + $15) / hz }' "/proc/$agent/stat")
  kill -9 "$agent"; wait "$agent" 2>/dev/null || true  # its state is thrown away
  echo "run $run: /healthz after $((healthy - start)) ms, $BATCHES batches recovered and queued after $((ready - start)) ms (agent CPU ${cpu} s), RSS $((rss / 1024)) MiB ($(uptime | sed 's/.*load/load/'))"
done
du -sh "$SPOOL_FROM/spool" | sed 's/^/spool on disk: /'
