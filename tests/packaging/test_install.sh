#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `cmake --install` into staging directories (DESTDIR): everything lands
# where the README says, with the right modes; the configuration templates
# enable nothing (wifctl check: no provider, exit 2); and an existing
# configuration, or a symbolic link in its place, is never replaced.
#
#   test_install.sh BUILD_DIR WORK_DIR WIFCTL
#
# WORK_DIR must lie in a directory chain that group and others cannot
# write (the build tree), for wifctl check to read the template.
set -eu

build=$1
work=$2
wifctl=$3
failures=0
ok() { printf 'ok: %s\n' "$*"; }
fail() {
  printf 'FAIL: %s\n' "$*" >&2
  failures=$((failures + 1))
}
check() {
  d=$1
  shift
  if "$@"; then ok "$d"; else fail "$d"; fi
}
mode() { stat -c '%a' "$1"; }
cache() { # the value of a cache variable of the build
  sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt"
}

prefix=$(cache CMAKE_INSTALL_PREFIX)
moddir=$(cache WIF_PAM_MODULE_DIR)
confdir=$(cache WIF_CONFIG_DIR)
tmpfiles=$(cache WIF_TMPFILES_DIR)
rm -rf "$work"
mkdir -p "$work"
chmod 755 "$work"

echo "== a fresh install"
a=$work/fresh
DESTDIR=$a cmake --install "$build" >"$work/fresh.log"
check "pam_wif.so in $moddir" [ -f "$a$moddir/pam_wif.so" ]
check "pam_wif-helper in $prefix/libexec/pam_wif, 0755" \
  [ "$(mode "$a$prefix/libexec/pam_wif/pam_wif-helper")" = 755 ]
check "wifctl in $prefix/bin, 0755" [ "$(mode "$a$prefix/bin/wifctl")" = 755 ]
for page in man1/wifctl.1 man5/pam_wif.conf.5 man5/pam_wif.map.5 \
    man8/pam_wif.8; do
  check "$page" [ -s "$a$prefix/share/man/$page" ]
done
for f in pam_wif.conf pam_wif.map pam.d/sshd pam.d/su pam.d/sudo \
  pam.d/postgresql pg_hba.conf.example sshd_config.d/pam_wif.conf README.md; do
  check "sample $f" [ -f "$a$prefix/share/doc/pam_wif/$f" ]
done
check "tmpfiles.d entry" grep -q '^d /var/cache/pam_wif 0700 root root' \
  "$a$tmpfiles/pam_wif.conf"
no_provider() { ! grep -q '^[[:space:]]*\[provider' "$1"; }
no_rule() { ! grep -v '^[[:space:]]*#' "$1" | grep -q '[^[:space:]]'; }
for f in pam_wif.conf pam_wif.map; do
  check "template $confdir/$f, 0644" [ "$(mode "$a$confdir/$f")" = 644 ]
done
check "the pam_wif.conf template has no provider" \
  no_provider "$a$confdir/pam_wif.conf"
check "the pam_wif.map template has no rule" no_rule "$a$confdir/pam_wif.map"
set +e
out=$("$wifctl" check -c "$a$confdir/pam_wif.conf" 2>&1)
rc=$?
set -e
printf '%s\n' "$out"
check "wifctl check on the template: exit 2 (got $rc)" [ "$rc" = 2 ]
case $out in
  *"no [provider] section"*) ok "it says: no [provider] section" ;;
  *) fail "wifctl check does not name the missing provider" ;;
esac

echo "== over an existing configuration"
b=$work/existing
mkdir -p "$b$confdir"
printf '# the administrator'"'"'s\n' >"$b$confdir/pam_wif.conf"
chmod 600 "$b$confdir/pam_wif.conf"
ln -s /nonexistent "$b$confdir/pam_wif.map"
DESTDIR=$b cmake --install "$build" >"$work/existing.log"
check "pam_wif.conf kept" grep -qx "# the administrator's" \
  "$b$confdir/pam_wif.conf"
check "its mode kept" [ "$(mode "$b$confdir/pam_wif.conf")" = 600 ]
check "a symbolic link kept" [ -L "$b$confdir/pam_wif.map" ]
check "the log says so" grep -q "Keeping: .*pam_wif.conf" "$work/existing.log"

if [ "$failures" -ne 0 ]; then
  echo "test_install: $failures check(s) failed" >&2
  exit 1
fi
echo "test_install: all checks passed"
