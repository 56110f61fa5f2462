/* SPDX-License-Identifier: Apache-2.0 */
/* The glob language of `require` lines: path-aware, byte-wise, no locale. */
#include "glob.h"

#include <stdint.h>
#include <string.h>

/*
 * Matching runs the pattern as a nondeterministic automaton: the state is
 * the set of pattern offsets that the value read so far can reach, kept in
 * a bitset on the stack. Each value byte moves every live offset once, so
 * a hostile value cannot make it backtrack exponentially (as a naive
 * recursive matcher would with `*a*a*a*b`), and nothing is allocated.
 */

#define WORDS ((WIF_GLOB_PATTERN_MAX + 1 + 63) / 64)

struct bits {
  uint64_t w[WORDS];
};

static void bit_set(struct bits *b, size_t i) {
  b->w[i / 64] |= UINT64_C(1) << (i % 64);
}

static bool bit_get(const struct bits *b, size_t i) {
  return (b->w[i / 64] >> (i % 64)) & 1u;
}

/*
 * Parses the class starting at p[at] == '['. On success *end is the offset
 * just past its `]` and, when c >= 0, *hit tells whether byte c is in it
 * (negation applied). Returns false for a malformed class.
 */
static bool parse_class(const unsigned char *p, size_t len, size_t at, int c,
                        size_t *end, bool *hit, const char **why) {
  size_t i = at + 1;
  bool negate = false, in = false, first = true;

  if (i < len && (p[i] == '!' || p[i] == '^')) {
    negate = true;
    i++;
  }
  for (;;) {
    unsigned lo, hi;

    if (i >= len) {
      *why = "a [ class is not closed";
      return false;
    }
    if (p[i] == ']' && !first)
      break;
    first = false;
    if (p[i] == '\\') {
      if (++i >= len) {
        *why = "a \\ ends the pattern";
        return false;
      }
    }
    lo = hi = p[i++];
    /* A range needs something after the '-' other than the closing ']'. */
    if (i + 1 < len && p[i] == '-' && p[i + 1] != ']') {
      i++;
      if (p[i] == '\\' && ++i >= len) {
        *why = "a \\ ends the pattern";
        return false;
      }
      hi = p[i++];
      if (hi < lo) {
        *why = "a class range is reversed";
        return false;
      }
    }
    if (c >= 0 && (unsigned)c >= lo && (unsigned)c <= hi)
      in = true;
  }
  *end = i + 1;
  *hit = in != negate;
  return true;
}

bool wif_glob_valid(const char *pattern, size_t len, const char **why) {
  const unsigned char *p = (const unsigned char *)pattern;
  const char *dummy;
  size_t end;
  bool hit;

  if (why == NULL)
    why = &dummy;
  *why = "";
  if (pattern == NULL) {
    *why = "no pattern";
    return false;
  }
  if (len > WIF_GLOB_PATTERN_MAX) {
    *why = "the pattern is too long";
    return false;
  }
  if (memchr(pattern, '\0', len) != NULL) {
    *why = "the pattern holds a NUL byte";
    return false;
  }
  for (size_t i = 0; i < len;) {
    if (p[i] == '\\') {
      if (i + 1 >= len) {
        *why = "a \\ ends the pattern";
        return false;
      }
      i += 2;
    } else if (p[i] == '[') {
      if (!parse_class(p, len, i, -1, &end, &hit, why))
        return false;
      i = end;
    } else {
      i++;
    }
  }
  return true;
}

/* Adds offset i and, through stars (which may match nothing), every
 * offset reachable from it without reading a byte. */
static void add_closure(const unsigned char *p, size_t len, struct bits *set,
                        size_t i) {
  for (;;) {
    bit_set(set, i);
    if (i >= len || p[i] != '*')
      return;
    while (i < len && p[i] == '*')
      i++;
  }
}

bool wif_glob_match(const char *pattern, size_t pattern_len, const char *value,
                    size_t value_len) {
  const unsigned char *p = (const unsigned char *)pattern;
  const unsigned char *v = (const unsigned char *)value;
  struct bits cur, next;
  const char *why;
  bool any;

  if (value == NULL && value_len > 0)
    return false;
  if (!wif_glob_valid(pattern, pattern_len, &why))
    return false;
  memset(&cur, 0, sizeof(cur));
  add_closure(p, pattern_len, &cur, 0);
  for (size_t k = 0; k < value_len; k++) {
    unsigned char c = v[k];

    memset(&next, 0, sizeof(next));
    any = false;
    for (size_t w = 0; w < WORDS; w++) {
      uint64_t word = cur.w[w];

      while (word != 0) {
        size_t i = w * 64 + (size_t)__builtin_ctzll(word);
        size_t end;
        bool hit;

        word &= word - 1;
        if (i >= pattern_len)
          continue; /* the pattern is used up; a byte is left over */
        if (p[i] == '*') {
          size_t run = i;

          while (run < pattern_len && p[run] == '*')
            run++;
          /* One star stops at '/'; two or more do not. */
          if (c != '/' || run - i >= 2) {
            add_closure(p, pattern_len, &next, i);
            any = true;
          }
        } else if (p[i] == '?') {
          if (c != '/') {
            add_closure(p, pattern_len, &next, i + 1);
            any = true;
          }
        } else if (p[i] == '[') {
          if (parse_class(p, pattern_len, i, c, &end, &hit, &why) && hit &&
              c != '/') {
            add_closure(p, pattern_len, &next, end);
            any = true;
          }
        } else if (p[i] == '\\') {
          if (p[i + 1] == c) {
            add_closure(p, pattern_len, &next, i + 2);
            any = true;
          }
        } else if (p[i] == c) {
          add_closure(p, pattern_len, &next, i + 1);
          any = true;
        }
      }
    }
    if (!any)
      return false;
    cur = next;
  }
  return bit_get(&cur, pattern_len);
}
