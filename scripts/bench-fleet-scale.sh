#!/usr/bin/env bash
# Fleet scale: one real `tollgate serve` (CurveZMQ, every agent's key in agents.d) against
# 1,000 → 2,500 → 5,000 simulated agents, each with its own keypair, a DEALER (usage) and a
# SUB (quota), held by worker processes of up to 2,500 agents. Per step: ingest cells/s with
# every agent shipping, the time from the batch that crosses a fresh cap to every agent
# holding it blocked (p50/p99), the aggregator's RSS and open descriptors. First runs
# ingest-benchmark's in-process server setup, so the fleet's rate has a same-sitting baseline.
# Extra arguments go to the benchmark: --steps 1000,2500,5000 --rounds R --trials T
# --batches B (per agent per round) --cells C --per-worker N --pin-server CPUS
# --pin-workers CPUS --zmq-io-threads N. The in-process figure is measured as
# scripts/bench-ingest.sh does (unpinned); the 20-agent Curve baseline runs pinned like the
# fleet, and CPU per cell compares the aggregator with itself whatever the machine's load.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# Each simulated agent costs its worker 4 descriptors (2 sockets' mailboxes + 2 TCP
# connections) and the aggregator 2; this shell's limit is inherited by all three kinds of
# process. The benchmark also raises its own soft limit to the hard one.
ulimit -n "$(ulimit -Hn)"
echo "open-file limit: $(ulimit -n); $(nproc) CPUs; $(free -m | awk '/Mem:/ {print $2}') MiB RAM; $(date -u +%FT%TZ)"
swift build -c release --product tollgate >/dev/null
swift build -c release --product ingest-benchmark >/dev/null
swift build -c release --product fleet-scale-benchmark >/dev/null
bin="$(swift build -c release --show-bin-path)"
echo "== ingest-benchmark --only server (in-process aggregator, plaintext, 20 agents)"
# Captured, then printed: `tee /dev/stderr` would reopen (and truncate) a log file that
# stdout and stderr both point at.
out=$("$bin/ingest-benchmark" --only server --runs 3)
echo "$out"
server=$(awk '$1 == "server," {print $4}' <<<"$out")
echo "== fleet-scale-benchmark"
"$bin/fleet-scale-benchmark" --tollgate "$bin/tollgate" --server-baseline "$server" "$@"
