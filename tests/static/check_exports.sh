#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Checks that the built PAM module exports pam_sm_* and nothing else
# (defined dynamic symbols, as a host's dlsym sees them), and that it
# exports pam_sm_authenticate at all.
#
#   tests/static/check_exports.sh PATH/TO/pam_wif.so
#
# Exit 0 pass, 1 fail, 77 skipped (the module was not built; ctest reports
# that as skipped, never as passed).
set -eu
so=${1:-}
if [ -z "$so" ] || [ ! -f "$so" ]; then
  echo "check_exports: SKIPPED: module not built (${so:-no path given})"
  exit 77
fi
symbols=$(nm -D --defined-only "$so" | awk '{print $NF}')
bad=$(printf '%s\n' "$symbols" | grep -v '^pam_sm_' || true)
if [ -n "$bad" ]; then
  echo "check_exports: $so exports more than pam_sm_*:"
  printf '  %s\n' $bad
  exit 1
fi
if ! printf '%s\n' "$symbols" | grep -qx pam_sm_authenticate; then
  echo "check_exports: $so does not export pam_sm_authenticate"
  exit 1
fi
echo "check_exports: $(printf '%s\n' "$symbols" | wc -l) symbols, all pam_sm_*:"
printf '  %s\n' $symbols
