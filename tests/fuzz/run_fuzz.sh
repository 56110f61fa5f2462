#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Builds the libFuzzer targets with clang (ASan + UBSan) and fuzzes each for
# a bounded time, two targets at a time. Fails on any crash, leak,
# sanitizer report, timeout or broken invariant; the input that caused it
# is copied to tests/fuzz/regressions/<target>/ so the ordinary test pass
# replays it from then on (commit it with the fix).
#
#   tests/fuzz/run_fuzz.sh                    every target, 25 s each
#   tests/fuzz/run_fuzz.sh -t 3600 jws json   longer runs of some targets
#   tests/fuzz/run_fuzz.sh -j 1               one target at a time
#   FUZZ_BUILD_DIR=... FUZZ_JOBS=4 tests/fuzz/run_fuzz.sh
#
# -t is each target's time; with -j N (default FUZZ_JOBS, else 2) N
# targets run side by side, so the whole run takes about
# ceil(targets / N) * t seconds.
#
# New inputs that add coverage are kept in $FUZZ_BUILD_DIR/fuzz-work/<t>/
# (never in the committed seeds); pass -m to merge them into
# tests/fuzz/corpus/<t>/ after a long run.
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
seconds=25
merge=0
jobs=${FUZZ_JOBS:-2}
while getopts "t:j:m" opt; do
  case $opt in
  t) seconds=$OPTARG ;;
  j) jobs=$OPTARG ;;
  m) merge=1 ;;
  *)
    echo "usage: run_fuzz.sh [-t SECONDS] [-j JOBS] [-m] [TARGET...]" >&2
    exit 2
    ;;
  esac
done
case $jobs in
'' | *[!0-9]* | 0) echo "run_fuzz: -j wants a number >= 1" >&2; exit 2 ;;
esac
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
# One target: fuzz, save any finding as a regression input, merge on -m.
# Runs in the background; its summary goes to $build/fuzz-$t.result and
# its status to $build/fuzz-$t.status, printed in order once it is done.
fuzz_one() {
  t=$1
  bin="$build/tests/fuzz/fuzz_$t"
  work="$build/fuzz-work/$t"
  art="$build/fuzz-artifacts/$t"
  seeds="$root/tests/fuzz/corpus/$t"
  regress="$root/tests/fuzz/regressions/$t"
  out="$build/fuzz-$t.result"
  mkdir -p "$work" "$art"
  rm -f "$art"/*
  dirs="$work $seeds"
  [ -d "$regress" ] && dirs="$dirs $regress"
  # -timeout: an input slower than 10 s is a finding (a DoS); -max_len
  # above the 16 KiB token cap so the size checks are exercised.
  # shellcheck disable=SC2086
  if ! "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -max_len=20000 -print_final_stats=1 -artifact_prefix="$art/" \
      $dirs >"$build/fuzz-$t.log" 2>&1; then
    { echo "fuzz_$t FAILED (log: $build/fuzz-$t.log):"
      tail -n 60 "$build/fuzz-$t.log"; } >"$out"
    mkdir -p "$regress"
    for f in "$art"/*; do
      [ -f "$f" ] || continue
      cp "$f" "$regress/"
      echo "run_fuzz: $t: finding saved as" \
        "tests/fuzz/regressions/$t/$(basename "$f")" >>"$out"
    done
    echo 1 >"$build/fuzz-$t.status"
    return
  fi
  { printf 'fuzz_%s: ' "$t"
    grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb" \
      "$build/fuzz-$t.log" | tr -s '\n ' '  '
    echo; } >"$out"
  if [ "$merge" = 1 ]; then
    "$bin" -merge=1 "$seeds" "$work" >/dev/null 2>&1
  fi
  echo 0 >"$build/fuzz-$t.status"
}

for t in "$@"; do
  [ -x "$build/tests/fuzz/fuzz_$t" ] || {
    echo "run_fuzz: no target $t" >&2
    exit 2
  }
  rm -f "$build/fuzz-$t.status" "$build/fuzz-$t.result"
done

# Batches of $jobs targets (every target runs for the same time, so a
# batch ends when its targets do); the results are printed in order.
status=0
report() {
  for r in "$@"; do
    cat "$build/fuzz-$r.result" 2>/dev/null
    [ "$(cat "$build/fuzz-$r.status" 2>/dev/null)" = 0 ] || {
      [ -f "$build/fuzz-$r.status" ] ||
        echo "run_fuzz: $r: no result (killed?)" >&2
      status=1
    }
  done
}
batch=""
n=0
for t in "$@"; do
  printf '==> fuzz_%s for %s s\n' "$t" "$seconds"
  fuzz_one "$t" &
  batch="$batch $t"
  n=$((n + 1))
  if [ "$n" -ge "$jobs" ]; then
    wait
    # shellcheck disable=SC2086
    report $batch
    batch=""
    n=0
  fi
done
wait
# shellcheck disable=SC2086
report $batch
exit $status
