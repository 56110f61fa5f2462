#!/bin/sh
# The pam_wif demo on a fresh Debian 12 machine, as root: installs what it
# needs, builds, starts a local identity provider and a loopback sshd, shows
# a mapped workload logging in with a token and an unmapped one refused,
# then removes everything it started or created.
set -eu

cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "demo: run as root (it adds a PAM service, accounts and an sshd)" >&2
  exit 1
fi
./tests/install_deps.sh
echo "== Building pam_wif"
cmake -S . -B build-demo -DWIF_BUILD_TESTS=OFF -DWIF_BUILD_BENCH=OFF \
  >/dev/null
cmake --build build-demo -j "$(nproc)" >/dev/null
exec /usr/bin/python3 demo/demo.py --module build-demo/pam_wif.so \
  --wifctl build-demo/wifctl
