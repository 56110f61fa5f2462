#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Builds the Debian packages (libpam-wif, wif-tools) from this source tree
# without touching it: the tree's files (tracked and new, not ignored ones
# such as build directories) are copied to a temporary directory, with
# packaging/debian as its debian/, and dpkg-buildpackage runs there.
#
#   tests/packaging/build_deb.sh OUTDIR     .deb, .buildinfo, .changes and
#                                           the build log land in OUTDIR
set -eu

if [ $# -ne 1 ]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi
root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
for tool in dpkg-buildpackage dh dpkg-parsechangelog; do
  command -v "$tool" >/dev/null || {
    echo "build_deb: $tool is missing (tests/install_deps.sh installs it)" >&2
    exit 1
  }
done

version=$(dpkg-parsechangelog -l "$root/packaging/debian/changelog" -S Version)
work=$(mktemp -d "${TMPDIR:-/tmp}/pam_wif-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
src="$work/pam-wif-$version"

sh "$root/tests/packaging/copy_tree.sh" "$root" "$src"
rm -rf "$src/debian"
cp -a "$root/packaging/debian" "$src/debian"

echo "build_deb: building pam-wif $version in $src"
if ! (cd "$src" && dpkg-buildpackage -us -uc -b -j"$(nproc)") \
    >"$out/build.log" 2>&1; then
  tail -n 60 "$out/build.log" >&2
  echo "build_deb: dpkg-buildpackage failed (log: $out/build.log)" >&2
  exit 1
fi
rm -f "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo
cp "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo "$out"/
ls -1 "$out"/*.deb
