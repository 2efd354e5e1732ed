#!/usr/bin/env bash
# Proxy overhead of tollgate-agent (base-URL mode), in one run, on loopback:
#
#   direct       wrk → nginx (the "provider": a fixed ~1.2 KB chat.completion, or a
#                22-event chat.completion.chunk SSE stream sent chunked)
#   nginx proxy  wrk → nginx reverse proxy (keep-alive upstream pool) → nginx   (baseline)
#   agent        wrk → tollgate-agent /openai/v1/chat/completions → nginx, metering every
#                response and shipping usage over CurveZMQ to a real `tollgate serve`
#   NIO floors   wrk → proxy-floor (Benchmarks/proxy-floor) → nginx: what a SwiftNIO proxy
#                costs before any metering, relaying bytes, or decoding and re-encoding
#                HTTP with NIO's codecs (JSON rows only)
#
# for JSON responses at full load and at a fixed offered rate, and for SSE streams at full
# load; then a per-chunk probe (Benchmarks/proxy/sse_probe.py: an upstream that sends
# each event 10 ms apart) times every chunk from the upstream's write to the client, direct
# and through the agent (and through nginx, for comparison). Prints
# req/s, p50/p99 latency, the agent's peak RSS and CPU per request, the ratios against the
# baselines and whether the targets of issue #4 were met; finally checks that the
# aggregator committed exactly what the agent metered. Installs nginx, wrk and python3 when
# missing (apt-get), builds release binaries, stops everything it started on exit.
#
#   DURATION=10s WARMUP=2s THREADS=2 CONNECTIONS=32 RATE=1000 RATE_CONNECTIONS=16 \
#   NGINX_WORKERS=auto PROBE_REQUESTS=20 PROBE_INTERVAL_MS=10 scripts/bench-proxy.sh
#
# TOLLGATE_BIN=dir skips the build and uses tollgate-agent, tollgate and proxy-floor from dir.
# PERF_DATA=file records a `perf record -g` CPU profile of the agent during one row
# (PERF_ROW, default json-agent; or sse-agent, rate-agent); read it with `perf report -i file`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/local-cluster.sh
started_at=$SECONDS

duration="${DURATION:-10s}"
warmup="${WARMUP:-2s}"
threads="${THREADS:-2}"
connections="${CONNECTIONS:-32}"
rate="${RATE:-1000}"
rate_connections="${RATE_CONNECTIONS:-16}"
nginx_workers="${NGINX_WORKERS:-auto}"
probe_requests="${PROBE_REQUESTS:-20}"
probe_interval_ms="${PROBE_INTERVAL_MS:-10}"
fixtures="$PWD/Benchmarks/proxy"

# ---------------------------------------------------------------------------- tools
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
nginx_bin="$(command -v nginx || true)"
[ -z "$nginx_bin" ] && [ -x /usr/sbin/nginx ] && nginx_bin=/usr/sbin/nginx
missing=()
[ -z "$nginx_bin" ] && missing+=(nginx)
command -v wrk >/dev/null || missing+=(wrk)
command -v python3 >/dev/null || missing+=(python3)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  # Debian 12 ships the nginx binary in `nginx`; older releases in nginx-light/-core.
  if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
    alternatives=("${missing[@]/#nginx/nginx-light}")
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${alternatives[@]}" >/dev/null
  fi
  if [[ " ${missing[*]} " == *" nginx "* ]]; then
    nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"
    # Where a service manager runs, the package starts its default site on port 80 of every
    # address. This benchmark runs its own instance on loopback only: stop that one.
    if command -v systemctl >/dev/null && systemctl is-active --quiet nginx 2>/dev/null; then
      $sudo systemctl disable --now nginx >/dev/null 2>&1 || true
    fi
  fi
fi

if [ -n "${TOLLGATE_BIN:-}" ]; then
  bin="$TOLLGATE_BIN"
else
  scripts/install-deps.sh
  echo "==> building release binaries (from cold about 10 minutes on 2 cores)"
  build_started=$SECONDS
  swift build -c release --product tollgate-agent >/dev/null
  swift build -c release --product tollgate >/dev/null
  swift build -c release --product proxy-floor >/dev/null
  bin="$(swift build -c release --show-bin-path)"
  echo "    built in $((SECONDS - build_started)) s"
fi

# ---------------------------------------------------------------------------- processes
work="$(mktemp -d -t tollgate-bench-proxy.XXXXXX)"
chmod 755 "$work"  # nginx workers run as an unprivileged user when started by root
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Distinct free loopback ports, all held open while choosing so none repeats.
read -r origin_port proxy_port agent_port admin_port usage_port api_port probe_port probe_proxy_port floor_bytes_port floor_http_port < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(10)]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))')

mkdir -p "$work/nginx-tmp" "$work/fixtures"
cp "$fixtures/chat-completion.json" "$fixtures/chat-stream.sse" "$work/fixtures/"
sed -e "s|@WORKERS@|$nginx_workers|g; s|@WORK@|$work|g; s|@FIXTURES@|$work/fixtures|g" \
    -e "s|@ORIGIN_PORT@|$origin_port|g; s|@PROXY_PORT@|$proxy_port|g" \
    -e "s|@PROBE_PORT@|$probe_port|g; s|@PROBE_PROXY_PORT@|$probe_proxy_port|g" \
    "$fixtures/nginx.conf.template" > "$work/nginx.conf"
"$nginx_bin" -t -q -p "$work" -c "$work/nginx.conf"

cluster_aggregator "$bin" "$work" "$usage_port" "$api_port"
cat > "$work/agent.yaml" <<YAML
listen: 127.0.0.1:$agent_port
admin_listen: 127.0.0.1:$admin_port
state_dir: $work/agent-state
org_secret_file: $work/org-secret
upstreams:
  openai: http://127.0.0.1:$origin_port
  azure: http://127.0.0.1:$probe_port
aggregator:
  endpoint: tcp://127.0.0.1:$usage_port
  server_public_key_file: $work/aggregator.pub
YAML
cluster_admit_agent "$bin" "$work" bench-agent

echo "==> starting nginx (origin :$origin_port, proxy :$proxy_port), aggregator, agent (:$agent_port) in $work"
"$nginx_bin" -p "$work" -c "$work/nginx.conf" -g 'daemon off;' >"$work/nginx.log" 2>&1 & pids+=($!)
"$bin/tollgate" serve --config "$work/aggregator.yaml" >"$work/aggregator.log" 2>&1 & pids+=($!)
"$bin/tollgate-agent" run --config "$work/agent.yaml" >"$work/agent.log" 2>&1 & agent_pid=$!; pids+=($agent_pid)
"$bin/proxy-floor" bytes "$floor_bytes_port" "$origin_port" >"$work/floor-bytes.log" 2>&1 & pids+=($!)
"$bin/proxy-floor" http "$floor_http_port" "$origin_port" >"$work/floor-http.log" 2>&1 & pids+=($!)
python3 "$fixtures/sse_probe.py" serve --port "$probe_port" --fixture "$fixtures/chat-stream.sse" \
  --interval-ms "$probe_interval_ms" >"$work/probe.log" 2>&1 & pids+=($!)
agent_admin="http://127.0.0.1:$admin_port"
wait_for "http://127.0.0.1:$origin_port/v1/chat/completions" nginx "$work/nginx-error.log"  # GET serves the file
wait_for "http://127.0.0.1:$api_port/healthz" aggregator "$work/aggregator.log"
wait_for "$agent_admin/healthz" agent "$work/agent.log"
wait_for "http://127.0.0.1:$probe_port/" probe "$work/probe.log"

direct_url="http://127.0.0.1:$origin_port/v1/chat/completions"
proxy_url="http://127.0.0.1:$proxy_port/v1/chat/completions"
agent_url="http://127.0.0.1:$agent_port/openai/v1/chat/completions"
floor_bytes_url="http://127.0.0.1:$floor_bytes_port/v1/chat/completions"
floor_http_url="http://127.0.0.1:$floor_http_port/openai/v1/chat/completions"
json_body="$fixtures/request-chat.json"
stream_body="$fixtures/request-chat-stream.json"

# Every path must return exactly the provider's bytes before anything is timed.
wait_for "$floor_bytes_url" "proxy-floor bytes" "$work/floor-bytes.log"
wait_for "$floor_http_url" "proxy-floor http" "$work/floor-http.log"
for url in "$direct_url" "$proxy_url" "$agent_url" "$floor_bytes_url" "$floor_http_url"; do
  curl -fsS -X POST -H 'Content-Type: application/json' -H 'Authorization: Bearer sk-bench-check' \
    --data-binary "@$json_body" "$url" -o "$work/check.json"
  cmp -s "$work/check.json" "$fixtures/chat-completion.json" || { echo "wrong JSON body from $url" >&2; exit 1; }
  curl -fsS -X POST -H 'Content-Type: application/json' -H 'Authorization: Bearer sk-bench-check' \
    -H 'X-Bench-Fixture: stream' --data-binary "@$stream_body" "$url" -o "$work/check.sse"
  cmp -s "$work/check.sse" "$fixtures/chat-stream.sse" || { echo "wrong SSE body from $url" >&2; exit 1; }
done

# ---------------------------------------------------------------------------- measuring
# Same-run comparisons only: other work on the machine (builds, tests) skews every row.
read -r load_before _ < /proc/loadavg
echo "==> load average before measuring: $load_before (1 min, $(nproc) cores)"
declare -A R  # R[run.key] from each wrk run's BENCH line
agent_wrk_requests=0

proc_ticks() { local stat; read -r stat < "/proc/$1/stat"; stat="${stat##*) }"; set -- $stat; echo $(( ${12} + ${13} )); }
proc_kb() { local key value _; while read -r key value _; do [ "$key" = "$2:" ] && { echo "$value"; return; }; done < "/proc/$1/status"; echo 0; }
clk_tck=$(getconf CLK_TCK)
agent_rss_idle_kb=$(proc_kb "$agent_pid" VmRSS)

rss_sampler() {  # PID OUT: highest VmRSS seen, every 100 ms, until killed
  local max=0 value
  while kill -0 "$1" 2>/dev/null; do
    value=$(proc_kb "$1" VmRSS)
    if [ "$value" -gt "$max" ]; then max=$value; echo "$max" > "$2"; fi
    sleep 0.1
  done
}

wrk_once() {  # OUTFILE URL BODY FIXTURE RATE CONNECTIONS DURATION
  BENCH_BODY_FILE="$3" BENCH_FIXTURE="$4" BENCH_RATE="$5" BENCH_THREADS="$threads" \
    wrk -t"$threads" -c"$6" -d"$7" --timeout 5s --latency -s "$fixtures/bench.lua" "$2" > "$1"
  grep -q '^BENCH ' "$1" || { echo "wrk printed no result:" >&2; cat "$1" >&2; exit 1; }
}

# run NAME TARGET URL BODY FIXTURE RATE CONNECTIONS
run() {
  local name=$1 target=$2 url=$3 body=$4 fixture=$5 run_rate=$6 conns=$7 kv
  printf '    %-28s' "$name"
  wrk_once "$work/warmup-$name.txt" "$url" "$body" "$fixture" "$run_rate" "$conns" "$warmup"
  local sampler="" ticks_before=0
  if [ "$target" = agent ]; then
    kv=$(grep '^BENCH ' "$work/warmup-$name.txt"); kv=${kv#*requests=}; agent_wrk_requests=$((agent_wrk_requests + ${kv%% *}))
    rm -f "$work/rss-$name"
    rss_sampler "$agent_pid" "$work/rss-$name" & sampler=$!
    ticks_before=$(proc_ticks "$agent_pid")
    if [ -n "${PERF_DATA:-}" ] && [ "$name" = "${PERF_ROW:-json-agent}" ]; then
      perf record -q -F 499 -g -o "$PERF_DATA" -p "$agent_pid" -- sleep "${duration%s}" >/dev/null 2>&1 &
    fi
  fi
  wrk_once "$work/wrk-$name.txt" "$url" "$body" "$fixture" "$run_rate" "$conns" "$duration"
  for kv in $(grep '^BENCH ' "$work/wrk-$name.txt" | cut -d' ' -f2-); do R[$name.${kv%%=*}]=${kv#*=}; done
  if [ "$target" = agent ]; then
    R[$name.cpu_ticks]=$(( $(proc_ticks "$agent_pid") - ticks_before ))
    kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true
    local sampled now
    sampled=$(cat "$work/rss-$name" 2>/dev/null || echo 0); now=$(proc_kb "$agent_pid" VmRSS)
    R[$name.rss_kb]=$(( sampled > now ? sampled : now ))
    R[$name.hwm_kb]=$(proc_kb "$agent_pid" VmHWM)
    agent_wrk_requests=$((agent_wrk_requests + ${R[$name.requests]}))
  fi
  awk -v r="${R[$name.requests]}" -v d="${R[$name.duration_us]}" -v p50="${R[$name.p50_us]}" -v p99="${R[$name.p99_us]}" \
    'BEGIN { printf "%9.0f req/s   p50 %6d µs   p99 %6d µs\n", r * 1e6 / d, p50, p99 }'
}

echo "==> JSON chat completion, full load: wrk -t$threads -c$connections -d$duration (after a $warmup warm-up)"
run json-direct direct "$direct_url" "$json_body" "" 0 "$connections"
run json-nginx nginx "$proxy_url" "$json_body" "" 0 "$connections"
run json-agent agent "$agent_url" "$json_body" "" 0 "$connections"
run json-floor-bytes floor "$floor_bytes_url" "$json_body" "" 0 "$connections"
run json-floor-http floor "$floor_http_url" "$json_body" "" 0 "$connections"
echo "==> JSON chat completion, fixed rate $rate req/s: wrk -t$threads -c$rate_connections -d$duration"
run rate-direct direct "$direct_url" "$json_body" "" "$rate" "$rate_connections"
run rate-nginx nginx "$proxy_url" "$json_body" "" "$rate" "$rate_connections"
run rate-agent agent "$agent_url" "$json_body" "" "$rate" "$rate_connections"
run rate-floor-bytes floor "$floor_bytes_url" "$json_body" "" "$rate" "$rate_connections"
run rate-floor-http floor "$floor_http_url" "$json_body" "" "$rate" "$rate_connections"
echo "==> SSE stream (22 events, $(wc -c < "$fixtures/chat-stream.sse") bytes, chunked), full load: wrk -t$threads -c$connections -d$duration"
run sse-direct direct "$direct_url" "$stream_body" stream 0 "$connections"
run sse-nginx nginx "$proxy_url" "$stream_body" stream 0 "$connections"
run sse-agent agent "$agent_url" "$stream_body" stream 0 "$connections"

echo "==> per-chunk delay: $probe_requests streams of 22 events ${probe_interval_ms} ms apart, direct and proxied, alternating"
probe_path="/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21"
probe() {  # PROXIED_URL → JSON (see sse_probe.py)
  python3 "$fixtures/sse_probe.py" measure --direct "http://127.0.0.1:$probe_port$probe_path" --proxied "$1" \
    --body "$stream_body" --requests "$probe_requests"
}
probe_agent=$(probe "http://127.0.0.1:$agent_port/azure$probe_path")
probe_nginx=$(probe "http://127.0.0.1:$probe_proxy_port$probe_path")
probe_field() {  # JSON KEY
  python3 -c 'import json,sys; v = json.loads(sys.argv[1])[sys.argv[2]]; print(" ".join(map(str, v)) if isinstance(v, list) else v)' "$1" "$2"
}
echo "    added to each event's latency by the agent, ms: $(probe_field "$probe_agent" added_ms)"
echo "    added to each event's latency by nginx,     ms: $(probe_field "$probe_nginx" added_ms)"

# ---------------------------------------------------------------------------- usage check
metered() {  # requests the agent has metered, from its Prometheus text
  curl -fsS "$agent_admin/metrics" | awk '/^tollgate_agent_requests_total[{ ]/ { n += $NF } END { printf "%d\n", n }'
}
committed() {  # requests, estimated, unpriced committed at the aggregator
  "$bin/tollgate" usage --since 1h --by model --format json --api "http://127.0.0.1:$api_port" --token-file "$work/aggregator-data/api-read-token" | python3 -c '
import json, sys
text = sys.stdin.read().strip()
rows = json.loads(text) if text.startswith("[") else [json.loads(l) for l in text.splitlines() if l.strip()]
rows = rows.get("rows", rows) if isinstance(rows, dict) else rows
print(sum(int(r.get("requests", 0)) for r in rows), sum(int(r.get("estimated", 0)) for r in rows),
      sum(int(r.get("unpriced", 0)) for r in rows))'
}
agent_metered=$(metered)
read -r agg_requests agg_estimated agg_unpriced < <(committed)
for _ in $(seq 1 100); do
  [ "$agg_requests" -ge "$agent_metered" ] && break
  sleep 0.2
  agent_metered=$(metered)
  read -r agg_requests agg_estimated agg_unpriced < <(committed)
done
upstream_connections=$(curl -fsS "$agent_admin/metrics" | awk '
  /^tollgate_agent_upstream_connections_opened_total/ { opened += $NF; seen = 1 }
  /^tollgate_agent_upstream_connections_reused_total/ { reused += $NF; seen = 1 }
  END { if (seen) printf "opened %d, reused %d", opened, reused; else printf "no counters exported" }')
usage_problems=$(curl -fsS "$agent_admin/metrics" | awk '/^tollgate_agent_(usage_problems|client_disconnects)_total/ && $NF > 0 { n += $NF; sub(/^tollgate_agent_/, "", $1); labels = labels " " $1 "=" $NF } END { printf "%d%s\n", n, (n ? ":" labels : "") }')

# ---------------------------------------------------------------------------- report
cpu_cores=$(nproc)
read -r load_after _ < /proc/loadavg
{
  for key in "${!R[@]}"; do echo "$key ${R[$key]}"; done
  echo "meta.rate $rate"
  echo "meta.idle_kb $agent_rss_idle_kb"
  echo "meta.clk_tck $clk_tck"
  echo "meta.duration $duration"
  for who in agent nginx; do
    json=$probe_agent; [ "$who" = nginx ] && json=$probe_nginx
    for key in latency_median_ms_direct latency_median_ms_proxied added_first_event_ms added_median_ms added_max_ms added_last_event_ms; do
      echo "probe-$who.$key $(probe_field "$json" "$key")"
    done
  done
} > "$work/results.txt"

echo
echo "==> results ($(date -u '+%Y-%m-%d %H:%M UTC'), $cpu_cores cores, load average $load_before before / $load_after after, nginx workers: $nginx_workers)"
awk '
{ v[$1] = $2 }
function rps(n) { return v[n ".requests"] * 1e6 / v[n ".duration_us"] }
function errs(n) { return v[n ".err_connect"] + v[n ".err_read"] + v[n ".err_write"] + v[n ".err_timeout"] + v[n ".non2xx"] }
function row(label, n,   extra) {
  extra = ""
  if ((n ".cpu_ticks") in v) {
    extra = sprintf(" %5.1f MB | %4.2f cores, %3.0f µs/req |", v[n ".rss_kb"] * 1024 / 1e6,
                    v[n ".cpu_ticks"] / v["meta.clk_tck"] / (v[n ".duration_us"] / 1e6),
                    v[n ".cpu_ticks"] / v["meta.clk_tck"] * 1e6 / v[n ".requests"])
  } else extra = "  |  |"
  printf "| %-42s | %8.0f | %7d | %7d | %6d |%s\n", label, rps(n), v[n ".p50_us"], v[n ".p99_us"], errs(n), extra
}
END {
  print "| run | req/s | p50 µs | p99 µs | errors | agent peak RSS | agent CPU |"
  print "|---|---|---|---|---|---|---|"
  row("JSON, full load: direct (nginx)", "json-direct")
  row("JSON, full load: nginx reverse proxy", "json-nginx")
  row("JSON, full load: agent", "json-agent")
  row("JSON, full load: NIO floor, bytes relayed", "json-floor-bytes")
  row("JSON, full load: NIO floor, HTTP re-encoded", "json-floor-http")
  row("JSON, " v["meta.rate"] " req/s: direct (nginx)", "rate-direct")
  row("JSON, " v["meta.rate"] " req/s: nginx reverse proxy", "rate-nginx")
  row("JSON, " v["meta.rate"] " req/s: agent", "rate-agent")
  row("JSON, " v["meta.rate"] " req/s: NIO floor, bytes", "rate-floor-bytes")
  row("JSON, " v["meta.rate"] " req/s: NIO floor, HTTP", "rate-floor-http")
  row("SSE, full load: direct (nginx)", "sse-direct")
  row("SSE, full load: nginx reverse proxy", "sse-nginx")
  row("SSE, full load: agent", "sse-agent")
  print ""
  jr = rps("json-agent") / rps("json-nginx"); sr = rps("sse-agent") / rps("sse-nginx")
  a50 = v["rate-agent.p50_us"] - v["rate-direct.p50_us"]; a99 = v["rate-agent.p99_us"] - v["rate-direct.p99_us"]
  n50 = v["rate-nginx.p50_us"] - v["rate-direct.p50_us"]; n99 = v["rate-nginx.p99_us"] - v["rate-direct.p99_us"]
  hwm = 0; for (k in v) if (k ~ /\.hwm_kb$/ && v[k] > hwm) hwm = v[k]
  printf "throughput agent / nginx proxy: JSON %.0f %% (%.0f / %.0f req/s), SSE %.0f %% (%.0f / %.0f req/s)\n", \
    100 * jr, rps("json-agent"), rps("json-nginx"), 100 * sr, rps("sse-agent"), rps("sse-nginx")
  printf "NIO floors / nginx proxy, JSON: bytes relayed %.0f %%, HTTP re-encoded %.0f %% (the agent: %.0f %%)\n", \
    100 * rps("json-floor-bytes") / rps("json-nginx"), 100 * rps("json-floor-http") / rps("json-nginx"), 100 * jr
  printf "added latency vs direct at %d req/s: agent p50 %+d µs, p99 %+d µs (nginx proxy: p50 %+d µs, p99 %+d µs)\n", \
    v["meta.rate"], a50, a99, n50, n99
  printf "  NIO floors at %d req/s: bytes p50 %+d µs, p99 %+d µs; HTTP p50 %+d µs, p99 %+d µs\n", v["meta.rate"], \
    v["rate-floor-bytes.p50_us"] - v["rate-direct.p50_us"], v["rate-floor-bytes.p99_us"] - v["rate-direct.p99_us"], \
    v["rate-floor-http.p50_us"] - v["rate-direct.p50_us"], v["rate-floor-http.p99_us"] - v["rate-direct.p99_us"]
  printf "added latency vs direct at full load: agent p50 %+d µs, p99 %+d µs (nginx proxy: p50 %+d µs, p99 %+d µs)\n", \
    v["json-agent.p50_us"] - v["json-direct.p50_us"], v["json-agent.p99_us"] - v["json-direct.p99_us"], \
    v["json-nginx.p50_us"] - v["json-direct.p50_us"], v["json-nginx.p99_us"] - v["json-direct.p99_us"]
  printf "agent RSS: %.1f MiB idle, %.1f MiB = %.1f MB peak (VmHWM over the whole run)\n", v["meta.idle_kb"] / 1024, hwm / 1024, hwm * 1024 / 1e6
  printf "per-chunk latency (server write → client, median over the probe streams): direct %.3f ms; the agent added %.3f ms (median over the 22 events, max %.3f ms), nginx proxy added %.3f ms (max %.3f ms)\n", \
    v["probe-agent.latency_median_ms_direct"], v["probe-agent.added_median_ms"], v["probe-agent.added_max_ms"], \
    v["probe-nginx.added_median_ms"], v["probe-nginx.added_max_ms"]
  print ""
  print "targets (issue #4, base-URL mode):"
  printf "  added p50 <= 150 us at %d req/s     %s (%+d µs)\n", v["meta.rate"], (a50 <= 150 ? "met" : "NOT met"), a50
  printf "  added p99 <= 1 ms at %d req/s       %s (%+d µs)\n", v["meta.rate"], (a99 <= 1000 ? "met" : "NOT met"), a99
  printf "  throughput >= 80 %% of nginx proxy    %s (JSON %.0f %%, SSE %.0f %%)\n", (jr >= 0.8 && sr >= 0.8 ? "met" : "NOT met"), 100 * jr, 100 * sr
  printf "  RSS <= 60 MB under load              %s (%.1f MB)\n", (hwm * 1024 <= 60e6 ? "met" : "NOT met"), hwm * 1024 / 1e6
  printf "  no per-chunk delay                   %s (every event forwarded within %.3f ms of direct; criterion: <= 1 ms)\n", (v["probe-agent.added_max_ms"] <= 1 ? "met" : "NOT met"), v["probe-agent.added_max_ms"]
}' "$work/results.txt"

echo
echo "usage: wrk completed $agent_wrk_requests requests through the agent (warm-ups included), plus 2 checks and $((probe_requests + 2)) probe streams;"
echo "       the agent metered $agent_metered, the aggregator committed $agg_requests (estimated $agg_estimated, unpriced $agg_unpriced, tap problems $usage_problems)"
echo "       agent upstream connections: $upstream_connections"
if [ "$agg_requests" -ne "$agent_metered" ]; then
  echo "the aggregator did not commit what the agent metered" >&2
  exit 1
fi
echo "took $((SECONDS - started_at)) s"
