#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# conf/sshd_config.d/pam_wif.conf against the installed sshd: a config that
# includes it first (as Debian's sshd_config does) and then turns
# keyboard-interactive and passwords on must pass `sshd -t`, and `sshd -T`
# must show keyboard-interactive as the only method for a member of the
# workload group and no keyboard-interactive or password for anyone else.
# The group in the drop-in is replaced by the primary group of an account
# that exists everywhere (root's), so no account is created.
#
#   test_sshd_dropin.sh SOURCE_DIR WORK_DIR
set -eu

src=$1
work=$2
sshd=/usr/sbin/sshd
if [ ! -x "$sshd" ]; then
  echo "SKIP: no $sshd"
  exit 77
fi
rm -rf "$work"
mkdir -m 700 "$work"
# sshd -t insists on its privilege separation directory.
if [ ! -d /run/sshd ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "SKIP: /run/sshd is missing and only root can create it"
    exit 77
  fi
  mkdir -m 755 /run/sshd
fi

group=$(id -gn root)
other=nobody
id "$other" >/dev/null
sed "s/^Match Group wif-workloads\$/Match Group $group/" \
  "$src/conf/sshd_config.d/pam_wif.conf" >"$work/pam_wif.conf"
grep -q "^Match Group $group\$" "$work/pam_wif.conf" || {
  echo "FAIL: the drop-in has no 'Match Group wif-workloads' line" >&2
  exit 1
}
ssh-keygen -q -t ed25519 -N '' -f "$work/host_key" </dev/null >/dev/null
cat >"$work/sshd_config" <<CONF
Include $work/pam_wif.conf
HostKey $work/host_key
KbdInteractiveAuthentication yes
PasswordAuthentication yes
CONF

fail=0
"$sshd" -t -f "$work/sshd_config" || {
  echo "FAIL: sshd -t refuses a config including the drop-in" >&2
  exit 1
}
settings() {
  "$sshd" -T -f "$work/sshd_config" -C "user=$1,host=client,addr=192.0.2.1"
}
expect() { # USER SETTING VALUE
  got=$(settings "$1" | awk -v k="$2" '$1 == k { print $2 }')
  if [ "$got" = "$3" ]; then
    echo "ok: $1: $2 $3"
  else
    echo "FAIL: $1: $2 is '$got', expected '$3'" >&2
    fail=1
  fi
}
expect root usepam yes
expect root kbdinteractiveauthentication yes
expect root authenticationmethods keyboard-interactive
expect "$other" usepam yes
expect "$other" kbdinteractiveauthentication no
expect "$other" passwordauthentication no
expect "$other" authenticationmethods any
expect "$other" pubkeyauthentication yes
rm -rf "$work"
exit $fail
