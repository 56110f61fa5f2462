#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs the tests, at one of two speeds:
#
#   ./tests/run.sh            everything, what CI runs: the build with
#                             warnings as errors and its whole ctest suite
#                             (static checks, fault injection, fuzz-corpus
#                             replays, end-to-end over sshd, packaging), the
#                             unit tests under valgrind memcheck and again
#                             under ASan + UBSan, and a bounded libFuzzer
#                             run of every fuzz target
#   ./tests/run.sh quick      the inner loop: the same -Werror build, then
#                             ctest without the slow parts (the e2e,
#                             packaging and faultinject labels, and
#                             clang-tidy); no valgrind, sanitizers or
#                             fuzzing. Under 3 minutes.
#
#   BUILD_DIR=... ./tests/run.sh [quick]
#   FUZZ_SECONDS=300 ./tests/run.sh   longer fuzzing (default 50 s a target,
#                                     two targets at a time)
# Both install the Debian packages the tests need first (as root).
set -eu

mode=all
case ${1:-} in
'') ;;
quick) mode=quick ;;
-h | --help)
  sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'
  exit 0
  ;;
*)
  echo "usage: tests/run.sh [quick]" >&2
  exit 2
  ;;
esac
# Left out of the quick pass: the ctest labels e2e (a real sshd),
# packaging (builds .deb and .rpm packages) and faultinject (sweeps of
# minutes each), and static/tidy (clang-tidy over the core, over three
# minutes on two cores). Everything else, the other static checks and the
# fuzz-corpus replays included, runs in both.
quick_exclude_labels='e2e|hostile|packaging|faultinject'
quick_exclude_tests='^static/tidy$'

cd "$(dirname "$0")/.."
root=$(pwd)
jobs=$(nproc 2>/dev/null || echo 2)

# True when no directory from $1 up to / can be written by anyone but root
# and us: the tests keep trusted configuration files in the build tree,
# and pam_wif refuses files under, say, a world-writable /tmp.
safe_chain() {
  d=$1
  while :; do
    if [ -e "$d" ]; then
      set -- $(stat -c '%u %a' "$d")
      [ "$1" = 0 ] || [ "$1" = "$(id -u)" ] || return 1
      case $2 in *[2367]? | *[2367]) return 1 ;; esac
    fi
    [ "$d" = / ] && return 0
    d=$(dirname "$d")
  done
}

build=${BUILD_DIR:-$root/build}
if [ -z "${BUILD_DIR:-}" ] && ! safe_chain "$root"; then
  # Somewhere safe that other users can still traverse: some tests run
  # wifctl and su as nobody against files in the build tree.
  if [ "$(id -u)" = 0 ]; then
    base=/var/cache/pam_wif-tests
  else
    base=${XDG_CACHE_HOME:-$HOME/.cache}/pam_wif-tests
  fi
  build=$base/build-$(printf '%s' "$root" | cksum | cut -d' ' -f1)
  echo "tests/run.sh: $root is under a directory others can write;" \
    "building in $build"
fi
mkdir -p -m 755 "$build"

"$root/tests/install_deps.sh"

step() { printf '\n==> %s\n' "$*"; }

step "build ($build, -Werror)"
cmake -S "$root" -B "$build" -DWIF_WERROR=ON >/dev/null
cmake --build "$build" -j "$jobs"

if [ "$mode" = quick ]; then
  step "tests (quick: without $quick_exclude_labels, $quick_exclude_tests)"
  ctest --test-dir "$build" --output-on-failure -j "$jobs" \
    -LE "$quick_exclude_labels" -E "$quick_exclude_tests"
  step "quick tests passed (the full pass: tests/run.sh)"
  exit 0
fi

step "tests"
ctest --test-dir "$build" --output-on-failure -j "$jobs"

step "unit tests under valgrind memcheck"
# After the plain run, so the generated keys are in place.
# fi_core and fi_pam are the fault-injection sweeps: under memcheck every
# injected failure path is checked for leaks and invalid accesses too.
for t in "$build"/tests/test_* "$build"/tests/faultinject/fi_core \
    "$build"/tests/faultinject/fi_pam; do
  [ -x "$t" ] || continue
  # In the test's own directory, as ctest runs it (some tests keep trusted
  # files in the working directory).
  status=0
  (cd "$(dirname "$t")" && valgrind -q --error-exitcode=99 \
    --leak-check=full --errors-for-leak-kinds=definite --track-fds=no \
    "$t") >"$t.memcheck.log" 2>&1 || status=$?
  case $status in
  0) echo "valgrind clean: $(basename "$t")" ;;
  77) echo "valgrind skipped: $(basename "$t") (as in ctest)" ;;
  *)
    cat "$t.memcheck.log"
    echo "valgrind: $(basename "$t") failed" >&2
    exit 1
    ;;
  esac
done

step "unit tests under ASan + UBSan"
cmake -S "$root" -B "$build-asan" -DWIF_WERROR=ON -DWIF_SANITIZE=ON \
  -DCMAKE_BUILD_TYPE=Debug -DWIF_BUILD_BENCH=OFF >/dev/null
cmake --build "$build-asan" -j "$jobs"
# The static checks and the packaging tests (which build their own
# packages from the source tree) already ran in the plain pass, and so did
# the end-to-end tests: a system sshd cannot load an ASan-built module,
# and neither can the setuid client of the hostile-caller suite (the
# loader ignores LD_PRELOAD there). The module's code runs under ASan in
# the PAM and fault-injection tests.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir "$build-asan" --output-on-failure -j "$jobs" \
    -LE 'static|packaging|e2e|hostile'

# Two targets at a time for 50 s each: the same wall-clock time as one
# at a time for 25 s, twice the fuzzing.
step "fuzzing (libFuzzer, ASan + UBSan, ${FUZZ_SECONDS:-50} s per target," \
  "${FUZZ_JOBS:-2} at a time)"
FUZZ_BUILD_DIR="$build-fuzz" \
  "$root/tests/fuzz/run_fuzz.sh" -t "${FUZZ_SECONDS:-50}" -j "${FUZZ_JOBS:-2}"

step "all tests passed"
