#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Fails when a source file is in the tree but in no CMake source list: the
# lists are explicit (no file(GLOB)), so a new file that nobody added would
# otherwise never be built or tested.
#
#   tests/static/check_listed.sh [ROOT]
set -eu
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$root"
status=0

# listed FILE NAME LISTFILE: NAME must stand as a word in LISTFILE.
listed() {
  word=$(printf '%s' "$2" | sed 's/\./\\./g')
  if ! grep -Eq "(^|[[:space:]/])$word([[:space:])]|\$)" "$3"; then
    echo "check_listed: $1 is in no source list of $3" >&2
    status=1
  fi
}

for f in common/*.c tools/*.c; do
  listed "$f" "$(basename "$f")" CMakeLists.txt
done
for f in tests/unit/test_*.c; do
  listed "$f" "$(basename "$f" .c)" tests/CMakeLists.txt
done
for f in tests/fuzz/fuzz_*.c; do
  name=$(basename "$f" .c)
  listed "$f" "${name#fuzz_}" tests/fuzz/CMakeLists.txt
done
[ $status -eq 0 ] && echo "check_listed: every source file is built"
exit $status
