#!/usr/bin/env bash
# Installs the Debian packages Tollgate builds against, if any are missing.
# Needs root (or sudo) the first time; a no-op when everything is present.
# `prometheus` is for its `promtool`: the tests lint both /metrics pages with it.
# `iproute2` is for `ip netns` and `ss`: FleetTests builds a fleet of network namespaces.
# `kubernetes-validate` (PyPI) is for scripts/check-deploy.sh: it validates deploy/kubernetes/
# offline against the Kubernetes schemas it carries.
set -euo pipefail
packages=(libzmq3-dev liblz4-dev librocksdb-dev pkg-config curl prometheus iproute2)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
if ! command -v kubernetes-validate >/dev/null; then
  python3 -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! command -v kubernetes-validate >/dev/null; then
  echo "installing: kubernetes-validate (PyPI)"
  # Debian's own Python refuses pip installs outside a venv (PEP 668) unless told.
  python3 -m pip install --quiet kubernetes-validate 2>/dev/null \
    || $sudo python3 -m pip install --quiet --break-system-packages kubernetes-validate
fi
if ! command -v swift >/dev/null; then
  echo "swift is not on PATH: install the Swift 6.3 toolchain (https://www.swift.org/install/linux/)" >&2
  exit 1
fi
