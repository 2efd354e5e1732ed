#!/usr/bin/env bash
# Builds the Debian package: .build-deb/tollgate_<version>_<arch>.deb.
#
#   scripts/package-deb.sh              release build (Swift runtime linked statically), then package
#   scripts/package-deb.sh --skip-build package the release binaries already in .build/release
#
# The binaries link the Swift runtime statically, so the package needs only Debian's own
# libraries (libzmq5, liblz4-1, librocksdb…), derived below from what they link and
# checked: the build fails if anything still comes from the Swift toolchain. The package
# version is the one the binaries report (`tollgate --version`, from
# Sources/TollgateCore/Runtime/TollgateVersion.swift), so the package, `--version` and the
# tollgate_build_info metric cannot disagree. No debhelper: a staged tree and
# `dpkg-deb --root-owner-group`. Install it with `apt install ./tollgate_<version>_amd64.deb`.
set -euo pipefail
cd "$(dirname "$0")/.."

build=1
case "${1:-}" in
  --skip-build) build=0 ;;
  "") ;;
  *) echo "usage: scripts/package-deb.sh [--skip-build]" >&2; exit 2 ;;
esac

out=.build-deb
bin=.build/release
if [ "$build" = 1 ]; then
  started=$(date +%s)
  # One product per invocation: the second only compiles and links what the first did not.
  swift build -c release --static-swift-stdlib --product tollgate
  swift build -c release --static-swift-stdlib --product tollgate-agent
  echo "release build: $(( $(date +%s) - started )) s"
fi
for program in tollgate tollgate-agent; do
  [ -x "$bin/$program" ] || { echo "no $bin/$program: run without --skip-build" >&2; exit 1; }
  if ldd "$bin/$program" | grep -E 'libswift|libFoundation|libdispatch|libBlocksRuntime|/opt/swift|/usr/lib/swift'; then
    echo "$bin/$program links the Swift runtime dynamically (above): build with --static-swift-stdlib" >&2
    exit 1
  fi
done

version=$("$bin/tollgate" --version)
agent_version=$("$bin/tollgate-agent" --version)
if [ "$version" != "$agent_version" ]; then
  echo "tollgate --version says $version but tollgate-agent --version says $agent_version: rebuild both" >&2
  exit 1
fi
[[ "$version" =~ ^[0-9][A-Za-z0-9.+~-]*$ ]] || { echo "'$version' is not a Debian version" >&2; exit 1; }
arch=$(dpkg --print-architecture)

# Depends: the Debian package of every library the binaries link directly (NEEDED).
depends_on() {
  local program="$1" library path
  for library in $(readelf -d "$program" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    # "libzmq.so.5 => /lib/…/libzmq.so.5 (…)", or for the loader "/lib64/ld-linux-x86-64.so.2 (…)"
    path=$(ldd "$program" | awk -v lib="$library" '$1 == lib && $2 == "=>" { print $3 } $1 ~ ("/" lib "$") { print $1 }' | head -1)
    [ -n "$path" ] || { echo "cannot resolve $library for $program" >&2; exit 1; }
    # usrmerge: dpkg may have recorded the /usr/lib or the /lib spelling.
    dpkg -S "$path" 2>/dev/null || dpkg -S "$(realpath "$path")" 2>/dev/null || dpkg -S "/usr$path" 2>/dev/null \
      || { echo "no Debian package owns $path ($library, linked by $program)" >&2; exit 1; }
  done | cut -d: -f1 | sort -u
}
aggregator_libraries=$(depends_on "$bin/tollgate") || exit 1
agent_libraries=$(depends_on "$bin/tollgate-agent") || exit 1
# systemd: sysusers, tmpfiles and the units themselves. ca-certificates: the agent verifies
# providers against the system trust store and will not start without one (found by
# scripts/test-package.sh: NIOSSL's "unknownError([])" on a root without /etc/ssl/certs).
depends=$(printf '%s\n' $aggregator_libraries $agent_libraries systemd ca-certificates | sort -u | paste -sd, | sed 's/,/, /g')

root="$out/root"
rm -rf "$root"
install -d -m 0755 "$root/DEBIAN" "$root/usr/bin" "$root/lib/systemd/system" "$root/usr/lib/sysusers.d" \
  "$root/usr/lib/tmpfiles.d" "$root/etc/tollgate/agents.d" "$root/usr/share/doc/tollgate/examples"
for program in tollgate tollgate-agent; do
  # Debug info only: the symbol table stays, so crash backtraces still name functions.
  strip --strip-debug -o "$root/usr/bin/$program" "$bin/$program"
  chmod 0755 "$root/usr/bin/$program"
done
install -m 0644 deploy/systemd/tollgate.service deploy/systemd/tollgate-agent.service "$root/lib/systemd/system/"
install -m 0644 deploy/debian/sysusers.conf "$root/usr/lib/sysusers.d/tollgate.conf"
install -m 0644 deploy/debian/tmpfiles.conf "$root/usr/lib/tmpfiles.d/tollgate.conf"
install -m 0755 deploy/debian/postinst deploy/debian/prerm deploy/debian/postrm "$root/DEBIAN/"
install -m 0644 README.md "$root/usr/share/doc/tollgate/"
install -m 0644 aggregator/tollgate.example.yaml agent/tollgate-agent.example.yaml "$root/usr/share/doc/tollgate/examples/"

# The configs are the documented examples with the secrets read from the unit's
# credentials (LoadCredential=) instead of from /etc/tollgate directly.
configure() {
  local from="$1" to="$2" key="$3" secret="$4"
  sed "s|^\(\s*$key:\) /etc/tollgate/$secret\$|\1 \${CREDENTIALS_DIRECTORY}/$secret|" "$from" > "$to"
  grep -q "$key: \${CREDENTIALS_DIRECTORY}/$secret\$" "$to" \
    || { echo "$from no longer has '$key: /etc/tollgate/$secret'; update scripts/package-deb.sh" >&2; exit 1; }
  chmod 0644 "$to"
}
configure aggregator/tollgate.example.yaml "$root/etc/tollgate/aggregator.yaml" secret_key_file aggregator.key
configure agent/tollgate-agent.example.yaml "$root/etc/tollgate/agent.yaml" org_secret_file org-secret
printf '/etc/tollgate/aggregator.yaml\n/etc/tollgate/agent.yaml\n' > "$root/DEBIAN/conffiles"

cat > "$root/DEBIAN/control" <<CONTROL
Package: tollgate
Version: $version
Architecture: $arch
Maintainer: Tollgate maintainers <tollgate@localhost>
Depends: $depends
Section: net
Priority: optional
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Description: LLM API spend meter and cap for a fleet of hosts
 tollgate-agent runs beside CI runners and agent hosts as a local proxy: it counts the
 tokens and cost of every call to an LLM provider, enforces budgets pushed to it, and
 ships usage over CurveZMQ to the aggregator. tollgate serve is the aggregator (RocksDB
 counters, budgets, HTTP API, /metrics); every other tollgate subcommand is its CLI.
 Units: tollgate.service, tollgate-agent.service (not enabled on install).
CONTROL

deb="$out/tollgate_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb ($(du -h "$deb" | cut -f1); Depends: $depends)"
