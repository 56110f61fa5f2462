#!/bin/sh
# Builds the libFuzzer targets with clang (ASan + UBSan) and fuzzes each for
# a bounded time. Fails on any crash, leak, sanitizer report, timeout or
# broken invariant; the input that caused it is copied to
# tests/fuzz/regressions/<target>/ so the ordinary test pass replays it
# from then on (commit it with the fix).
#
#   tests/fuzz/run_fuzz.sh                    every target, 25 s each
#   tests/fuzz/run_fuzz.sh -t 3600 jws json   longer runs of some targets
#   FUZZ_BUILD_DIR=... FUZZ_JOBS=4 tests/fuzz/run_fuzz.sh
#
# New inputs that add coverage are kept in $FUZZ_BUILD_DIR/fuzz-work/<t>/
# (never in the committed seeds); pass -m to merge them into
# tests/fuzz/corpus/<t>/ after a long run.
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
seconds=25
merge=0
while getopts "t:m" opt; do
  case $opt in
  t) seconds=$OPTARG ;;
  m) merge=1 ;;
  *) echo "usage: run_fuzz.sh [-t SECONDS] [-m] [TARGET...]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))

cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=clang -DWIF_BUILD_FUZZ=ON \
  -DWIF_WERROR=ON -DCMAKE_BUILD_TYPE=Debug -DWIF_BUILD_MODULE=OFF \
  -DWIF_BUILD_BENCH=OFF >/dev/null
if [ $# -eq 0 ]; then
  set -- $(cd "$root/tests/fuzz" && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')
fi
# Only the fuzz targets: the rest of the tree is built and tested elsewhere.
cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" \
  --target $(for t in "$@"; do printf 'fuzz_%s ' "$t"; done) >/dev/null

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
status=0
for t in "$@"; do
  bin="$build/tests/fuzz/fuzz_$t"
  work="$build/fuzz-work/$t"
  art="$build/fuzz-artifacts/$t"
  seeds="$root/tests/fuzz/corpus/$t"
  regress="$root/tests/fuzz/regressions/$t"
  [ -x "$bin" ] || { echo "run_fuzz: no target $t" >&2; exit 2; }
  mkdir -p "$work" "$art"
  rm -f "$art"/*
  dirs="$work $seeds"
  [ -d "$regress" ] && dirs="$dirs $regress"
  printf '==> fuzz_%s for %s s\n' "$t" "$seconds"
  # -timeout: an input slower than 10 s is a finding (a DoS); -max_len
  # above the 16 KiB token cap so the size checks are exercised.
  # shellcheck disable=SC2086
  if ! "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -max_len=20000 -print_final_stats=1 -artifact_prefix="$art/" \
      $dirs >"$build/fuzz-$t.log" 2>&1; then
    tail -n 60 "$build/fuzz-$t.log"
    mkdir -p "$regress"
    for f in "$art"/*; do
      [ -f "$f" ] || continue
      cp "$f" "$regress/"
      echo "run_fuzz: $t: finding saved as tests/fuzz/regressions/$t/$(basename "$f")"
    done
    status=1
    continue
  fi
  grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb" \
    "$build/fuzz-$t.log" | tr '\n' ' '
  echo
  if [ "$merge" = 1 ]; then
    "$bin" -merge=1 "$seeds" "$work" >/dev/null 2>&1
  fi
done
exit $status
