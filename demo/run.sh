#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The pam_wif demo on a fresh Debian 12 machine, as root: installs the few
# packages it needs (the build, Python for a local identity provider, sshd),
# builds, starts a local identity provider and a loopback sshd, shows a
# mapped workload logging in with a token and an unmapped one refused,
# prints the configuration, map, PAM lines and sshd settings it used, then
# removes everything it started or created.
set -eu

cd "$(dirname "$0")/.."
root=$(pwd)
fail() {
  echo "demo: $*" >&2
  exit 1
}
[ "$(id -u)" = 0 ] ||
  fail "run as root (it adds a PAM service, accounts and an sshd)"
if ! command -v apt-get >/dev/null || ! command -v dpkg-query >/dev/null; then
  fail "this demo installs Debian packages (Debian 12 or a derivative)"
fi

echo "== Installing what the demo needs (nothing if it is there)"
./tests/install_deps.sh demo ||
  fail "installing packages failed (network? apt sources?); see above"

# pam_wif trusts only files that root owns in directories only root can
# write, up to /: a clone in /tmp (world-writable) cannot hold them, so the
# build then goes to a root-only directory.
safe_chain() {
  d=$1
  while :; do
    if [ -e "$d" ]; then
      # shellcheck disable=SC2046
      set -- $(stat -c '%u %a' "$d")
      [ "$1" = 0 ] || return 1
      case $2 in *[2367]? | *[2367]) return 1 ;; esac
    fi
    [ "$d" = / ] && return 0
    d=$(dirname "$d")
  done
}
build=$root/build-demo
if ! safe_chain "$root"; then
  build=/var/cache/pam_wif-demo/build-$(printf '%s' "$root" | cksum | cut -d' ' -f1)
  mkdir -p /var/cache/pam_wif-demo
  chmod 755 /var/cache/pam_wif-demo
fi

echo "== Building pam_wif in $build (log: $build/build.log)"
mkdir -p "$build"
if ! { cmake -S . -B "$build" -DWIF_BUILD_TESTS=OFF -DWIF_BUILD_BENCH=OFF \
  -DWIF_BUILD_MANPAGES=OFF &&
  cmake --build "$build" -j "$(nproc)"; } >"$build/build.log" 2>&1; then
  tail -n 30 "$build/build.log" >&2
  fail "the build failed; the whole log is $build/build.log"
fi

# The demo reads pam_wif's log lines. When some process owns /dev/log
# (journald, rsyslog, or anything else), those lines go there; in a private
# mount namespace the demo puts its own receiver on /dev/log instead, and
# nothing outside it notices.
ns=""
if unshare --mount --propagation private true 2>/dev/null; then
  ns="unshare --mount --propagation private"
fi
# shellcheck disable=SC2086
exec $ns /usr/bin/python3 demo/demo.py --module "$build/pam_wif.so" \
  --wifctl "$build/wifctl" --helper "$build/pam_wif-helper" \
  ${ns:+--private-log}
