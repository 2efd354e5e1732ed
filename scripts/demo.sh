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

source scripts/lib/local-cluster.sh
mock_port=$(free_port); agent_port=$(free_port); admin_port=$(free_port); api_port=$(free_port); usage_port=$(free_port)
cluster_aggregator "$bin" "$work" "$usage_port" "$api_port"
cat > "$work/agent.yaml" <<YAML
listen: 127.0.0.1:$agent_port
admin_listen: 127.0.0.1:$admin_port
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
cluster_admit_agent "$bin" "$work" demo-agent

echo "==> starting mock provider, aggregator and agent in $work"
"$bin/tollgate-mock" serve --port "$mock_port" >"$work/mock.log" 2>&1 & pids+=($!)
"$bin/tollgate" serve --config "$work/aggregator.yaml" >"$work/aggregator.log" 2>&1 & pids+=($!)
"$bin/tollgate-agent" run --config "$work/agent.yaml" >"$work/agent.log" 2>&1 & pids+=($!)
wait_for "http://127.0.0.1:$mock_port/healthz" mock "$work/mock.log"
wait_for "http://127.0.0.1:$api_port/healthz" aggregator "$work/aggregator.log"
wait_for "http://127.0.0.1:$agent_port/healthz" agent "$work/agent.log"

echo "==> sending $requests requests through the agent: $keys keys, formats $formats"
echo "    (OpenAI chat/responses/completions/embeddings, Azure, Anthropic, Gemini; JSON and streams)"
"$bin/tollgate-mock" traffic --agent-url "http://127.0.0.1:$agent_port" --formats "$formats" \
  --requests "$requests" --keys "$keys" --models "$models" --concurrency 8 >/dev/null

echo "==> checking the aggregator's totals against the mock provider's ledger"
"$bin/tollgate-mock" verify --mock "http://127.0.0.1:$mock_port" --api "http://127.0.0.1:$api_port" --token-file "$work/aggregator-data/api-read-token" \
  --org-secret-file "$work/org-secret"

echo
echo "==> tollgate usage --since 1h --by provider,model"
"$bin/tollgate" usage --since 1h --by provider,model --api "http://127.0.0.1:$api_port" --token-file "$work/aggregator-data/api-read-token"
echo
echo "==> tollgate usage --since 1h --by key,model"
"$bin/tollgate" usage --since 1h --by key,model --api "http://127.0.0.1:$api_port" --token-file "$work/aggregator-data/api-read-token"
echo
echo "==> tollgate keys list  (name them: tollgate keys label <hint> --name … --team … --owner …)"
"$bin/tollgate" keys list --api "http://127.0.0.1:$api_port" --token-file "$work/aggregator-data/api-read-token"
