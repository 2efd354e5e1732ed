#!/usr/bin/env bash
# Fleet scale: one real `tollgate serve` (CurveZMQ, every agent's key in agents.d) against
# 1,000 → 2,500 → 5,000 simulated agents, each with its own keypair, a DEALER (usage) and a
# SUB (quota), held by worker processes of up to 2,500 agents. Per step: ingest cells/s with
# every agent shipping, the time from the batch that crosses a fresh cap to every agent
# holding it blocked (p50/p99), the aggregator's RSS and open descriptors. First runs
# ingest-benchmark's in-process server setup, so the fleet's rate has a same-sitting baseline.
# Extra arguments go to the benchmark: --steps 1000,2500,5000 --rounds R --trials T
# --batches B (per agent per round) --cells C --per-worker N --pin-server CPUS
# --pin-workers CPUS --zmq-io-threads N --decode full|scan, and --loopback. The in-process
# figure is measured as scripts/bench-ingest.sh does (unpinned); the 20-agent Curve baseline
# runs pinned like the fleet, and CPU per cell compares the aggregator with itself whatever
# the machine's load.
#
# Hosts are network namespaces (scripts/lib/fleet-netns.sh): the aggregator on tgf-agg
# (10.231.0.2), the coordinator and the first worker on tgf-a1, the second worker on tgf-a2,
# joined by veths on a bridge, so no byte between aggregator and agents takes loopback. On
# one machine a loopback or veth receive runs on the sending CPU by default, which would bill
# the agents' packet processing to the aggregator's core; receive packet steering (RPS)
# sends each host's receive work to that host's CPUs (--pin-server for the aggregator's,
# --pin-workers for the agents'), as separate machines would. Needs root. `--loopback` runs
# every component on this machine's loopback instead (the cheaper path, for comparison:
# bridge and veth cost each packet more here than a real NIC would).
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

# A CPU list (0, 1, 0-1, 0,2) as the hex mask rps_cpus takes.
cpu_mask() {
  local mask=0 part first last cpu
  for part in ${1//,/ }; do
    first=${part%-*}; last=${part#*-}
    for cpu in $(seq "$first" "$last"); do mask=$((mask | (1 << cpu))); done
  done
  printf '%x' "$mask"
}
pin_server=""; pin_workers=""; loopback=0; args=()
for ((i = 1; i <= $#; i++)); do
  case ${!i} in
    --loopback) loopback=1; continue ;;
    --pin-server) j=$((i + 1)); pin_server=${!j:-} ;;
    --pin-workers) j=$((i + 1)); pin_workers=${!j:-} ;;
  esac
  args+=("${!i}")
done
if [ "$loopback" = 1 ]; then
  echo "hosts: none (--loopback): aggregator and agents on this machine's 127.0.0.1"
  echo "== fleet-scale-benchmark"
  exec stdbuf -oL "$bin/fleet-scale-benchmark" --tollgate "$bin/tollgate" --server-baseline "$server" "${args[@]}"
fi
netns=scripts/lib/fleet-netns.sh
$netns up 2 >/dev/null
trap '$netns down' EXIT
# steer HOST INBOUND OUTBOUND: packets arriving at HOST (its fleet0) are processed on the
# CPUs of mask INBOUND; those HOST sends, where the bridge receives them, on OUTBOUND's (the
# CPUs of the host they go to).
steer() {
  local host=$1 inbound=$2 outbound=$3
  $netns exec "$host" sh -c "echo $inbound > /sys/class/net/fleet0/queues/rx-0/rps_cpus"
  echo "$outbound" > "/sys/class/net/tgf-$host-f/queues/rx-0/rps_cpus"
}
if [ -n "$pin_server" ] && [ -n "$pin_workers" ]; then
  server_mask=$(cpu_mask "$pin_server"); workers_mask=$(cpu_mask "$pin_workers")
  steer agg "$server_mask" "$workers_mask"
  steer a1 "$workers_mask" "$server_mask"
  steer a2 "$workers_mask" "$server_mask"
  echo "hosts: aggregator on tgf-agg ($($netns addr agg)), agents on tgf-a1 and tgf-a2; packet receive steered to CPUs $pin_server (aggregator) and $pin_workers (agents)"
else
  echo "hosts: aggregator on tgf-agg ($($netns addr agg)), agents on tgf-a1 and tgf-a2; no --pin-server/--pin-workers, so packet receive runs on the sending CPU"
fi
echo "== fleet-scale-benchmark"
$netns exec a1 stdbuf -oL "$bin/fleet-scale-benchmark" --tollgate "$bin/tollgate" --server-baseline "$server" \
  --server-address "$($netns addr agg)" --server-netns tgf-agg --worker-netns tgf-a1,tgf-a2 "${args[@]}"
