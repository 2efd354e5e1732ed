#!/usr/bin/env bash
# Agent CPU per request for two builds of the agent, side by side, in one sitting: both run
# behind the same nginx origin (each with its own aggregator over CurveZMQ), and wrk drives
# them in turn, A B A B …, so drift on a shared machine hits both alike. Prints each round,
# the medians and the ratio B / A. Use it for before/after comparisons of a change; the
# full picture against nginx is scripts/bench-proxy.sh.
#
#   scripts/bench-proxy-ab.sh DIR_A DIR_B        (each holds tollgate-agent and tollgate)
#   ROUNDS=3 DURATION=10s RATE=1000 CONNECTIONS=16 STREAM=0 scripts/bench-proxy-ab.sh A B
#
# RATE=0 is full load; STREAM=1 sends streaming requests and the origin answers SSE.
# Build a baseline with e.g. `git worktree add /tmp/base REV && (cd /tmp/base &&
# swift build -c release)`. Needs nginx, wrk and python3 (scripts/bench-proxy.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/local-cluster.sh
[ $# -eq 2 ] || { echo "usage: $0 DIR_A DIR_B (each with tollgate-agent and tollgate)" >&2; exit 2; }
a_bin=$1 b_bin=$2
for bin in "$a_bin" "$b_bin"; do
  [ -x "$bin/tollgate-agent" ] && [ -x "$bin/tollgate" ] || { echo "$bin: no tollgate-agent or tollgate there" >&2; exit 2; }
done
rounds="${ROUNDS:-3}" duration="${DURATION:-10s}" rate="${RATE:-1000}" connections="${CONNECTIONS:-16}"
nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"
command -v wrk >/dev/null && [ -x "$nginx_bin" ] || { echo "needs nginx and wrk: run scripts/bench-proxy.sh once, or apt-get install nginx wrk" >&2; exit 2; }
fixtures="$PWD/Benchmarks/proxy"
body="$fixtures/request-chat.json" fixture=""
if [ "${STREAM:-0}" = 1 ]; then body="$fixtures/request-chat-stream.json" fixture=stream; fi

work=$(mktemp -d); pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
read -r origin_port proxy_port probe_port probe_proxy_port < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(4)]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))')
mkdir -p "$work/nginx-tmp" "$work/fixtures"
cp "$fixtures/chat-completion.json" "$fixtures/chat-stream.sse" "$work/fixtures/"
sed -e "s|@WORKERS@|1|g; s|@WORK@|$work|g; s|@FIXTURES@|$work/fixtures|g" \
    -e "s|@ORIGIN_PORT@|$origin_port|g; s|@PROXY_PORT@|$proxy_port|g" \
    -e "s|@PROBE_PORT@|$probe_port|g; s|@PROBE_PROXY_PORT@|$probe_proxy_port|g" \
    "$fixtures/nginx.conf.template" > "$work/nginx.conf"
"$nginx_bin" -p "$work" -c "$work/nginx.conf" -g 'daemon off;' >"$work/nginx.log" 2>&1 & pids+=($!)

declare -A agent_pid agent_url
for side in A B; do
  bin=$a_bin; [ $side = B ] && bin=$b_bin
  dir="$work/$side"; mkdir -p "$dir"
  usage_port=$(free_port) api_port=$(free_port) proxy=$(free_port) admin=$(free_port)
  cluster_aggregator "$bin" "$dir" "$usage_port" "$api_port"
  cat > "$dir/agent.yaml" <<YAML
listen: 127.0.0.1:$proxy
admin_listen: 127.0.0.1:$admin
state_dir: $dir/agent-state
org_secret_file: $dir/org-secret
upstreams:
  openai: http://127.0.0.1:$origin_port
aggregator:
  endpoint: tcp://127.0.0.1:$usage_port
  server_public_key_file: $dir/aggregator.pub
YAML
  cluster_admit_agent "$bin" "$dir" "bench-$side"
  "$bin/tollgate" serve --config "$dir/aggregator.yaml" >"$dir/aggregator.log" 2>&1 & pids+=($!)
  "$bin/tollgate-agent" run --config "$dir/agent.yaml" >"$dir/agent.log" 2>&1 & agent_pid[$side]=$!; pids+=($!)
  agent_url[$side]="http://127.0.0.1:$proxy/openai/v1/chat/completions"
  wait_for "http://127.0.0.1:$admin/healthz" "agent $side" "$dir/agent.log"
done

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }  # user + system, in 1/100 s
wrk_run() {  # URL DURATION
  BENCH_BODY_FILE="$body" BENCH_FIXTURE="$fixture" BENCH_RATE="$rate" BENCH_THREADS=2 \
    wrk -t2 -c"$connections" -d"$2" --timeout 5s --latency -s "$fixtures/bench.lua" "$1"
}
echo "==> A = $a_bin, B = $b_bin; $rounds rounds of $duration each, rate ${rate/#0/full load}, $connections connections$([ -n "$fixture" ] && echo ', SSE')"
declare -A cpu rps
for round in $(seq 1 "$rounds"); do
  for side in A B; do
    wrk_run "${agent_url[$side]}" 2s >/dev/null  # warm-up
    before=$(ticks "${agent_pid[$side]}")
    result=$(wrk_run "${agent_url[$side]}" "$duration" | grep '^BENCH ')
    used=$(( $(ticks "${agent_pid[$side]}") - before ))
    requests=$(sed 's/.*requests=\([0-9]*\).*/\1/' <<<"$result")
    micros=$(sed 's/.*duration_us=\([0-9]*\).*/\1/' <<<"$result")
    cpu[$side]+="$(( used * 10000 / requests )) "
    rps[$side]+="$(( requests * 1000000 / micros )) "
    printf '    round %d %s: %7d req/s, %4d µs of agent CPU per request\n' "$round" "$side" \
      "$(( requests * 1000000 / micros ))" "$(( used * 10000 / requests ))"
  done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
a_cpu=$(median <<<"${cpu[A]}") b_cpu=$(median <<<"${cpu[B]}") a_rps=$(median <<<"${rps[A]}") b_rps=$(median <<<"${rps[B]}")
echo "medians: A $a_cpu µs/request at $a_rps req/s, B $b_cpu µs/request at $b_rps req/s"
awk -v a="$a_cpu" -v b="$b_cpu" -v ar="$a_rps" -v br="$b_rps" 'BEGIN { printf "B / A: CPU per request %.2f×, throughput %.2f×\n", b / a, br / ar }'
