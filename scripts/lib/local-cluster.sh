# Shared by scripts/demo.sh and scripts/bench-proxy.sh (source it): the pieces of a
# loopback Tollgate cluster that every script sets up the same way.

# A port that was free a moment ago.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
    || echo $((20000 + RANDOM % 20000))
}

# cluster_aggregator BIN WORK USAGE_PORT API_PORT
# Writes the org secret, the aggregator's CurveZMQ keypair, an empty agent allowlist
# (WORK/agents.d) and WORK/aggregator.yaml. Budgets are published on USAGE_PORT + 2, where
# agents pointed at USAGE_PORT look for them: both sides' default, so no config names it.
# (Before that rule the aggregator kept a fixed 7602 and these agents never heard a budget.)
cluster_aggregator() {
  local bin=$1 work=$2 usage_port=$3 api_port=$4
  head -c 32 /dev/urandom | base64 > "$work/org-secret"
  chmod 600 "$work/org-secret"
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
}

# cluster_admit_agent BIN WORK NAME
# The agent described by WORK/agent.yaml makes its own keypair; admitting it is one file
# in the aggregator's allowlist.
cluster_admit_agent() {
  "$1/tollgate-agent" key --config "$2/agent.yaml" > "$2/agents.d/$3.pub"
}

# wait_for URL NAME LOG: until URL answers, or print LOG and fail.
wait_for() {
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "$2 did not start; its log:" >&2
  cat "$3" >&2
  exit 1
}
