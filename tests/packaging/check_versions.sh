#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The version in CMakeLists.txt (passed in), debian/changelog and the RPM
# spec must agree: a release bumps all three.
#   check_versions.sh SOURCE_ROOT CMAKE_VERSION
set -eu
root=$1
want=$2
deb=$(sed -n '1s/^[^(]*(\([^)-]*\)[^)]*).*/\1/p' \
  "$root/packaging/debian/changelog")
rpm=$(sed -n 's/^Version:[[:space:]]*//p' "$root/packaging/rpm/pam_wif.spec")
status=0
for pair in "debian/changelog:$deb" "rpm/pam_wif.spec:$rpm"; do
  if [ "${pair#*:}" = "$want" ]; then
    echo "ok: ${pair%%:*} has $want"
  else
    echo "FAIL: ${pair%%:*} has '${pair#*:}', CMakeLists.txt $want" >&2
    status=1
  fi
done
exit $status
