#!/usr/bin/env bash
# Installs the Debian packages Tollgate builds against, if any are missing.
# Needs root (or sudo) the first time; a no-op when everything is present.
# `prometheus` is for its `promtool`: the tests lint both /metrics pages with it.
# `iproute2` is for `ip netns` and `ss`: FleetTests builds a fleet of network namespaces.
# `debootstrap`, `systemd` and `binutils` are for the Debian package and its test
# (scripts/package-deb.sh, scripts/test-package.sh): a fresh Debian root to install it
# into, `systemd-analyze` on its units, `readelf`/`strip` on its binaries, and libcurl.so,
# which the statically linked FoundationNetworking links against.
set -euo pipefail
packages=(libzmq3-dev liblz4-dev librocksdb-dev pkg-config curl prometheus iproute2 debootstrap systemd binutils libcurl4-openssl-dev)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
if ! command -v swift >/dev/null; then
  echo "swift is not on PATH: install the Swift 6.3 toolchain (https://www.swift.org/install/linux/)" >&2
  exit 1
fi
