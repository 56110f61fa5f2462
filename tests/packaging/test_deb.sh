#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The Debian packages on this machine, end to end: build them from this
# tree (build_deb.sh), lint them, install them, use the installed module
# through pamtester (unconfigured: fails closed; configured with pinned
# keys and a map: grants a temporary user; enabled in common-auth through
# pam-auth-update: a password login still works and a token is accepted),
# then purge them and check that the machine is as it was.
#
#   test_deb.sh --keys DIR --work DIR [--python PATH]
#
# Root only (exit 77, reported as skipped, otherwise). Also skipped, with
# the reason, on a machine where pam_wif is installed for real: the test
# never touches an installation or a configuration it did not make.
# --work must lie in a directory chain that group and others cannot write
# (the build tree): pam_wif refuses configurations anywhere else.
set -eu

keys="" work="" python=/usr/bin/python3
while [ $# -gt 0 ]; do
  case $1 in
    --keys) keys=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --python) python=$2; shift 2 ;;
    *) echo "usage: $0 --keys DIR --work DIR [--python PATH]" >&2; exit 2 ;;
  esac
done
if [ -z "$keys" ] || [ -z "$work" ]; then
  echo "usage: $0 --keys DIR --work DIR [--python PATH]" >&2
  exit 2
fi

if [ "$(id -u)" != 0 ]; then
  echo "test_deb: needs root (dpkg -i, /etc/pam.d): skipped"
  exit 77
fi

root=$(cd "$(dirname "$0")/../.." && pwd)
start=$(date +%s)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
module=/usr/lib/$multiarch/security/pam_wif.so
marker=/run/pam_wif-packaging-test
service=wif-pkgtest
user=wifpkgtest
iss=https://issuer.example/pkgtest
aud=api://pam-wif-pkgtest
sink_pid=""
failures=0

step() { printf '\n==> [%3ss] %s\n' "$(($(date +%s) - start))" "$*"; }
ok() { printf 'ok: %s\n' "$*"; }
fail() {
  printf 'FAIL: %s\n' "$*" >&2
  failures=$((failures + 1))
}
check() { # check DESCRIPTION COMMAND...
  d=$1
  shift
  if "$@"; then ok "$d"; else fail "$d"; fi
}
installed() {
  dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null |
    grep -qx installed
}
known() { # any state but not-installed: config-files counts
  s=$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) || return 1
  [ -n "$s" ] && [ "$s" != not-installed ]
}
unknown() { ! known "$1"; }
contains() { printf '%s' "$1" | grep -q -- "$2"; }
lacks() { ! grep -q -- "$1" "$2"; }

for tool in dpkg-buildpackage lintian pamtester pam-auth-update useradd \
    chpasswd man; do
  command -v "$tool" >/dev/null || {
    echo "test_deb: $tool is missing (tests/install_deps.sh installs it)" >&2
    exit 1
  }
done

cleanup() {
  set +e
  rm -f "/etc/pam.d/$service" "/etc/pam.d/$service-common"
  if [ -e "$marker" ]; then
    for p in wif-tools libpam-wif; do
      known "$p" && dpkg --purge "$p" >/dev/null 2>&1
    done
    id "$user" >/dev/null 2>&1 && userdel "$user"
    rm -f "$marker"
  fi
  [ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null
}

# A run that died half-way (a timeout kills without traps) leaves its
# marker: clean up after it first.
if [ -e "$marker" ]; then
  echo "test_deb: cleaning up after an earlier run that did not finish"
  cleanup
fi
for p in libpam-wif wif-tools; do
  if known "$p"; then
    echo "test_deb: $p is installed on this machine: skipped"
    exit 77
  fi
done
for f in /etc/security/pam_wif.conf /etc/security/pam_wif.map "$module" \
    /usr/bin/wifctl "/etc/pam.d/$service"; do
  if [ -e "$f" ]; then
    echo "test_deb: $f exists on this machine: skipped"
    exit 77
  fi
done
if id "$user" >/dev/null 2>&1; then
  echo "test_deb: user $user exists on this machine: skipped"
  exit 77
fi

rm -rf "$work"
mkdir -p "$work/etc"
chmod 755 "$work" "$work/etc"
trap cleanup EXIT
trap 'exit 1' INT TERM

step "build the packages"
sh "$root/tests/packaging/build_deb.sh" "$work/deb"
version=$(dpkg-parsechangelog -l "$root/packaging/debian/changelog" -S Version)
deb_lib=$work/deb/libpam-wif_${version}_$(dpkg --print-architecture).deb
deb_tools=$work/deb/wif-tools_${version}_$(dpkg --print-architecture).deb
if [ ! -f "$deb_lib" ] || [ ! -f "$deb_tools" ]; then
  echo "test_deb: expected $deb_lib and $deb_tools" >&2
  exit 1
fi

# The fetch helper and wifctl link libcurl; shlibs names it.
for deb in "$deb_lib" "$deb_tools"; do
  check "$(basename "$deb") depends on libcurl4" \
    contains "$(dpkg-deb -f "$deb" Depends)" libcurl4
done

step "lintian"
# Errors and warnings fail; the overrides in packaging/debian explain the
# tags that are expected.
if lintian --fail-on error,warning --tag-display-limit 0 \
    "$work"/deb/*.changes >"$work/lintian.log" 2>&1; then
  ok "lintian: no errors or warnings"
else
  cat "$work/lintian.log"
  fail "lintian"
fi
grep -v '^running with root' "$work/lintian.log" || true

# What pam-auth-update owns, to compare after the purge.
state() {
  cat /etc/pam.d/common-auth /etc/pam.d/common-account \
    /etc/pam.d/common-session /etc/pam.d/common-password 2>/dev/null |
    sha256sum
}
pam_before=$(state)

step "install"
touch "$marker"
dpkg -i "$deb_lib" "$deb_tools" >"$work/dpkg-install.log" 2>&1 || {
  cat "$work/dpkg-install.log"
  echo "test_deb: dpkg -i failed" >&2
  exit 1
}
check "libpam-wif installed" installed libpam-wif
check "wif-tools installed" installed wif-tools
out=$(wifctl --version)
check "wifctl --version: $out" [ "$out" = "wifctl (pam_wif) $version" ]
check "module in $module, root 0644" \
  [ "$(stat -c '%U %a' "$module")" = "root 644" ]
check "the module links no network code" \
  sh -c "! readelf -d '$module' | grep -q libcurl"
helper=/usr/libexec/pam_wif/pam_wif-helper
check "fetch helper in $helper, root 0755" \
  [ "$(stat -c '%U %a' "$helper")" = "root 755" ]
for f in /etc/security/pam_wif.conf /etc/security/pam_wif.map; do
  check "$f: root 0644" [ "$(stat -c '%U %G %a' "$f")" = "root root 644" ]
  check "$f is a conffile" contains \
    "$(dpkg-query -W -f='${Conffiles}' libpam-wif)" " $f "
done
check "pam-auth-update profile" [ -f /usr/share/pam-configs/wif ]
check "the profile is off by default: common-auth unchanged" \
  [ "$(state)" = "$pam_before" ]
check "tmpfiles.d entry" [ -f /usr/lib/tmpfiles.d/pam_wif.conf ]
check "key refresh timer shipped" [ -f /lib/systemd/system/pam_wif-refresh.timer ]
check "and not enabled" \
  [ ! -e /etc/systemd/system/timers.target.wants/pam_wif-refresh.timer ]
check "bash completion for wifctl" \
  [ -f /usr/share/bash-completion/completions/wifctl ]
check "the module in Debian's own module directory" \
  contains "$(dpkg -L libpam-wif)" "/lib/$multiarch/security/pam_wif.so"
if command -v systemd-tmpfiles >/dev/null; then
  check "/var/cache/pam_wif created root 0700" \
    [ "$(stat -c '%U %a' /var/cache/pam_wif)" = "root 700" ]
fi
# Minimal images may tell dpkg to skip /usr/share/man: then the pages can
# only be checked in the packages.
if grep -qs '^path-exclude.*/usr/share/man' /etc/dpkg/dpkg.cfg \
    /etc/dpkg/dpkg.cfg.d/*; then
  contents=$(dpkg-deb -c "$deb_lib"; dpkg-deb -c "$deb_tools")
  for page in man1/wifctl.1 man8/pam_wif.8 man5/pam_wif.conf.5 \
      man5/pam_wif.map.5; do
    check "man page $page in the packages" contains "$contents" "$page.gz"
  done
else
  for page in "1 wifctl" "8 pam_wif" "5 pam_wif.conf" "5 pam_wif.map"; do
    # shellcheck disable=SC2086
    check "man page $page installed" sh -c "man -w $page >/dev/null"
  done
fi
set +e
out=$(wifctl check 2>&1)
rc=$?
set -e
check "wifctl check on the template: exit 2 (got $rc)" [ "$rc" = 2 ]
check "wifctl check names the missing provider" \
  contains "$out" 'no \[provider\] section'

# Log lines, when nothing else listens on /dev/log (a machine without a
# syslog daemon, like CI). With a daemon, the lines go to its log instead.
syslog=""
if [ ! -e /dev/log ]; then
  syslog=$work/syslog.txt
  : >"$syslog"
  "$python" "$root/tests/tools/syslog_sink.py" --out "$syslog" \
    --lifetime 300 --ready "$work/syslog.ready" &
  sink_pid=$!
  for _ in $(seq 50); do [ -e "$work/syslog.ready" ] && break; sleep 0.1; done
fi

step "pamtester: the installed module, unconfigured, fails closed"
useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
printf 'auth required pam_wif.so\naccount required pam_wif.so\n' \
  >"/etc/pam.d/$service"
set +e
out=$(printf 'not-a-token\n' | pamtester "$service" "$user" authenticate 2>&1)
rc=$?
set -e
printf '%s\n' "$out"
check "pamtester fails" [ "$rc" != 0 ]
check "with PAM_SERVICE_ERR (Error in service module)" \
  contains "$out" 'Error in service module'
if [ -n "$syslog" ]; then
  sleep 0.2
  check "logged: reason CONFIG_INVALID, no [provider] section" \
    grep -q 'outcome=error reason=CONFIG_INVALID.*no \[provider\] section' \
    "$syslog"
  check "the answer is not in the log" lacks not-a-token "$syslog"
fi

step "pamtester: pinned keys and a map grant the temporary user"
cp "$keys/jwks.json" "$work/etc/jwks.json"
chmod 644 "$work/etc/jwks.json"
cat >"$work/etc/pam_wif.conf" <<EOF
[global]
map_file = $work/etc/pam_wif.map
cache_dir = $work/cache
[provider pkgtest]
issuer = $iss
audience = $aud
jwks_file = $work/etc/jwks.json
EOF
printf 'pkgtest user workload-1 %s\n' "$user" >"$work/etc/pam_wif.map"
chmod 644 "$work/etc/pam_wif.conf" "$work/etc/pam_wif.map"
printf 'auth required pam_wif.so config=%s\naccount required pam_wif.so config=%s\n' \
  "$work/etc/pam_wif.conf" "$work/etc/pam_wif.conf" >"/etc/pam.d/$service"
mint() {
  "$python" "$root/tests/tools/mint_token.py" --keys "$keys" --iss "$iss" \
    --aud "$aud" --sub "$1"
}
set +e
out=$( (mint workload-1; echo) |
  pamtester "$service" "$user" authenticate acct_mgmt 2>&1)
rc=$?
set -e
printf '%s\n' "$out"
check "a mapped token is accepted (exit $rc)" [ "$rc" = 0 ]
set +e
out=$( (mint workload-2; echo) | pamtester "$service" "$user" authenticate 2>&1)
rc=$?
set -e
printf '%s\n' "$out"
check "an unmapped token is refused (exit $rc)" [ "$rc" != 0 ]
check "with PAM_AUTH_ERR (Authentication failure)" \
  contains "$out" 'Authentication failure'
check "wifctl check is clean on that configuration" \
  wifctl check -c "$work/etc/pam_wif.conf" --quiet

step "pam-auth-update: the profile in common-auth"
password=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
printf '%s:%s\n' "$user" "$password" | chpasswd
DEBIAN_FRONTEND=noninteractive pam-auth-update --enable wif
check "common-auth has pam_wif" grep -q 'pam_wif\.so' /etc/pam.d/common-auth
check "common-account has pam_wif" \
  grep -q 'pam_wif\.so' /etc/pam.d/common-account
printf '@include common-auth\n@include common-account\n' \
  >"/etc/pam.d/$service-common"
set +e
out=$(printf '\n%s\n' "$password" |
  pamtester "$service-common" "$user" authenticate acct_mgmt 2>&1)
rc=$?
set -e
printf '%s\n' "$out"
check "unconfigured pam_wif in common-auth: the password still works" \
  [ "$rc" = 0 ]
# The real configuration path now: the conffile as an administrator
# would edit it.
cp "$work/etc/pam_wif.conf" /etc/security/pam_wif.conf
set +e
out=$( (mint workload-1; echo) |
  pamtester "$service-common" "$user" authenticate acct_mgmt 2>&1)
rc=$?
set -e
printf '%s\n' "$out"
check "configured pam_wif in common-auth accepts a mapped token" [ "$rc" = 0 ]

step "purge"
rm -f "/etc/pam.d/$service-common"
# $service still loads the module: the removal says so.
dpkg --purge wif-tools libpam-wif >"$work/dpkg-purge.log" 2>&1 || {
  cat "$work/dpkg-purge.log"
  fail "dpkg --purge"
}
check "removal warns about /etc/pam.d/$service" \
  grep -q "/etc/pam.d/$service still uses pam_wif.so" "$work/dpkg-purge.log"
rm -f "/etc/pam.d/$service"
for p in libpam-wif wif-tools; do
  check "$p purged" unknown "$p"
done
left=$(find "/usr/lib/$multiarch/security" "/lib/$multiarch/security" \
  -name 'pam_wif*' 2>/dev/null | head -n 5)
check "no pam_wif file left in the module directory" [ -z "$left" ]
for f in /etc/security/pam_wif.conf /etc/security/pam_wif.map \
    /usr/share/pam-configs/wif /usr/lib/tmpfiles.d/pam_wif.conf \
    /usr/bin/wifctl /var/cache/pam_wif /usr/share/doc/libpam-wif; do
  check "$f removed" [ ! -e "$f" ]
done
check "common-* restored as they were" [ "$(state)" = "$pam_before" ]
userdel "$user"
rm -f "$marker"

step "done"
if [ "$failures" -ne 0 ]; then
  echo "test_deb: $failures check(s) failed" >&2
  exit 1
fi
echo "test_deb: all checks passed"
