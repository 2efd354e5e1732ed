#!/usr/bin/env bash
# A fleet on one machine: network namespaces as hosts, each with its own address, on two
# bridges, so nothing reaches another host through 127.0.0.1 (each namespace has its own
# loopback). FleetTests drives it; it also works by hand (as root):
#
#   scripts/lib/fleet-netns.sh up 4            # aggregator, mock provider, agents a1…a4
#   scripts/lib/fleet-netns.sh exec a1 curl -s http://10.231.0.130:8080/healthz
#   scripts/lib/fleet-netns.sh partition a1    # a1's link to the fleet network goes down
#   scripts/lib/fleet-netns.sh heal a1
#   scripts/lib/fleet-netns.sh add-agent 5     # a host joining later
#   scripts/lib/fleet-netns.sh down            # removes everything it made (idempotent)
#
# Hosts (namespace tgf-HOST):
#   fleet network 10.231.0.0/25 (bridge tgf-fleet): the aggregator (agg) 10.231.0.2 and
#     each agent aN at 10.231.0.(10+N); this machine is 10.231.0.1 (the operator's seat).
#   egress network 10.231.0.128/25 (bridge tgf-egress), standing for the internet: the mock
#     provider (mock) 10.231.0.130 and each agent aN at 10.231.0.(138+N); this machine .129.
# An agent reaches the aggregator only over the fleet network and the provider only over
# egress, so `partition aN` (its fleet veth down, like a pulled cable) cuts it from the
# aggregator while it keeps serving its clients through the provider. No namespace has a
# default route: nothing crosses from one network to the other.
#
# Needs root, iproute2 (`ip`) and a kernel with veth and bridge support. Names start with
# tgf- and addresses are in 10.231.0.0/24, so other users of the machine are untouched.
set -euo pipefail

prefix=tgf
fleet_bridge=$prefix-fleet
egress_bridge=$prefix-egress

die() { echo "fleet-netns: $*" >&2; exit 1; }

need_ip() {
  command -v ip >/dev/null 2>&1 || die "'ip' (iproute2) is not installed; apt-get install iproute2"
  [ "$(id -u)" = 0 ] || die "network namespaces need root (run as root or with sudo)"
  ip netns list >/dev/null 2>&1 || die "'ip netns' does not work here: $(ip netns list 2>&1 | head -1)"
}

# fleet_addr HOST / egress_addr HOST: a host's address on either network ("" if none).
fleet_addr() {
  case $1 in
    operator) echo 10.231.0.1 ;;
    agg) echo 10.231.0.2 ;;
    a[0-9]*) echo "10.231.0.$((10 + ${1#a}))" ;;
    *) echo "" ;;
  esac
}
egress_addr() {
  case $1 in
    operator) echo 10.231.0.129 ;;
    mock) echo 10.231.0.130 ;;
    a[0-9]*) echo "10.231.0.$((138 + ${1#a}))" ;;
    *) echo "" ;;
  esac
}

# The host-side end of a host's veth on a network: tgf-a1-f (fleet), tgf-a1-e (egress).
veth() { echo "$prefix-$1-$2"; }

bridge() {
  local name=$1 address=$2
  ip link show "$name" >/dev/null 2>&1 && return 0
  ip link add "$name" type bridge
  ip addr add "$address/25" dev "$name"
  ip link set "$name" up
}

# attach HOST NETWORK(f|e) ADDRESS: a veth from the host's namespace to the bridge.
attach() {
  local host=$1 network=$2 address=$3 bridge_name inside
  [ "$network" = f ] && bridge_name=$fleet_bridge || bridge_name=$egress_bridge
  [ "$network" = f ] && inside=fleet0 || inside=egress0
  ip link add "$(veth "$host" "$network")" type veth peer name "$inside" netns "$prefix-$host"
  ip link set "$(veth "$host" "$network")" master "$bridge_name" up
  ip -n "$prefix-$host" addr add "$address/25" dev "$inside"
  ip -n "$prefix-$host" link set "$inside" up
}

add_host() {
  local host=$1
  ip netns add "$prefix-$host"
  ip -n "$prefix-$host" link set lo up
  [ -n "$(fleet_addr "$host")" ] && attach "$host" f "$(fleet_addr "$host")"
  [ -n "$(egress_addr "$host")" ] && attach "$host" e "$(egress_addr "$host")"
  return 0
}

down() {
  local ns
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$prefix-" || true); do
    # Whatever still runs in the host goes with it (only this bed's processes live there).
    for pid in $(ip netns pids "$ns" 2>/dev/null || true); do kill -9 "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
  ip link del "$fleet_bridge" 2>/dev/null || true
  ip link del "$egress_bridge" 2>/dev/null || true
  # A namespace's veths disappear with it, a moment later; wait so `up` can reuse names.
  for _ in $(seq 1 50); do
    ip -br link 2>/dev/null | grep -q "^$prefix-" || return 0
    sleep 0.1
  done
  ip -br link | grep "^$prefix-" | awk '{print $1}' | sed 's/@.*//' | xargs -r -n1 ip link del 2>/dev/null || true
}

up() {
  local agents=${1:-4}
  [ "$agents" -ge 1 ] && [ "$agents" -le 100 ] || die "agents must be 1..100, not $agents"
  down
  bridge "$fleet_bridge" "$(fleet_addr operator)"
  bridge "$egress_bridge" "$(egress_addr operator)"
  add_host agg
  add_host mock
  for n in $(seq 1 "$agents"); do add_host "a$n"; done
}

command=${1:-}
shift || true
case $command in
  up) need_ip; up "$@" ;;
  down) need_ip; down ;;
  add-agent)
    need_ip
    [ -n "${1:-}" ] || die "usage: add-agent N"
    add_host "a$1" ;;
  exec)
    need_ip
    [ $# -ge 2 ] || die "usage: exec HOST COMMAND..."
    host=$1; shift
    exec ip netns exec "$prefix-$host" "$@" ;;
  partition) need_ip; ip link set "$(veth "${1:?usage: partition HOST}" f)" down ;;
  heal) need_ip; ip link set "$(veth "${1:?usage: heal HOST}" f)" up ;;
  addr)
    host=${1:?usage: addr HOST [fleet|egress]}
    if [ "${2:-fleet}" = egress ]; then egress_addr "$host"; else fleet_addr "$host"; fi ;;
  check) need_ip ;;
  *)
    sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2 ;;
esac
