#!/usr/bin/env bash
# Installs the Debian packages Tollgate builds against, if any are missing.
# Needs root (or sudo) the first time; a no-op when everything is present.
# `prometheus` is for its `promtool`: the tests lint both /metrics pages with it.
# `iproute2` is for `ip netns` and `ss`: FleetTests builds a fleet of network namespaces.
# `kubernetes-validate` (PyPI) is for scripts/check-deploy.sh: it validates deploy/kubernetes/
# offline against the Kubernetes schemas it carries.
# `python3-venv` is for the FinOps Foundation's `focus-validator` (PyPI), which the FOCUS
# export's test runs; see install_focus_validator below.
# `debootstrap`, `systemd` and `binutils` are for the Debian package and its test
# (scripts/package-deb.sh, scripts/test-package.sh): a fresh Debian root to install it
# into, `systemd-analyze` on its units, `readelf`/`strip` on its binaries, and libcurl.so,
# which the statically linked FoundationNetworking links against.
set -euo pipefail
packages=(libzmq3-dev liblz4-dev librocksdb-dev pkg-config curl prometheus iproute2 python3 python3-venv debootstrap systemd binutils libcurl4-openssl-dev)

# focus-validator in a virtual environment of its own: its pinned dependencies (pandas,
# numpy 1.x) must not change the system's Python. 1.0.0 is the newest release (it validates
# FOCUS up to 1.0); multimethod 1.11+ dropped the `overload` its pandera 0.17 imports.
FOCUS_VALIDATOR_VENV=${FOCUS_VALIDATOR_VENV:-/opt/tollgate-focus-validator}
install_focus_validator() {
  if [ -x "$FOCUS_VALIDATOR_VENV/bin/focus-validator" ] && "$FOCUS_VALIDATOR_VENV/bin/focus-validator" --supported-versions >/dev/null 2>&1; then
    return 0
  fi
  echo "installing focus-validator into $FOCUS_VALIDATOR_VENV"
  local python=python3
  [ -x /usr/bin/python3 ] && python=/usr/bin/python3
  $sudo "$python" -m venv "$FOCUS_VALIDATOR_VENV"
  $sudo "$FOCUS_VALIDATOR_VENV/bin/pip" install -q --disable-pip-version-check "focus-validator==1.0.0" "multimethod==1.10"
}
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
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
install_focus_validator
if ! command -v swift >/dev/null; then
  echo "swift is not on PATH: install the Swift 6.3 toolchain (https://www.swift.org/install/linux/)" >&2
  exit 1
fi
