#!/usr/bin/env bash
# The main job, end to end on loopback: installs what is missing, builds, starts an
# aggregator, an agent and a local mock of OpenAI, Anthropic and Gemini, sends real
# requests through the agent in every wire format (JSON and streaming) with several API
# keys and models, prints the totals, checks them against what the mock served, and stops
# everything it started.
#
#   REQUESTS=300 KEYS=3 FORMATS=all scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
requests="${REQUESTS:-300}"
keys="${KEYS:-3}"
models="${MODELS:-gpt-4o-mini,o4-mini}"
formats="${FORMATS:-all}"

scripts/install-deps.sh
echo "==> building (the first build takes several minutes)"
swift build >/dev/null
bin="$(swift build --show-bin-path)"

work="$(mktemp -d -t tollgate-demo.XXXXXX)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
  || echo $((20000 + RANDOM % 20000)); }
mock_port=$(free_port); agent_port=$(free_port); api_port=$(free_port); usage_port=$(free_port)

head -c 32 /dev/urandom | base64 > "$work/org-secret"
chmod 600 "$work/org-secret"
# CurveZMQ on the usage channel: the aggregator's keypair, and an allowlist of agents.
mkdir -p "$work/agents.d"
"$bin/tollgate" keygen --secret-key-file "$work/aggregator.key" --public-key-file "$work/aggregator.pub" >/dev/null
cat > "$work/aggregator.yaml" <<YAML
data_dir: $work/aggregator-data
usage_listen: tcp://127.0.0.1:$usage_port
api_listen: 127.0.0.1:$api_port
curve:
  secret_key_file: $work/aggregator.key
  authorized_keys_dir: $work/agents.d
YAML
cat > "$work/agent.yaml" <<YAML
listen: 127.0.0.1:$agent_port
state_dir: $work/agent-state
org_secret_file: $work/org-secret
upstreams:
  openai: http://127.0.0.1:$mock_port
  anthropic: http://127.0.0.1:$mock_port
  gemini: http://127.0.0.1:$mock_port
  azure: http://127.0.0.1:$mock_port
aggregator:
  endpoint: tcp://127.0.0.1:$usage_port
  server_public_key_file: $work/aggregator.pub
YAML
# The agent makes its own keypair; admitting it is one file in the aggregator's allowlist.
"$bin/tollgate-agent" key --config "$work/agent.yaml" > "$work/agents.d/demo-agent.pub"

wait_healthy() {
  for _ in $(seq 1 100); do
    curl -fsS "$1/healthz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "$2 did not start; its log:" >&2
  cat "$work/$2.log" >&2
  exit 1
}

echo "==> starting mock provider, aggregator and agent in $work"
"$bin/tollgate-mock" serve --port "$mock_port" >"$work/mock.log" 2>&1 & pids+=($!)
"$bin/tollgate" serve --config "$work/aggregator.yaml" >"$work/aggregator.log" 2>&1 & pids+=($!)
"$bin/tollgate-agent" run --config "$work/agent.yaml" >"$work/agent.log" 2>&1 & pids+=($!)
wait_healthy "http://127.0.0.1:$mock_port" mock
wait_healthy "http://127.0.0.1:$api_port" aggregator
wait_healthy "http://127.0.0.1:$agent_port" agent

echo "==> sending $requests requests through the agent: $keys keys, formats $formats"
echo "    (OpenAI chat/responses/completions/embeddings, Azure, Anthropic, Gemini; JSON and streams)"
"$bin/tollgate-mock" traffic --agent-url "http://127.0.0.1:$agent_port" --formats "$formats" \
  --requests "$requests" --keys "$keys" --models "$models" --concurrency 8 >/dev/null

echo "==> checking the aggregator's totals against the mock provider's ledger"
"$bin/tollgate-mock" verify --mock "http://127.0.0.1:$mock_port" --api "http://127.0.0.1:$api_port" \
  --org-secret-file "$work/org-secret"

echo
echo "==> tollgate usage --since 1h --by provider,model"
"$bin/tollgate" usage --since 1h --by provider,model --api "http://127.0.0.1:$api_port"
echo
echo "==> tollgate usage --since 1h --by key,model"
"$bin/tollgate" usage --since 1h --by key,model --api "http://127.0.0.1:$api_port"
