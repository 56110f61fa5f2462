#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs clang-tidy (the repo's .clang-tidy) over every common/*.c with the
# compile commands of a configured build, and fails on any finding that is
# not explained in tests/static/tidy-suppressions.txt.
#
#   tests/static/run_tidy.sh BUILD_DIR [FILE.c...]
#
# Exit 0 clean, 1 findings, 77 skipped (no clang-tidy or no
# compile_commands.json: ctest reports it as skipped, not passed).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:?usage: run_tidy.sh BUILD_DIR [FILE.c...]}
shift
tidy=$(command -v clang-tidy-14 || command -v clang-tidy || true)
if [ -z "$tidy" ]; then
  echo "run_tidy: SKIPPED: clang-tidy not installed"
  exit 77
fi
if [ ! -f "$build/compile_commands.json" ]; then
  echo "run_tidy: SKIPPED: no $build/compile_commands.json"
  exit 77
fi
[ $# -gt 0 ] || set -- "$root"/common/*.c
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out="$tmp/all.txt"
# One clang-tidy per file, in parallel, each into its own file. Its exit
# status is not used: findings are judged below.
printf '%s\n' "$@" | xargs -P "$(nproc 2>/dev/null || echo 2)" -I{} \
  sh -c '"$1" -p "$2" --quiet "$3" >"$4/$(basename "$3").txt" 2>/dev/null ||
    true' sh "$tidy" "$build" {} "$tmp"
cat "$tmp"/*.txt >"$out" 2>/dev/null || : >"$out"
exec /usr/bin/python3 - "$root" "$out" "$#" <<'PY'
import os
import re
import sys

root, out, nfiles = sys.argv[1], sys.argv[2], int(sys.argv[3])
FIND = re.compile(r"^(/[^:]+):(\d+):(\d+): (?:warning|error): (.*) \[([\w.,-]+)\]$")
supp = []
with open(os.path.join(root, "tests/static/tidy-suppressions.txt")) as f:
    for line in f:
        if line.strip() and not line.startswith("#"):
            parts = [p.strip() for p in line.split("|", 3)]
            supp.append(parts)
lines_cache = {}
found = explained = 0
used = set()
with open(out, errors="replace") as f:
    for line in f:
        m = FIND.match(line.rstrip("\n"))
        if not m:
            continue
        path, no, msg, check = m.group(1), int(m.group(2)), m.group(4), m.group(5)
        rel = os.path.relpath(path, root)
        if rel not in lines_cache:
            with open(path, errors="replace") as src:
                lines_cache[rel] = src.read().split("\n")
        text = lines_cache[rel][no - 1].strip() if no <= len(lines_cache[rel]) else ""
        hit = None
        for i, (sfile, scheck, stext, _reason) in enumerate(supp):
            if sfile == rel and scheck == check and stext == text:
                hit = i
        if hit is not None:
            explained += 1
            used.add(hit)
            continue
        found += 1
        print("%s:%d: %s [%s]\n    %s" % (rel, no, msg, check, text))
for i, s in enumerate(supp):
    if i not in used and nfiles > 1:
        print("note: suppression no longer needed: %s | %s | %s" % tuple(s[:3]))
print("run_tidy: %d files, %d findings, %d explained in "
      "tidy-suppressions.txt" % (nfiles, found, explained))
sys.exit(1 if found else 0)
PY
