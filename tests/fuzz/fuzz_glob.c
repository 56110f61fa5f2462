/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the require glob matcher against a plain recursive reference. */
#include "fuzz.h"

#include <stdbool.h>
#include <string.h>

#include "glob.h"

/*
 * Input: pattern, a NUL byte, value. The automaton in glob.c must agree
 * with this direct transcription of the documented rules, which is
 * exponential at worst and so only consulted for short inputs.
 */

#define REF_MAX 48

static bool ref_class(const unsigned char *p, size_t len, size_t *i, int c) {
  bool negate = false, in = false, first = true;

  (*i)++;
  if (*i < len && (p[*i] == '!' || p[*i] == '^')) {
    negate = true;
    (*i)++;
  }
  while (*i < len && (p[*i] != ']' || first)) {
    unsigned lo, hi;

    first = false;
    if (p[*i] == '\\')
      (*i)++;
    lo = hi = p[(*i)++];
    if (*i + 1 < len && p[*i] == '-' && p[*i + 1] != ']') {
      (*i)++;
      if (p[*i] == '\\')
        (*i)++;
      hi = p[(*i)++];
    }
    if ((unsigned)c >= lo && (unsigned)c <= hi)
      in = true;
  }
  (*i)++;
  return c != '/' && in != negate;
}

static bool ref(const unsigned char *p, size_t pl, const unsigned char *v,
                size_t vl) {
  size_t i = 0;

  if (pl == 0)
    return vl == 0;
  if (p[0] == '*') {
    bool twice;

    while (i < pl && p[i] == '*')
      i++;
    twice = i >= 2;
    for (size_t k = 0; k <= vl; k++) {
      if (ref(p + i, pl - i, v + k, vl - k))
        return true;
      if (k < vl && v[k] == '/' && !twice)
        return false;
    }
    return false;
  }
  if (vl == 0)
    return false;
  if (p[0] == '?')
    return v[0] != '/' && ref(p + 1, pl - 1, v + 1, vl - 1);
  if (p[0] == '[')
    return ref_class(p, pl, &i, v[0]) && ref(p + i, pl - i, v + 1, vl - 1);
  if (p[0] == '\\')
    return p[1] == v[0] && ref(p + 2, pl - 2, v + 1, vl - 1);
  return p[0] == v[0] && ref(p + 1, pl - 1, v + 1, vl - 1);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *nul = memchr(data, '\0', size);
  const char *pattern = (const char *)data;
  size_t pl, vl;
  bool got;

  if (nul == NULL)
    return 0;
  pl = (size_t)(nul - data);
  vl = size - pl - 1;
  got = wif_glob_match(pattern, pl, (const char *)nul + 1, vl);
  if (!wif_glob_valid(pattern, pl, NULL)) {
    if (got)
      fuzz_fail("a malformed pattern matched");
    return 0;
  }
  if (pl <= REF_MAX && vl <= REF_MAX && got != ref(data, pl, nul + 1, vl))
    fuzz_fail("glob disagrees with the reference (got %d)", (int)got);
  /* No `**` and no literal '/' in the pattern: no '/' in a match. */
  if (got && memmem(pattern, pl, "**", 2) == NULL &&
      memchr(pattern, '/', pl) == NULL && memchr(nul + 1, '/', vl) != NULL)
    fuzz_fail("a '/' matched without ** or a literal '/'");
  return 0;
}
