#!/usr/bin/env bash
# Installs the Debian package into a fresh Debian root and checks it the way an SRE would
# meet it: `apt install ./tollgate_*.deb` pulls its Depends from Debian's mirror; the
# accounts, directories, secrets, owners and modes are right; both units pass
# `systemd-analyze verify` and score ≤ 2.5 on `systemd-analyze security`; the aggregator
# and the agent start from the packaged configs, as the units would run them (their user
# and group, UMask=0077, secrets in $CREDENTIALS_DIRECTORY), and report the package's
# version on --version and in tollgate_build_info, with no capabilities and no W+X memory
# (MemoryDenyWriteExecute=); a tollgate-ca member can read the
# agent's CA certificate and not its key.
#
#   scripts/test-package.sh [path/to/tollgate_*.deb]   default: build it (scripts/package-deb.sh)
#
# Needs root (chroot, mounts, namespaces) and debootstrap. The minimal bookworm root is
# made once into .build-debootstrap/bookworm (~4 min, Debian's mirror) and copied fresh
# for every run; DEBIAN_MIRROR overrides the mirror. Processes run in their own network
# and PID namespaces: fixed ports never collide with other tests, and nothing outlives
# the run.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "test-package.sh needs root (chroot, mount, unshare)" >&2; exit 1; }
# A private mount namespace: the root's /proc and /dev mounts vanish with the script.
if [ -z "${TOLLGATE_PACKAGE_TEST_NS:-}" ]; then
  exec env TOLLGATE_PACKAGE_TEST_NS=1 unshare --mount --propagation private "$0" "$@"
fi
command -v debootstrap >/dev/null || { echo "debootstrap is missing: scripts/install-deps.sh installs it" >&2; exit 1; }
started=$(date +%s)

mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
cache=.build-debootstrap
mkdir -p "$cache"
base="$cache/bookworm"
# The minimal root downloads while the release build compiles: one waits on the mirror,
# the other on the CPU, so side by side they take about as long as the build alone.
bootstrap=""
if [ ! -d "$base" ]; then
  echo "debootstrap: a minimal bookworm root into $base (in the background)"
  rm -rf "$base.tmp"
  debootstrap --variant=minbase bookworm "$base.tmp" "$mirror" >"$cache/debootstrap.log" 2>&1 &
  bootstrap=$!
  # A failed build must not leave it running.
  trap '[ -n "$bootstrap" ] && kill "$bootstrap" 2>/dev/null || true' EXIT
fi

deb="${1:-}"
if [ -z "$deb" ]; then
  scripts/package-deb.sh
  deb=$(ls -t .build-deb/tollgate_*.deb | head -1)
fi
version=$(dpkg-deb --field "$deb" Version)

if [ -n "$bootstrap" ]; then
  wait "$bootstrap" || { tail -20 "$cache/debootstrap.log" >&2; echo "FAIL debootstrap (log: $cache/debootstrap.log)" >&2; exit 1; }
  bootstrap=""
  mv "$base.tmp" "$base"
fi
root="$cache/run"
rm -rf "$root"
cp -a "$base" "$root"
cp "$deb" "$root/tmp/tollgate.deb"
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
echo "fresh root ready: $(( $(date +%s) - started )) s"

failures=0
pass() { echo "ok   $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
check() { local what="$1"; shift; if "$@" >/dev/null 2>&1; then pass "$what"; else fail "$what"; fi; }
in_root() { chroot "$root" "$@"; }
# owner:group mode of a path in the root, e.g. "root:root 600"
stat_of() { in_root stat -c '%U:%G %a' "$1" 2>/dev/null || echo missing; }
expect_stat() { local path="$1" want="$2" got; got=$(stat_of "$path"); [ "$got" = "$want" ] && pass "$path is $want" || fail "$path is $got, expected $want"; }

export -f pass fail check in_root stat_of expect_stat
export root version failures

echo "--- install (apt-get in the root, Depends from $mirror)"
{ in_root apt-get update -qq && DEBIAN_FRONTEND=noninteractive in_root apt-get install -y -qq --no-install-recommends /tmp/tollgate.deb; } \
  >"$cache/install.log" 2>&1 || { tail -30 "$cache/install.log"; echo "FAIL apt-get install ./tollgate.deb (log: $cache/install.log)"; exit 1; }
grep '^tollgate:' "$cache/install.log" || true
echo "installed: $(( $(date +%s) - started )) s"

echo "--- programs and version"
for program in tollgate tollgate-agent; do
  got=$(in_root "$program" --version 2>&1 || true)
  [ "$got" = "$version" ] && pass "$program --version = $version" || fail "$program --version = $got, package is $version"
done
check "tollgate --help runs (no Swift toolchain in the root)" in_root tollgate --help
[ -z "$(in_root find / -xdev -name 'libswiftCore*' -print -quit)" ] && pass "no Swift runtime installed" || fail "a Swift runtime is in the root"

echo "--- accounts"
check "user tollgate exists" in_root getent passwd tollgate
check "group tollgate exists" in_root getent group tollgate
check "group tollgate-ca exists" in_root getent group tollgate-ca
[ "$(in_root getent passwd tollgate | cut -d: -f7)" = /usr/sbin/nologin ] && pass "tollgate has no login shell" || fail "tollgate's shell is $(in_root getent passwd tollgate | cut -d: -f7)"

echo "--- files, owners, modes"
expect_stat /usr/bin/tollgate "root:root 755"
expect_stat /usr/bin/tollgate-agent "root:root 755"
expect_stat /lib/systemd/system/tollgate.service "root:root 644"
expect_stat /lib/systemd/system/tollgate-agent.service "root:root 644"
expect_stat /usr/lib/sysusers.d/tollgate.conf "root:root 644"
expect_stat /usr/lib/tmpfiles.d/tollgate.conf "root:root 644"
expect_stat /etc/tollgate "root:root 755"
expect_stat /etc/tollgate/aggregator.yaml "root:root 644"
expect_stat /etc/tollgate/agent.yaml "root:root 644"
expect_stat /etc/tollgate/agents.d "root:root 755"
expect_stat /var/lib/tollgate "tollgate:tollgate 700"
expect_stat /var/lib/tollgate-agent "tollgate:tollgate-ca 750"
expect_stat /var/lib/tollgate-agent/ca "tollgate:tollgate-ca 750"
check "the configs are conffiles" bash -c "grep -qx /etc/tollgate/aggregator.yaml $root/var/lib/dpkg/info/tollgate.conffiles && grep -qx /etc/tollgate/agent.yaml $root/var/lib/dpkg/info/tollgate.conffiles"

echo "--- first-run secrets"
expect_stat /etc/tollgate/org-secret "root:root 600"
expect_stat /etc/tollgate/aggregator.key "root:root 600"
expect_stat /etc/tollgate/aggregator.pub "root:root 644"
expect_stat /var/lib/tollgate-agent/agent.key "tollgate:tollgate-ca 600"
expect_stat /var/lib/tollgate-agent/agent.key.pub "tollgate:tollgate-ca 644"
[ "$(in_root base64 -d /etc/tollgate/org-secret | wc -c)" = 32 ] && pass "org-secret holds 32 random bytes" || fail "org-secret is not 32 bytes of base64"
secret_before=$(sha256sum "$root/etc/tollgate/org-secret" "$root/etc/tollgate/aggregator.key" "$root/var/lib/tollgate-agent/agent.key" 2>&1 || true)
in_root /var/lib/dpkg/info/tollgate.postinst configure >/dev/null
[ "$(sha256sum "$root/etc/tollgate/org-secret" "$root/etc/tollgate/aggregator.key" "$root/var/lib/tollgate-agent/agent.key" 2>&1 || true)" = "$secret_before" ] && pass "postinst again keeps the secrets" || fail "postinst replaced a secret"

echo "--- units"
for unit in tollgate.service tollgate-agent.service; do
  output=$(in_root systemd-analyze verify "/lib/systemd/system/$unit" 2>&1) && [ -z "$output" ] \
    && pass "systemd-analyze verify $unit: clean" || fail "systemd-analyze verify $unit: $output"
  score=$(in_root systemd-analyze security --offline=yes "/lib/systemd/system/$unit" 2>&1 | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')
  [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 2.5) }' \
    && pass "systemd-analyze security $unit: $score (≤ 2.5)" || fail "systemd-analyze security $unit: '$score', expected ≤ 2.5"
done

echo "--- the services start from the packaged configs"
# As the units run them: their user and group, UMask=0077, and each LoadCredential= file
# copied to a private directory owned by the service user, named by $CREDENTIALS_DIRECTORY.
unshare --mount --net --pid --fork bash -uo pipefail -c '
  mount -t proc proc "$root/proc"
  ip link set lo up
  credentials() { # unit user name:file...
    local directory="/run/credentials/$1" user="$2"; shift 2
    mkdir -p "$root$directory"
    for pair in "$@"; do install -m 0400 -o "$(chroot "$root" id -u "$user")" "$root/etc/tollgate/${pair#*:}" "$root$directory/${pair%%:*}"; done
    chown "$(chroot "$root" id -u "$user")" "$root$directory"; chmod 0500 "$root$directory"
  }
  # What the units ask of the kernel, as far as it can be asked without systemd: no
  # capabilities, no new privileges, and MemoryDenyWriteExecute= (prctl PR_SET_MDWE, kept
  # across exec), so a Swift runtime that needed W+X memory would fail here, not in production.
  confined=(setpriv --clear-groups --no-new-privs --bounding-set=-all --inh-caps=-all)
  wx=(perl -e "syscall(157, 65, 1, 0, 0, 0) == 0 or die qq(prctl(PR_SET_MDWE): \$!\n); exec @ARGV or die qq(exec: \$!\n)")
  wait_for() { for _ in $(seq 1 100); do curl -fsS "$1" 2>/dev/null && return 0; sleep 0.2; done; return 1; }

  credentials tollgate.service tollgate aggregator.key:aggregator.key
  (umask 077; exec chroot "$root" env CREDENTIALS_DIRECTORY=/run/credentials/tollgate.service \
     "${confined[@]}" --reuid=tollgate --regid=tollgate "${wx[@]}" /usr/bin/tollgate serve --config /etc/tollgate/aggregator.yaml) >"$root/tmp/aggregator.log" 2>&1 &
  if metrics=$(wait_for http://127.0.0.1:7601/metrics); then
    grep -q "^tollgate_build_info{.*version=\"$version\"" <<<"$metrics" && pass "aggregator /metrics: tollgate_build_info version=$version" \
      || fail "aggregator /metrics has no tollgate_build_info with version $version: $(grep build_info <<<"$metrics")"
  else
    fail "the aggregator did not serve /metrics: $(tail -5 "$root/tmp/aggregator.log")"
  fi
  expect_stat /var/lib/tollgate/api-token "tollgate:tollgate 600"

  credentials tollgate-agent.service tollgate org-secret:org-secret
  (umask 077; exec chroot "$root" env CREDENTIALS_DIRECTORY=/run/credentials/tollgate-agent.service \
     "${confined[@]}" --reuid=tollgate --regid=tollgate-ca "${wx[@]}" /usr/bin/tollgate-agent run --config /etc/tollgate/agent.yaml) >"$root/tmp/agent.log" 2>&1 &
  if metrics=$(wait_for http://127.0.0.1:8788/metrics); then
    grep -q "^tollgate_build_info{.*version=\"$version\"" <<<"$metrics" && pass "agent /metrics: tollgate_build_info version=$version" \
      || fail "agent /metrics has no tollgate_build_info with version $version: $(grep build_info <<<"$metrics")"
  else
    fail "the agent did not serve /metrics: $(tail -5 "$root/tmp/agent.log")"
  fi

  # The CA: its certificate for tollgate-ca members, its key for the agent alone.
  for _ in $(seq 1 50); do [ -e "$root/var/lib/tollgate-agent/ca/ca.crt" ] && break; sleep 0.2; done
  expect_stat /var/lib/tollgate-agent/ca/ca.key "tollgate:tollgate-ca 600"
  chroot "$root" useradd --no-create-home --groups tollgate-ca ci
  chroot "$root" useradd --no-create-home outsider
  check "a tollgate-ca member reads ca.crt" chroot --userspec=ci:ci --groups=tollgate-ca "$root" cat /var/lib/tollgate-agent/ca/ca.crt
  ! chroot --userspec=ci:ci --groups=tollgate-ca "$root" cat /var/lib/tollgate-agent/ca/ca.key >/dev/null 2>&1 \
    && pass "a tollgate-ca member cannot read ca.key" || fail "a tollgate-ca member can read ca.key"
  ! chroot --userspec=outsider:outsider "$root" cat /var/lib/tollgate-agent/ca/ca.crt >/dev/null 2>&1 \
    && pass "a user outside tollgate-ca cannot read ca.crt" || fail "anyone can read ca.crt"
  exit "$failures"
' || failures=$((failures + $?))

echo "package test: $(( $(date +%s) - started )) s, $failures failure(s)"
[ "$failures" -eq 0 ]
