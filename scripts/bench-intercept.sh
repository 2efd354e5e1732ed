#!/usr/bin/env bash
# Overhead of tollgate-agent in HTTPS_PROXY (interception) mode, in one run, on loopback.
# wrk cannot speak CONNECT, so the client is curl (one process per measurement, reusing
# its connections), the same client for every target:
#
#   direct       curl ─TLS→ nginx posing as api.openai.com (the 1.2 KB chat.completion of
#                Benchmarks/proxy/)
#   nginx proxy  curl ─TLS→ nginx reverse proxy (TLS terminated, keep-alive TLS upstream
#                pool) ─TLS→ origin                                   (baseline)
#   agent        curl ─CONNECT+TLS→ tollgate-agent (leaf minted from its CA, metered,
#                usage shipped over CurveZMQ to a real `tollgate serve`) ─TLS→ origin
#
# Sequential: REQUESTS requests on one connection, per-request time from curl
# (%{time_total}), p50/p99. Parallel: the same number with --parallel-max PARALLEL, req/s.
# Checks at the end that the aggregator counted every request the agent metered.
#
#   REQUESTS=2000 PARALLEL=16 scripts/bench-intercept.sh
#   TOLLGATE_BIN=dir skips the build and uses tollgate-agent and tollgate from dir.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/local-cluster.sh

requests="${REQUESTS:-2000}"
parallel="${PARALLEL:-16}"

need=()
command -v nginx >/dev/null || need+=(nginx)
command -v openssl >/dev/null || need+=(openssl)
command -v python3 >/dev/null || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
  echo "==> installing ${need[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
scripts/install-deps.sh >/dev/null
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

if [ -n "${TOLLGATE_BIN:-}" ]; then
  bin=$TOLLGATE_BIN
else
  echo "==> building release binaries"
  swift build -c release --product tollgate-agent >/dev/null
  swift build -c release --product tollgate >/dev/null
  bin=$(swift build -c release --show-bin-path)
fi

work=$(mktemp -d /tmp/tollgate-bench-intercept.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "==> origin certificate for api.openai.com (throwaway CA)"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=bench origin CA" \
  -keyout "$work/origin-ca.key" -out "$work/origin-ca.crt" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=api.openai.com" \
  -keyout "$work/origin.key" -out "$work/origin.csr" 2>/dev/null
printf "subjectAltName=DNS:api.openai.com\nbasicConstraints=CA:FALSE\n" > "$work/origin.ext"
openssl x509 -req -in "$work/origin.csr" -CA "$work/origin-ca.crt" -CAkey "$work/origin-ca.key" -CAcreateserial \
  -days 2 -extfile "$work/origin.ext" -out "$work/origin.crt" 2>/dev/null

origin_port=$(free_port); proxy_port=$(free_port); agent_port=$(free_port); admin_port=$(free_port)
usage_port=$(free_port); api_port=$(free_port)
mkdir -p "$work/nginx-tmp"
cat > "$work/nginx.conf" <<NGINX
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $work/nginx-tmp/body;
    proxy_temp_path $work/nginx-tmp/proxy;
    types {}
    keepalive_requests 1000000;
    ssl_certificate $work/origin.crt;
    ssl_certificate_key $work/origin.key;
    server {
        listen 127.0.0.1:$origin_port ssl;
        location = /v1/chat/completions {
            error_page 405 =200 \$uri;
            alias $PWD/Benchmarks/proxy/chat-completion.json;
            default_type application/json;
        }
    }
    upstream origin { server 127.0.0.1:$origin_port; keepalive 64; }
    server {
        listen 127.0.0.1:$proxy_port ssl;
        location / {
            proxy_pass https://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_ssl_server_name on;
            proxy_ssl_name api.openai.com;
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate $work/origin-ca.crt;
            proxy_ssl_session_reuse on;
        }
    }
}
NGINX
"$nginx_bin" -p "$work" -c "$work/nginx.conf"

cluster_aggregator "$bin" "$work" "$usage_port" "$api_port"
cat > "$work/agent.yaml" <<YAML
listen: 127.0.0.1:$agent_port
admin_listen: 127.0.0.1:$admin_port
state_dir: $work/agent-state
org_secret_file: $work/org-secret
aggregator:
  endpoint: tcp://127.0.0.1:$usage_port
  server_public_key_file: $work/aggregator.pub
intercept:
  upstream_ca_file: $work/origin-ca.crt
  connect_to:
    api.openai.com:443: 127.0.0.1:$origin_port
YAML
cluster_admit_agent "$bin" "$work" bench
"$bin/tollgate" serve --config "$work/aggregator.yaml" > "$work/aggregator.log" 2>&1 & pids+=($!)
"$bin/tollgate-agent" run --config "$work/agent.yaml" > "$work/agent.log" 2>&1 & pids+=($!)
wait_for "http://127.0.0.1:$admin_port/healthz" agent "$work/agent.log"
wait_for "http://127.0.0.1:$api_port/healthz" aggregator "$work/aggregator.log"

url=https://api.openai.com/v1/chat/completions
body=$PWD/Benchmarks/proxy/request-chat.json
for _ in $(seq 1 "$requests"); do
  printf 'url = "%s"\noutput = "/dev/null"\n' "$url"
done > "$work/urls.curl"
common=(-s -H "Authorization: Bearer sk-bench-intercept-0001" -H "Content-Type: application/json" --data "@$body" -w '%{time_total}\n')

# target NAME: curl options reaching api.openai.com through it
target_options() {
  case $1 in
    direct) echo "--cacert $work/origin-ca.crt --resolve api.openai.com:443:127.0.0.1 --connect-to api.openai.com:443:127.0.0.1:$origin_port" ;;
    nginx) echo "--cacert $work/origin-ca.crt --connect-to api.openai.com:443:127.0.0.1:$proxy_port" ;;
    agent) echo "--cacert $work/agent-state/ca/ca.crt --proxy http://127.0.0.1:$agent_port" ;;
  esac
}

declare -A p50 p99 rps
for name in direct nginx agent; do
  # shellcheck disable=SC2046
  curl "${common[@]}" $(target_options $name) --config "$work/urls.curl" > "$work/$name.times"
  read -r p50[$name] p99[$name] < <(python3 - "$work/$name.times" <<'PY'
import statistics, sys
t = sorted(float(x) * 1e6 for x in open(sys.argv[1]) if x.strip())
t = t[len(t) // 20:]  # the first requests include handshakes and warm-up
print(round(t[len(t) // 2]), round(t[int(len(t) * 0.99) - 1]))
PY
)
  start=$(date +%s.%N)
  # shellcheck disable=SC2046
  curl "${common[@]}" $(target_options $name) --parallel --parallel-max "$parallel" --config "$work/urls.curl" > /dev/null 2>&1
  rps[$name]=$(python3 -c "print(round($requests / ($(date +%s.%N) - $start)))")
done

echo
printf "%-12s %12s %12s %14s\n" target "p50 (µs)" "p99 (µs)" "req/s (x$parallel)"
for name in direct nginx agent; do
  printf "%-12s %12s %12s %14s\n" "$name" "${p50[$name]}" "${p99[$name]}" "${rps[$name]}"
done
echo
echo "agent added latency vs direct: p50 +$(( p50[agent] - p50[direct] )) µs, p99 +$(( p99[agent] - p99[direct] )) µs"
echo "nginx added latency vs direct: p50 +$(( p50[nginx] - p50[direct] )) µs, p99 +$(( p99[nginx] - p99[direct] )) µs"
python3 -c "print(f'agent throughput: {${rps[agent]} / ${rps[nginx]} * 100:.0f} % of the nginx TLS proxy, {${rps[agent]} / ${rps[direct]} * 100:.0f} % of direct')"
rss_kb=$(awk '/VmHWM/ {print $2}' "/proc/${pids[1]}/status")
echo "agent peak RSS: $(( rss_kb / 1024 )) MB"

expected=$(( 2 * requests ))
for _ in $(seq 1 100); do
  counted=$("$bin/tollgate" usage --api "http://127.0.0.1:$api_port" --token-file "$work/aggregator-data/api-read-token" --since 1h --by provider --format json \
    | python3 -c 'import json,sys; print(sum(r["requests"] for r in json.load(sys.stdin)))')
  [ "$counted" = "$expected" ] && break
  sleep 0.2
done
if [ "$counted" = "$expected" ]; then
  echo "OK: the aggregator counted all $expected intercepted requests"
else
  echo "MISMATCH: the aggregator counted $counted of $expected intercepted requests" >&2
  exit 1
fi
