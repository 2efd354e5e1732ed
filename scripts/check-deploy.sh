#!/usr/bin/env bash
# Checks what deploy/ ships, offline and in seconds (scripts/test.sh runs it as a phase):
#   - the Prometheus rules: `promtool check rules`, then `promtool test rules` on every file
#     in deploy/prometheus/tests/, and every alert has a firing and a non-firing case there;
#   - the Kubernetes manifests: `kubernetes-validate --strict` against the schemas it
#     carries, with the network cut off (a new network namespace) where this user can make
#     one; a deliberately broken manifest must fail, so a validator that checks nothing
#     fails this script; the kustomization names every manifest and only those;
#   - the configs in the ConfigMaps: the built programs load them (the aggregator serves);
#   - the Grafana dashboard: valid JSON, unique panel ids, every query on a datasource
#     variable. That every metric it (and each rule) queries is exported is checked against
#     the running programs by DeployMetricNamesTests (integration tests).
# Needs promtool (Debian's prometheus) and kubernetes-validate (PyPI): scripts/install-deps.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
failures=0
passes=0
pass() { passes=$((passes + 1)); echo "ok: $*"; }
fail() { failures=$((failures + 1)); echo "FAILED: $*" >&2; }

for tool in promtool kubernetes-validate python3; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed: run scripts/install-deps.sh" >&2; exit 1; }
done

# --- Prometheus rules -------------------------------------------------------------------
rules=deploy/prometheus/tollgate-rules.yaml
if promtool check rules "$rules" >/tmp/check-deploy.$$ 2>&1; then pass "promtool check rules"; else cat /tmp/check-deploy.$$; fail "promtool check rules"; fi
if promtool test rules deploy/prometheus/tests/*.yaml >/tmp/check-deploy.$$ 2>&1; then
  pass "promtool test rules ($(ls deploy/prometheus/tests/*.yaml | wc -l) files)"
else
  cat /tmp/check-deploy.$$; fail "promtool test rules"
fi
rm -f /tmp/check-deploy.$$
if python3 - "$rules" deploy/prometheus/tests/*.yaml <<'PY'
import sys, yaml
rules = yaml.safe_load(open(sys.argv[1]))
alerts = [r["alert"] for g in rules["groups"] for r in g["rules"] if "alert" in r]
firing, quiet = set(), set()
for path in sys.argv[2:]:
    for test in yaml.safe_load(open(path)).get("tests", []):
        for case in test.get("alert_rule_test", []):
            (firing if case.get("exp_alerts") else quiet).add(case["alertname"])
missing = [f"{a}: no firing case" for a in alerts if a not in firing] + [f"{a}: no non-firing case" for a in alerts if a not in quiet]
unknown = sorted((firing | quiet) - set(alerts))
for line in missing + [f"{a}: tested but not in the rules" for a in unknown]:
    print(line, file=sys.stderr)
print(f"{len(alerts)} alerts, each with a firing and a non-firing case" if not missing and not unknown else "", end="")
sys.exit(1 if missing or unknown else 0)
PY
then echo; pass "every alert tested both ways"; else fail "alert test coverage"; fi

# --- Kubernetes manifests ---------------------------------------------------------------
# The schemas ship inside the package: prove it by validating with no network at all.
offline=()
if unshare -n true 2>/dev/null; then offline=(unshare -n); fi
manifests=()
while IFS= read -r file; do manifests+=("$file"); done < <(ls deploy/kubernetes/*.yaml deploy/kubernetes/examples/*.yaml | grep -v kustomization.yaml)
if "${offline[@]}" kubernetes-validate --strict --quiet "${manifests[@]}"; then
  pass "kubernetes-validate --strict: ${#manifests[@]} files${offline:+ (no network)}"
else
  fail "kubernetes-validate"
fi
broken=$(mktemp --suffix=.yaml)
sed 's/replicas: 1/replicas: "one"/' deploy/kubernetes/aggregator-statefulset.yaml > "$broken"
if "${offline[@]}" kubernetes-validate --strict --quiet "$broken" >/dev/null 2>&1; then
  fail "kubernetes-validate accepted a StatefulSet with replicas: \"one\""
else
  pass "kubernetes-validate refuses a broken manifest"
fi
rm -f "$broken"
listed=$(python3 -c 'import yaml; print("\n".join(sorted(yaml.safe_load(open("deploy/kubernetes/kustomization.yaml"))["resources"])))')
present=$(cd deploy/kubernetes && ls *.yaml | grep -v kustomization.yaml | sort)
if [ "$listed" = "$present" ]; then pass "kustomization lists every manifest"; else
  fail "kustomization resources differ from deploy/kubernetes/*.yaml:"; diff <(echo "$listed") <(echo "$present") >&2 || true
fi
if command -v kubectl >/dev/null; then
  if kubectl kustomize deploy/kubernetes >/dev/null; then pass "kubectl kustomize builds"; else fail "kubectl kustomize"; fi
fi

# The configs inside the ConfigMaps, read by the programs themselves (once built: scripts/
# test.sh builds first): the agent's configs must load, the aggregator's must serve. Paths
# of mounted Secrets and volumes are moved into a temp directory, listeners onto loopback.
bin=$(swift build --show-bin-path 2>/dev/null || true)
if [ -x "$bin/tollgate" ] && [ -x "$bin/tollgate-agent" ]; then
  source scripts/lib/local-cluster.sh
  work=$(mktemp -d)
  python3 - "$work" <<'PY'
import sys, yaml
work = sys.argv[1]
for path, key, out in [("deploy/kubernetes/aggregator-config.yaml", "tollgate.yaml", "aggregator.yaml"),
                       ("deploy/kubernetes/agent-config.yaml", "tollgate-agent.yaml", "daemonset-agent.yaml"),
                       ("deploy/kubernetes/examples/sidecar.yaml", "tollgate-agent.yaml", "sidecar-agent.yaml")]:
    for doc in yaml.safe_load_all(open(path)):
        if doc and doc["kind"] == "ConfigMap" and key in doc.get("data", {}):
            open(f"{work}/{out}", "w").write(doc["data"][key])
PY
  "$bin/tollgate" keygen --secret-key-file "$work/aggregator.key" --public-key-file "$work/aggregator.pub" >/dev/null
  head -c 32 /dev/urandom | base64 > "$work/org-secret"
  mkdir -p "$work/agents.d" && echo token > "$work/api-token" && chmod 600 "$work/org-secret" "$work/api-token"
  api_port=$(free_port); usage_port=$(free_port)
  sed -e "s#/var/lib/tollgate#$work/data#; s#/etc/tollgate/api-token/api-token#$work/api-token#" \
      -e "s#/etc/tollgate/curve/aggregator.key#$work/aggregator.key#; s#/etc/tollgate/agents.d#$work/agents.d#" \
      -e "s#0.0.0.0:7601#127.0.0.1:$api_port#; s#tcp://0.0.0.0:7600#tcp://127.0.0.1:$usage_port#" "$work/aggregator.yaml" > "$work/aggregator.local.yaml"
  "$bin/tollgate" serve --config "$work/aggregator.local.yaml" > "$work/aggregator.log" 2>&1 & server=$!
  healthy=""
  for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://127.0.0.1:$api_port/healthz" 2>/dev/null && { healthy=1; break; }; sleep 0.1; done
  kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true
  if [ -n "$healthy" ]; then pass "the aggregator serves with its ConfigMap's config"; else cat "$work/aggregator.log" >&2; fail "the aggregator's ConfigMap config"; fi
  for agent in daemonset-agent sidecar-agent; do
    sed -e "s#/var/lib/tollgate-agent#$work/$agent-state#; s#/etc/tollgate/org-secret/org-secret#$work/org-secret#" \
        -e "s#/etc/tollgate/aggregator-public/aggregator.pub#$work/aggregator.pub#; s#/etc/tollgate/agent-key/agent.key#$work/$agent.key#" \
        "$work/$agent.yaml" > "$work/$agent.local.yaml"
    if "$bin/tollgate-agent" key --config "$work/$agent.local.yaml" >/dev/null 2>"$work/$agent.err"; then pass "tollgate-agent loads $agent's ConfigMap config"
    else cat "$work/$agent.err" >&2; fail "$agent's ConfigMap config"; fi
  done
  rm -rf "$work"
else
  echo "skipped: the ConfigMaps' configs against the programs (no build in $bin)"
fi

# --- Grafana dashboard ------------------------------------------------------------------
if python3 - deploy/grafana/tollgate-dashboard.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
ids, problems, queries = set(), [], 0
def walk(panels):
    global queries
    for p in panels:
        if p["id"] in ids: problems.append(f"panel id {p['id']} twice")
        ids.add(p["id"])
        if p.get("type") != "row":
            uid = (p.get("datasource") or {}).get("uid", "")
            if not uid.startswith("${"): problems.append(f"panel {p['title']!r}: datasource {uid!r} is not a variable")
            if not p.get("targets"): problems.append(f"panel {p['title']!r} has no query")
            queries += sum(1 for t in p.get("targets", []) if "expr" in t)
        walk(p.get("panels", []))
walk(d["panels"])
names = {v["name"] for v in d["templating"]["list"]}
if "datasource" not in names: problems.append("no datasource variable")
for line in problems: print(line, file=sys.stderr)
print(f"{len(ids)} panels, {queries} PromQL queries", end="")
sys.exit(1 if problems else 0)
PY
then echo; pass "dashboard"; else fail "dashboard"; fi

echo "check-deploy: $passes passed, $failures failed"
[ "$failures" -eq 0 ]
