#!/usr/bin/env bash
# Proxy overhead of tollgate-agent (base-URL mode), in one run, on loopback:
#
#   direct       wrk → nginx (the "provider": a fixed ~1.2 KB chat.completion, or a
#                22-event chat.completion.chunk SSE stream sent chunked)
#   nginx proxy  wrk → nginx reverse proxy (keep-alive upstream pool) → nginx   (baseline)
#   agent        wrk → tollgate-agent /openai/v1/chat/completions → nginx, metering every
#                response and shipping usage over CurveZMQ to a real `tollgate serve`
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
# TOLLGATE_BIN=dir skips the build and uses tollgate-agent and tollgate from dir.
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
read -r origin_port proxy_port agent_port admin_port usage_port api_port probe_port probe_proxy_port < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(8)]
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
json_body="$fixtures/request-chat.json"
stream_body="$fixtures/request-chat-stream.json"

# Every path must return exactly the provider's bytes before anything is timed.
for url in "$direct_url" "$proxy_url" "$agent_url"; do
  curl -fsS -X POST -H 'Content-Type: application/json' -H 'Authorization: Bearer sk-bench-check' \
    --data-binary "@$json_body" "$url" -o "$work/check.json"
  cmp -s "$work/check.json" "$fixtures/chat-completion.json" || { echo "wrong JSON body from $url" >&2; exit 1; }
  curl -fsS -X POST -H 'Content-Type: application/json' -H 'Authorization: Bearer sk-bench-check' \
    -H 'X-Bench-Fixture: stream' --data-binary "@$stream_body" "$url" -o "$work/check.sse"
  cmp -s "$work/check.sse" "$fixtures/chat-stream.sse" || { echo "wrong SSE body from $url" >&2; exit 1; }
done

# ---------------------------------------------------------------------------- measuring
echo PORTS agent=$agent_port origin=$origin_port proxy=$proxy_port admin=$admin_port; echo AGENTPID=$agent_pid; echo WORK=$work; sleep infinity
