#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Installs what pam_wif needs to build and test, from Debian's packages.
# Does nothing (and needs no network) when everything is already there.
#
#   tests/install_deps.sh        everything the tests need
#   tests/install_deps.sh demo   only what demo/run.sh needs: the build
#                                (no tests, no man pages), Python with
#                                PyJWT and cryptography (the demo's identity
#                                provider and tokens), sshd and ssh
set -eu

DEMO_PACKAGES="build-essential cmake pkg-config
  libssl-dev libjansson-dev libcurl4-openssl-dev libpam0g-dev
  openssl python3 python3-jwt python3-cryptography
  openssh-server openssh-client procps passwd"

PACKAGES="build-essential cmake pkg-config
  libssl-dev libjansson-dev libcurl4-openssl-dev libpam0g-dev libcmocka-dev
  openssl python3 python3-jwt python3-cryptography valgrind
  libpam-wrapper libpamtest0-dev libnss-wrapper pamtester
  clang libclang-rt-14-dev clang-tidy
  openssh-server openssh-client hyperfine postgresql sasl2-bin
  scdoc man-db groff-base debhelper dpkg-dev fakeroot lintian rpm
  locales"

case ${1:-all} in
all) ;;
demo) PACKAGES=$DEMO_PACKAGES ;;
*)
  echo "usage: install_deps.sh [demo]" >&2
  exit 2
  ;;
esac

missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
    missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "install_deps: missing packages:$missing (run as root to install)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Packages such as openssh-server start their daemon on install; the tests
# run their own on loopback, so keep the machine's services as they were.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
