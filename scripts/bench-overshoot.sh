#!/usr/bin/env bash
# Overshoot near the limit, leases off against leases on, on the fleet test bed (network
# namespaces: needs root and iproute2): 8 agent hosts × 8 concurrent clients spend one USD
# budget to its limit with the aggregator's `budgets.leases: off`, then, after a restart in
# the same run, `on`. Overshoot = what the aggregator counted past the limit once every
# host's usage landed; the bound is what the API published for the budget. Runs the fleet
# test RUNS times (default 3) with longer phases and prints each run and the medians.
# Usage: scripts/bench-overshoot.sh [RUNS] [PHASE_SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
phase=${2:-20}
swift build --build-tests >/dev/null
echo "$(nproc) CPUs; phase ${phase} s; $runs runs; $(date -u +%FT%TZ)"
figures=()
for run in $(seq 1 "$runs"); do
  out=$(TOLLGATE_LEASE_PHASE_SECONDS=$phase swift test --skip-build \
    --filter 'FleetBedTests/leasesBoundTheFleetsOvershootWhereLeaseFreeEnforcementOvershoots' 2>&1 || true)
  grep '^lease:' <<<"$out" | sed "s/^/run $run /"
  if grep -q '✘' <<<"$out"; then echo "run $run FAILED:"; grep -E '✘|Expectation' <<<"$out" | head -20; fi
  line=$(grep '^lease-figures:' <<<"$out" || true)
  [ -n "$line" ] && figures+=("$line")
done
[ ${#figures[@]} -gt 0 ] || { echo "no run produced figures" >&2; exit 1; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : int((a[NR/2] + a[NR/2+1]) / 2)}'; }
field() { printf '%s\n' "${figures[@]}" | sed -n "s/.* $1=\(-\{0,1\}[0-9]*\).*/\1/p"; }
usd() { awk -v n="$1" 'BEGIN {printf "%s$%.4f", (n < 0 ? "-" : ""), (n < 0 ? -n : n) / 1e9}'; }
limit=$(field limit | median)
echo "medians of ${#figures[@]} runs (limit $(usd "$limit"), burn $(usd "$(field rate | median)")/s):"
echo "| leases | overshoot | published bound | admitted |"
echo "|---|---|---|---|"
echo "| off | $(usd "$(field off_overshoot | median)") | $(usd "$(field off_bound | median)") | $(field off_admitted | median) |"
echo "| on | $(usd "$(field on_overshoot | median)") | $(usd "$(field on_bound | median)") | $(field on_admitted | median) |"
