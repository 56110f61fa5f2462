/* SPDX-License-Identifier: Apache-2.0 */
/* The glob language of `require` lines: path-aware, byte-wise, no locale. */
#ifndef WIF_GLOB_H
#define WIF_GLOB_H

#include <stdbool.h>
#include <stddef.h>

/* Longest pattern accepted (a config line is at most 4096 bytes). */
#define WIF_GLOB_PATTERN_MAX 4096

/*
 * The language, compared byte by byte (no locale, no case folding, no
 * collation; a non-ASCII character is several bytes):
 *
 *   *        any run of bytes, empty included, without `/`
 *   **       any run of bytes, `/` included (also *** and longer runs)
 *   ?        one byte other than `/`
 *   [...]    one byte other than `/` from a class: single bytes and
 *            ranges `a-z` (by byte value, low <= high); `[!...]` or
 *            `[^...]` negate it; a `]` right after `[`, `[!` or `[^` is a
 *            member; `-` first or last is a member; `\` escapes the next
 *            byte inside a class too
 *   \c       the byte c itself (so `\*` is a star)
 *   other    itself
 *
 * The whole value must match (anchored at both ends). This is not
 * fnmatch(3): `*` never crosses `/`, so `prod*` does not accept
 * `prod/../x`; GitHub's branch and environment filters behave the same way.
 */

/*
 * True when pattern (len bytes, no NUL) is well formed: at most
 * WIF_GLOB_PATTERN_MAX bytes, no trailing lone `\`, every `[` closed, no
 * empty class, no range whose ends are reversed. Otherwise false and, when
 * why is not NULL, *why is a static phrase for a message.
 */
bool wif_glob_valid(const char *pattern, size_t len, const char **why);

/*
 * True when value (value_len bytes, may hold any byte) matches pattern
 * (pattern_len bytes). A pattern that wif_glob_valid refuses matches
 * nothing. Time is O(pattern_len * value_len) at worst, memory a fixed
 * amount on the stack: no backtracking blow-up, no allocation.
 */
bool wif_glob_match(const char *pattern, size_t pattern_len, const char *value,
                    size_t value_len);

#endif
