#!/usr/bin/env bash
# Runs what docs/guides/ claim, as far as this machine allows, against a real agent,
# aggregator and tollgate-mock on loopback, then checks the aggregator's totals against
# the mock's ledger (every call below, exactly):
#   - Python: the openai and anthropic SDKs in base-URL mode (OPENAI_BASE_URL,
#     ANTHROPIC_BASE_URL) and in HTTPS_PROXY mode with SSL_CERT_FILE (and REQUESTS_CA_BUNDLE
#     for requests), JSON and streaming;
#   - Node (no npm here, so no SDK): NODE_EXTRA_CA_CERTS makes Node trust the agent's CA for
#     api.anthropic.com through a CONNECT, and fetch() in base-URL mode;
#   - curl with HTTPS_PROXY and --cacert, as the README shows.
# The provider hosts resolve to the mock through the agent's intercept.connect_to, so the
# clients use the real names (api.openai.com, api.anthropic.com) and the real default URLs.
# Needs a build (swift build) and `pip install openai anthropic requests`; not part of CI
# (it needs PyPI packages the suite does not), about 20 s.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${BIN:-$(swift build --show-bin-path)}"
python3 -c 'import openai, anthropic, requests' 2>/dev/null || { echo "needs: pip install openai anthropic requests" >&2; exit 1; }
source scripts/lib/local-cluster.sh
work="$(mktemp -d -t tollgate-guides.XXXXXX)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
mock_port=$(free_port); tls_port=$(free_port); agent_port=$(free_port); admin_port=$(free_port); api_port=$(free_port); usage_port=$(free_port)
cluster_aggregator "$bin" "$work" "$usage_port" "$api_port"
cat > "$work/agent.yaml" <<YAML
listen: 127.0.0.1:$agent_port
admin_listen: 127.0.0.1:$admin_port
state_dir: $work/agent-state
org_secret_file: $work/org-secret
upstreams:
  openai: http://127.0.0.1:$mock_port
  anthropic: http://127.0.0.1:$mock_port
aggregator:
  endpoint: tcp://127.0.0.1:$usage_port
  server_public_key_file: $work/aggregator.pub
meter:
  flush_interval_ms: 100
intercept:
  upstream_ca_file: $work/mock-ca.pem
  connect_to:
    api.openai.com:443: 127.0.0.1:$tls_port
    api.anthropic.com:443: 127.0.0.1:$tls_port
YAML
cluster_admit_agent "$bin" "$work" guides-agent
"$bin/tollgate-mock" serve --host 127.0.0.1 --port "$mock_port" --tls-port "$tls_port" --tls-ca-file "$work/mock-ca.pem" \
  --tls-hosts api.openai.com,api.anthropic.com >"$work/mock.log" 2>&1 & pids+=($!)
wait_for "http://127.0.0.1:$mock_port/healthz" mock "$work/mock.log"
"$bin/tollgate" serve --config "$work/aggregator.yaml" >"$work/aggregator.log" 2>&1 & pids+=($!)
"$bin/tollgate-agent" run --config "$work/agent.yaml" >"$work/agent.log" 2>&1 & pids+=($!)
wait_for "http://127.0.0.1:$api_port/healthz" aggregator "$work/aggregator.log"
wait_for "http://127.0.0.1:$admin_port/healthz" agent "$work/agent.log"
ca="$work/agent-state/ca/ca.crt"
agent="http://127.0.0.1:$agent_port"
passed=0
failed=0
check() {
  local name=$1; shift
  if out=$("$@" 2>&1); then passed=$((passed + 1)); echo "ok: $name: $out"
  else failed=$((failed + 1)); echo "FAILED: $name: $out" >&2; fi
}
# The client must fail: a check that passes with the CA passes because of it.
check_refused() {
  local name=$1; shift
  if "$@" >/dev/null 2>&1; then failed=$((failed + 1)); echo "FAILED: $name: it was accepted" >&2
  else passed=$((passed + 1)); echo "ok: $name: refused"; fi
}
# No variable from the caller's shell may leak into a check.
clean=(env -u HTTPS_PROXY -u HTTP_PROXY -u https_proxy -u http_proxy -u OPENAI_BASE_URL -u ANTHROPIC_BASE_URL
       -u SSL_CERT_FILE -u REQUESTS_CA_BUNDLE -u NODE_EXTRA_CA_CERTS -u NO_PROXY -u no_proxy)

openai_py='
from openai import OpenAI
client = OpenAI()
reply = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hello"}], max_tokens=50)
stream = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "stream"}], stream=True)
chunks = sum(1 for _ in stream)
print(f"{client.base_url} usage={reply.usage.total_tokens} tokens, stream of {chunks} chunks")'
anthropic_py='
import anthropic
client = anthropic.Anthropic()
reply = client.messages.create(model="claude-sonnet-4-5", max_tokens=50, messages=[{"role": "user", "content": "hello"}])
with client.messages.stream(model="claude-haiku-4-5", max_tokens=50, messages=[{"role": "user", "content": "stream"}]) as stream:
    final = stream.get_final_message()
print(f"{client.base_url} usage={reply.usage.input_tokens}+{reply.usage.output_tokens}, stream output={final.usage.output_tokens}")'
requests_py='
import requests, os
r = requests.post("https://api.openai.com/v1/chat/completions", headers={"Authorization": "Bearer " + os.environ["OPENAI_API_KEY"]},
                  json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}, timeout=30)
r.raise_for_status(); print("requests via HTTPS_PROXY:", r.json()["usage"]["total_tokens"], "tokens")'

check "python openai, OPENAI_BASE_URL" "${clean[@]}" OPENAI_API_KEY=sk-guide-openai-base OPENAI_BASE_URL="$agent/openai/v1" python3 -c "$openai_py"
check "python openai, HTTPS_PROXY + SSL_CERT_FILE" "${clean[@]}" OPENAI_API_KEY=sk-guide-openai-proxy HTTPS_PROXY="$agent" SSL_CERT_FILE="$ca" python3 -c "$openai_py"
check "python anthropic, ANTHROPIC_BASE_URL" "${clean[@]}" ANTHROPIC_API_KEY=sk-ant-guide-base ANTHROPIC_BASE_URL="$agent/anthropic" python3 -c "$anthropic_py"
check "python anthropic, HTTPS_PROXY + SSL_CERT_FILE" "${clean[@]}" ANTHROPIC_API_KEY=sk-ant-guide-proxy HTTPS_PROXY="$agent" SSL_CERT_FILE="$ca" python3 -c "$anthropic_py"
check "python requests, HTTPS_PROXY + REQUESTS_CA_BUNDLE" "${clean[@]}" OPENAI_API_KEY=sk-guide-requests HTTPS_PROXY="$agent" REQUESTS_CA_BUNDLE="$ca" python3 -c "$requests_py"
# Without the CA the client must refuse: the check above is not passing by accident.
check_refused "python openai, HTTPS_PROXY without the CA" "${clean[@]}" OPENAI_API_KEY=sk-guide-refused HTTPS_PROXY="$agent" \
  python3 -c 'from openai import OpenAI; OpenAI(max_retries=0).models.list()'

if command -v node >/dev/null; then
  cat > "$work/connect.js" <<'JS'
const http = require("http"), tls = require("tls"), url = new URL(process.env.HTTPS_PROXY);
const body = JSON.stringify({model: "claude-sonnet-4-5", max_tokens: 40, messages: [{role: "user", content: "from node"}]});
http.request({host: url.hostname, port: url.port, method: "CONNECT", path: "api.anthropic.com:443"}).on("connect", (res, socket) => {
  if (res.statusCode !== 200) { console.error("CONNECT", res.statusCode); process.exit(1); }
  // Verified against Node's roots plus NODE_EXTRA_CA_CERTS: no ca option here.
  const secure = tls.connect({socket, servername: "api.anthropic.com"}, () => {
    secure.write("POST /v1/messages HTTP/1.1\r\nHost: api.anthropic.com\r\nx-api-key: sk-ant-guide-node-proxy\r\nanthropic-version: 2023-06-01\r\ncontent-type: application/json\r\ncontent-length: " + Buffer.byteLength(body) + "\r\nconnection: close\r\n\r\n" + body);
  });
  let text = ""; secure.on("data", d => text += d); secure.on("error", e => { console.error(e.message); process.exit(1); });
  secure.on("end", () => { const status = text.split(" ")[1]; console.log("CONNECT + TLS trusted via NODE_EXTRA_CA_CERTS, status", status); process.exit(status === "200" ? 0 : 1); });
}).end();
JS
  cat > "$work/fetch.js" <<'JS'
fetch(process.env.ANTHROPIC_BASE_URL + "/v1/messages", {method: "POST", headers: {"x-api-key": "sk-ant-guide-node-base", "anthropic-version": "2023-06-01", "content-type": "application/json"},
  body: JSON.stringify({model: "claude-haiku-4-5", max_tokens: 40, messages: [{role: "user", content: "from node"}]})})
  .then(async r => { const j = await r.json(); console.log("fetch via ANTHROPIC_BASE_URL, status", r.status, "output", j.usage.output_tokens); process.exit(r.ok ? 0 : 1); })
  .catch(e => { console.error(e.message); process.exit(1); });
JS
  check "node, HTTPS_PROXY + NODE_EXTRA_CA_CERTS" "${clean[@]}" HTTPS_PROXY="$agent" NODE_EXTRA_CA_CERTS="$ca" node "$work/connect.js"
  check_refused "node, HTTPS_PROXY without NODE_EXTRA_CA_CERTS" "${clean[@]}" HTTPS_PROXY="$agent" node "$work/connect.js"
  check "node fetch, ANTHROPIC_BASE_URL" "${clean[@]}" ANTHROPIC_BASE_URL="$agent/anthropic" node "$work/fetch.js"
else
  echo "skipped: node is not installed"
fi
check "curl, HTTPS_PROXY + --cacert" "${clean[@]}" HTTPS_PROXY="$agent" curl -fsS --cacert "$ca" https://api.openai.com/v1/chat/completions \
  -H "Authorization: Bearer sk-guide-curl" -H "Content-Type: application/json" -o /dev/null -w "status %{http_code}" \
  -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}'

echo "==> the aggregator's totals against the mock's ledger"
if "$bin/tollgate-mock" verify --mock "http://127.0.0.1:$mock_port" --api "http://127.0.0.1:$api_port" --org-secret-file "$work/org-secret"; then
  passed=$((passed + 1))
else
  failed=$((failed + 1)); echo "FAILED: totals differ from the mock's ledger" >&2
fi
echo "check-guides: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
