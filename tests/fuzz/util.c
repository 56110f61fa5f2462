/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_fail: the one way a target reports a broken invariant. */
#include "fuzz.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void fuzz_fail(const char *fmt, ...) {
  va_list ap;

  va_start(ap, fmt);
  (void)fputs("fuzz invariant broken: ", stderr);
  (void)vfprintf(stderr, fmt, ap);
  (void)fputc('\n', stderr);
  va_end(ap);
  abort();
}
