/* SPDX-License-Identifier: Apache-2.0 */
/* A strict, read-only JSON parser for untrusted input (see json.h). */
#include "json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wipe.h"

struct wif_json_doc {
  struct wif_json *v; /* values in document order */
  uint32_t n, cap;
  char *arena; /* decoded strings and number literals, NUL-terminated */
  size_t arena_size, arena_used;
};

struct parser {
  const unsigned char *s, *end, *start;
  struct wif_json_doc *doc;
  unsigned max_depth;
  wif_rc rc;
  const char *why;
  size_t where;
};

/* Objects with more members than this are checked for duplicate names by
 * sorting instead of comparing every pair. */
#define DUP_LINEAR_MAX 16

static bool fail(struct parser *p, const char *why) {
  if (p->rc == WIF_OK) {
    p->rc = WIF_E_MALFORMED;
    p->why = why;
    p->where = (size_t)(p->s - p->start);
  }
  return false;
}

static void skip_ws(struct parser *p) {
  while (p->s < p->end &&
         (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r'))
    p->s++;
}

/* Appends a value and returns its index, or UINT32_MAX on failure. */
static uint32_t push(struct parser *p, enum wif_json_type type) {
  struct wif_json_doc *d = p->doc;

  if (d->n == d->cap) {
    uint32_t cap = d->cap * 2;
    struct wif_json *v;

    if (cap <= d->cap || cap > UINT32_MAX / 2) {
      fail(p, "too many values");
      return UINT32_MAX;
    }
    v = realloc(d->v, (size_t)cap * sizeof(*v));
    if (v == NULL) {
      p->rc = WIF_E_NOMEM;
      return UINT32_MAX;
    }
    d->v = v;
    d->cap = cap;
  }
  d->v[d->n] = (struct wif_json){.type = type, .next = d->n + 1};
  return d->n++;
}

static void put(struct parser *p, unsigned char c) {
  /* The arena is sized so that this cannot overflow (see parse). */
  p->doc->arena[p->doc->arena_used++] = (char)c;
}

static void put_utf8(struct parser *p, uint32_t cp) {
  if (cp < 0x80) {
    put(p, (unsigned char)cp);
  } else if (cp < 0x800) {
    put(p, (unsigned char)(0xc0 | cp >> 6));
    put(p, (unsigned char)(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    put(p, (unsigned char)(0xe0 | cp >> 12));
    put(p, (unsigned char)(0x80 | ((cp >> 6) & 0x3f)));
    put(p, (unsigned char)(0x80 | (cp & 0x3f)));
  } else {
    put(p, (unsigned char)(0xf0 | cp >> 18));
    put(p, (unsigned char)(0x80 | ((cp >> 12) & 0x3f)));
    put(p, (unsigned char)(0x80 | ((cp >> 6) & 0x3f)));
    put(p, (unsigned char)(0x80 | (cp & 0x3f)));
  }
}

static bool hex4(struct parser *p, uint32_t *out) {
  uint32_t v = 0;

  if (p->end - p->s < 4)
    return fail(p, "truncated \\u escape");
  for (int i = 0; i < 4; i++) {
    unsigned char c = *p->s++;
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= (uint32_t)(c - '0');
    else if (c >= 'a' && c <= 'f')
      v |= (uint32_t)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      v |= (uint32_t)(c - 'A' + 10);
    else
      return fail(p, "invalid \\u escape");
  }
  *out = v;
  return true;
}

static bool parse_escape(struct parser *p) {
  uint32_t cp, lo;

  if (p->s >= p->end)
    return fail(p, "truncated escape");
  switch (*p->s++) {
  case '"':
    put(p, '"');
    return true;
  case '\\':
    put(p, '\\');
    return true;
  case '/':
    put(p, '/');
    return true;
  case 'b':
    put(p, '\b');
    return true;
  case 'f':
    put(p, '\f');
    return true;
  case 'n':
    put(p, '\n');
    return true;
  case 'r':
    put(p, '\r');
    return true;
  case 't':
    put(p, '\t');
    return true;
  case 'u':
    break;
  default:
    return fail(p, "invalid escape");
  }
  if (!hex4(p, &cp))
    return false;
  if (cp == 0)
    return fail(p, "\\u0000 is not allowed in strings");
  if (cp >= 0xdc00 && cp <= 0xdfff)
    return fail(p, "lone low surrogate");
  if (cp >= 0xd800 && cp <= 0xdbff) {
    if (p->end - p->s < 2 || p->s[0] != '\\' || p->s[1] != 'u')
      return fail(p, "lone high surrogate");
    p->s += 2;
    if (!hex4(p, &lo))
      return false;
    if (lo < 0xdc00 || lo > 0xdfff)
      return fail(p, "invalid surrogate pair");
    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
  }
  put_utf8(p, cp);
  return true;
}

/* Copies one UTF-8 sequence starting at p->s, rejecting overlong forms,
 * surrogates and code points above U+10FFFF. */
static bool copy_utf8(struct parser *p) {
  const unsigned char *s = p->s;
  size_t avail = (size_t)(p->end - s), n;
  uint32_t cp;

  if (s[0] >= 0xc2 && s[0] <= 0xdf) {
    n = 2;
    cp = s[0] & 0x1fu;
  } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
    n = 3;
    cp = s[0] & 0x0fu;
  } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
    n = 4;
    cp = s[0] & 0x07u;
  } else {
    return fail(p, "invalid UTF-8");
  }
  if (avail < n)
    return fail(p, "truncated UTF-8");
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xc0) != 0x80)
      return fail(p, "invalid UTF-8");
    cp = cp << 6 | (s[i] & 0x3fu);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000))
    return fail(p, "overlong UTF-8");
  if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
    return fail(p, "invalid code point");
  for (size_t i = 0; i < n; i++)
    put(p, s[i]);
  p->s += n;
  return true;
}

/* At the opening quote. */
static bool parse_string(struct parser *p) {
  uint32_t idx = push(p, WIF_JSON_STRING);
  char *text;
  size_t begin;

  if (idx == UINT32_MAX)
    return false;
  p->s++;
  begin = p->doc->arena_used;
  for (;;) {
    const unsigned char *run = p->s;

    /* Plain ASCII runs are the common case: copy them in one go. */
    while (p->s < p->end && *p->s >= 0x20 && *p->s < 0x80 && *p->s != '"' &&
           *p->s != '\\')
      p->s++;
    if (p->s > run) {
      memcpy(p->doc->arena + p->doc->arena_used, run, (size_t)(p->s - run));
      p->doc->arena_used += (size_t)(p->s - run);
    }
    if (p->s >= p->end)
      return fail(p, "unterminated string");
    if (*p->s == '"')
      break;
    if (*p->s == '\\') {
      p->s++;
      if (!parse_escape(p))
        return false;
    } else if (*p->s < 0x20) {
      return fail(p, "control character in string");
    } else if (!copy_utf8(p)) {
      return false;
    }
  }
  p->s++;
  text = p->doc->arena + begin;
  p->doc->v[idx].len = (uint32_t)(p->doc->arena_used - begin);
  put(p, '\0');
  p->doc->v[idx].str = text;
  return true;
}

static bool digits(struct parser *p) {
  const unsigned char *start = p->s;

  while (p->s < p->end && *p->s >= '0' && *p->s <= '9')
    p->s++;
  return p->s > start;
}

static bool parse_number(struct parser *p) {
  const unsigned char *start = p->s;
  uint32_t idx;
  size_t len;

  if (*p->s == '-')
    p->s++;
  if (p->s < p->end && *p->s == '0') {
    p->s++;
    if (p->s < p->end && *p->s >= '0' && *p->s <= '9')
      return fail(p, "leading zero in number");
  } else if (!digits(p)) {
    return fail(p, "invalid number");
  }
  if (p->s < p->end && *p->s == '.') {
    p->s++;
    if (!digits(p))
      return fail(p, "invalid fraction");
  }
  if (p->s < p->end && (*p->s == 'e' || *p->s == 'E')) {
    p->s++;
    if (p->s < p->end && (*p->s == '+' || *p->s == '-'))
      p->s++;
    if (!digits(p))
      return fail(p, "invalid exponent");
  }
  idx = push(p, WIF_JSON_NUMBER);
  if (idx == UINT32_MAX)
    return false;
  len = (size_t)(p->s - start);
  p->doc->v[idx].str = p->doc->arena + p->doc->arena_used;
  p->doc->v[idx].len = (uint32_t)len;
  memcpy(p->doc->arena + p->doc->arena_used, start, len);
  p->doc->arena_used += len;
  put(p, '\0');
  return true;
}

static bool parse_literal(struct parser *p, const char *word,
                          enum wif_json_type type) {
  size_t n = strlen(word);

  if ((size_t)(p->end - p->s) < n || memcmp(p->s, word, n) != 0)
    return fail(p, "invalid literal");
  p->s += n;
  return push(p, type) != UINT32_MAX;
}

static int cmp_names(const void *a, const void *b, void *arg) {
  const struct wif_json *v = arg;
  const struct wif_json *x = &v[*(const uint32_t *)a];
  const struct wif_json *y = &v[*(const uint32_t *)b];
  size_t n = x->len < y->len ? x->len : y->len;
  int c = memcmp(x->str, y->str, n);

  if (c != 0)
    return c;
  return (x->len > y->len) - (x->len < y->len);
}

static bool same_name(const struct wif_json *a, const struct wif_json *b) {
  return a->len == b->len && memcmp(a->str, b->str, a->len) == 0;
}

/* RFC 7519 section 4 lets a parser reject duplicate names; JOSE peers
 * disagree on which copy wins, so we never pick one. */
static bool check_duplicates(struct parser *p, uint32_t obj) {
  const struct wif_json *v = p->doc->v;
  uint32_t count = v[obj].count, k = 0;
  uint32_t names_small[DUP_LINEAR_MAX], *names = names_small;
  bool ok = true;

  if (count < 2)
    return true;
  if (count > DUP_LINEAR_MAX) {
    names = malloc((size_t)count * sizeof(*names));
    if (names == NULL) {
      p->rc = WIF_E_NOMEM;
      return false;
    }
  }
  for (uint32_t i = obj + 1; i < v[obj].next; i = v[v[i].next].next)
    names[k++] = i;
  if (count > DUP_LINEAR_MAX) {
    qsort_r(names, count, sizeof(*names), cmp_names, (void *)p->doc->v);
    for (uint32_t i = 1; ok && i < count; i++)
      ok = !same_name(&v[names[i - 1]], &v[names[i]]);
  } else {
    for (uint32_t i = 0; ok && i < count; i++)
      for (uint32_t j = i + 1; ok && j < count; j++)
        ok = !same_name(&v[names[i]], &v[names[j]]);
  }
  if (names != names_small)
    free(names);
  return ok ? true : fail(p, "duplicate member name");
}

static bool parse_value(struct parser *p, unsigned depth);

static bool parse_container(struct parser *p, unsigned depth, bool object) {
  uint32_t idx, count = 0;
  unsigned char close = object ? '}' : ']';

  if (depth >= p->max_depth)
    return fail(p, "nesting too deep");
  idx = push(p, object ? WIF_JSON_OBJECT : WIF_JSON_ARRAY);
  if (idx == UINT32_MAX)
    return false;
  p->s++;
  skip_ws(p);
  if (p->s < p->end && *p->s == close) {
    p->s++;
    return true;
  }
  for (;;) {
    if (object) {
      skip_ws(p);
      if (p->s >= p->end || *p->s != '"')
        return fail(p, "expected member name");
      if (!parse_string(p))
        return false;
      skip_ws(p);
      if (p->s >= p->end || *p->s != ':')
        return fail(p, "expected ':'");
      p->s++;
    }
    if (!parse_value(p, depth + 1))
      return false;
    count++;
    skip_ws(p);
    if (p->s >= p->end)
      return fail(p, "unterminated container");
    if (*p->s == close)
      break;
    if (*p->s != ',')
      return fail(p, object ? "expected ',' or '}'" : "expected ',' or ']'");
    p->s++;
  }
  p->s++;
  p->doc->v[idx].count = count;
  p->doc->v[idx].next = p->doc->n;
  return object ? check_duplicates(p, idx) : true;
}

static bool parse_value(struct parser *p, unsigned depth) {
  skip_ws(p);
  if (p->s >= p->end)
    return fail(p, "expected a value");
  switch (*p->s) {
  case '{':
    return parse_container(p, depth, true);
  case '[':
    return parse_container(p, depth, false);
  case '"':
    return parse_string(p);
  case 't':
    return parse_literal(p, "true", WIF_JSON_TRUE);
  case 'f':
    return parse_literal(p, "false", WIF_JSON_FALSE);
  case 'n':
    return parse_literal(p, "null", WIF_JSON_NULL);
  default:
    if (*p->s == '-' || (*p->s >= '0' && *p->s <= '9'))
      return parse_number(p);
    return fail(p, "unexpected character");
  }
}

wif_rc wif_json_parse(const char *text, size_t len, unsigned max_depth,
                      struct wif_json_doc **out, struct wif_error *err) {
  struct wif_json_doc *doc = NULL;
  struct parser p = {0};
  wif_rc rc = WIF_E_MALFORMED;

  if (out != NULL)
    *out = NULL;
  if (text == NULL || out == NULL || len == 0 || len > UINT32_MAX / 2) {
    wif_error_set(err, WIF_E_MALFORMED, "invalid JSON: empty or too large");
    goto out;
  }
  if (max_depth == 0 || max_depth > WIF_JSON_DEPTH_MAX)
    max_depth = WIF_JSON_DEPTH_MAX;
  doc = calloc(1, sizeof(*doc));
  if (doc == NULL)
    goto nomem;
  /* Decoded text never outgrows its source, and every string or number
   * that gets a NUL is followed by at least one source byte. */
  doc->arena_size = len + 1;
  doc->arena = malloc(doc->arena_size);
  doc->cap = (uint32_t)(len / 8 + 16);
  doc->v = malloc((size_t)doc->cap * sizeof(*doc->v));
  if (doc->arena == NULL || doc->v == NULL)
    goto nomem;

  p.s = p.start = (const unsigned char *)text;
  p.end = p.s + len;
  p.doc = doc;
  p.max_depth = max_depth;
  p.rc = WIF_OK;
  skip_ws(&p);
  if (p.s >= p.end || (*p.s != '{' && *p.s != '['))
    fail(&p, "expected an object or an array");
  else if (parse_value(&p, 0)) {
    skip_ws(&p);
    if (p.s != p.end)
      fail(&p, "trailing data after the value");
  }
  if (p.rc == WIF_E_NOMEM)
    goto nomem;
  if (p.rc != WIF_OK) {
    wif_error_set(err, p.rc, "invalid JSON at byte %zu: %s", p.where, p.why);
    goto out;
  }
  *out = doc;
  doc = NULL;
  rc = WIF_OK;
  goto out;

nomem:
  rc = wif_error_set(err, WIF_E_NOMEM, "out of memory parsing JSON");
out:
  wif_json_free(doc);
  return rc;
}

void wif_json_free(struct wif_json_doc *doc) {
  if (doc == NULL)
    return;
  wif_wipe_free(doc->arena, doc->arena_used);
  free(doc->v);
  free(doc);
}

const struct wif_json *wif_json_root(const struct wif_json_doc *doc) {
  return doc != NULL && doc->n > 0 ? &doc->v[0] : NULL;
}

static bool is_container(const struct wif_json *v) {
  return v != NULL && (v->type == WIF_JSON_ARRAY || v->type == WIF_JSON_OBJECT);
}

const struct wif_json *wif_json_first(const struct wif_json_doc *doc,
                                      const struct wif_json *v) {
  (void)doc; /* children follow their container directly */
  if (!is_container(v) || v->count == 0)
    return NULL;
  return v + 1;
}

const struct wif_json *wif_json_next(const struct wif_json_doc *doc,
                                     const struct wif_json *container,
                                     const struct wif_json *v) {
  if (doc == NULL || !is_container(container) || v == NULL)
    return NULL;
  if (v->next >= container->next)
    return NULL;
  return &doc->v[v->next];
}

static const struct wif_json *get_n(const struct wif_json_doc *doc,
                                    const struct wif_json *obj,
                                    const char *name, size_t len) {
  const struct wif_json *k;

  if (doc == NULL || obj == NULL || obj->type != WIF_JSON_OBJECT)
    return NULL;
  for (k = wif_json_first(doc, obj); k != NULL;) {
    const struct wif_json *val = &doc->v[k->next];

    if (k->len == len && memcmp(k->str, name, len) == 0)
      return val;
    k = wif_json_next(doc, obj, val);
  }
  return NULL;
}

const struct wif_json *wif_json_get(const struct wif_json_doc *doc,
                                    const struct wif_json *obj,
                                    const char *name) {
  return name != NULL ? get_n(doc, obj, name, strlen(name)) : NULL;
}

/* One pointer segment: ~1 is '/', ~0 is '~', any other '~' is invalid. */
static bool unescape_segment(const char *s, size_t len, char *out,
                             size_t *out_len) {
  size_t o = 0;

  for (size_t i = 0; i < len; i++) {
    if (s[i] != '~') {
      out[o++] = s[i];
    } else if (i + 1 < len && (s[i + 1] == '0' || s[i + 1] == '1')) {
      out[o++] = s[i + 1] == '0' ? '~' : '/';
      i++;
    } else {
      return false;
    }
  }
  *out_len = o;
  return true;
}

static const struct wif_json *array_at(const struct wif_json_doc *doc,
                                       const struct wif_json *arr,
                                       const char *seg, size_t len) {
  uint32_t index = 0;
  const struct wif_json *e;

  if (len == 0 || len > 9 || (len > 1 && seg[0] == '0'))
    return NULL;
  for (size_t i = 0; i < len; i++) {
    if (seg[i] < '0' || seg[i] > '9')
      return NULL;
    index = index * 10 + (uint32_t)(seg[i] - '0');
  }
  for (e = wif_json_first(doc, arr); e != NULL && index > 0; index--)
    e = wif_json_next(doc, arr, e);
  return e;
}

const struct wif_json *wif_json_pointer(const struct wif_json_doc *doc,
                                        const struct wif_json *v,
                                        const char *pointer) {
  char seg[256];
  size_t seg_len;

  if (pointer == NULL || v == NULL)
    return NULL;
  if (pointer[0] != '/')
    return wif_json_get(doc, v, pointer);
  while (v != NULL && *pointer == '/') {
    const char *start = pointer + 1;
    const char *end = strchr(start, '/');
    size_t raw = end != NULL ? (size_t)(end - start) : strlen(start);

    if (raw >= sizeof(seg) || !unescape_segment(start, raw, seg, &seg_len))
      return NULL;
    if (v->type == WIF_JSON_OBJECT)
      v = get_n(doc, v, seg, seg_len);
    else if (v->type == WIF_JSON_ARRAY)
      v = array_at(doc, v, seg, seg_len);
    else
      v = NULL;
    pointer = start + raw;
  }
  return v;
}

bool wif_json_string(const struct wif_json *v, const char **s, size_t *len) {
  if (v == NULL || v->type != WIF_JSON_STRING)
    return false;
  if (s != NULL)
    *s = v->str;
  if (len != NULL)
    *len = v->len;
  return true;
}

static bool is_integer_literal(const struct wif_json *v) {
  for (uint32_t i = 0; i < v->len; i++)
    if (v->str[i] == '.' || v->str[i] == 'e' || v->str[i] == 'E')
      return false;
  return true;
}

bool wif_json_int64(const struct wif_json *v, int64_t *out) {
  char *end;
  long long n;

  if (v == NULL || v->type != WIF_JSON_NUMBER || !is_integer_literal(v))
    return false;
  errno = 0;
  n = strtoll(v->str, &end, 10);
  if (errno != 0 || end != v->str + v->len)
    return false;
  *out = n;
  return true;
}

#define NUMERIC_DATE_MAX INT64_C(9007199254740992) /* 2^53 */

/*
 * A non-integer literal (the grammar has been checked: -?digits[.digits]
 * [eE[+-]digits]) rounded to an integer exactly, with no floating point
 * and so no locale (strtod reads the decimal point from LC_NUMERIC: under
 * de_DE "1.5" stops at the '.'). The digits are read as one string of
 * significant digits with the decimal point `point` places from its start;
 * the integer part is the first `point` of them, and any non-zero digit
 * after that is a fraction. False beyond 2^53 in magnitude.
 */
static bool round_literal(const char *s, size_t len, bool round_up,
                          int64_t *out) {
  size_t i = 0;
  int64_t point = 0, exp = 0, mag = 0;
  bool negative = false, fraction = false, exp_negative = false, seen = false;
  char digits[64]; /* the first significant digits; more are only checked
                      for being zero */
  size_t kept = 0;

  if (i < len && s[i] == '-') {
    negative = true;
    i++;
  }
  /* Integer and fraction digits, leading zeros dropped. */
  for (bool in_fraction = false; i < len; i++) {
    char c = s[i];

    if (c == '.' && !in_fraction) {
      in_fraction = true;
      continue;
    }
    if (c < '0' || c > '9')
      break;
    if (!seen && c == '0') {
      if (in_fraction)
        point--; /* 0.05: the first significant digit is two places on */
      continue;
    }
    seen = true;
    if (kept < sizeof(digits))
      digits[kept++] = c;
    else if (c != '0')
      fraction = true; /* beyond 64 significant digits: only its
                          non-zeroness can matter, see below */
    if (!in_fraction)
      point++;
  }
  if (i < len && (s[i] == 'e' || s[i] == 'E')) {
    i++;
    if (i < len && (s[i] == '+' || s[i] == '-'))
      exp_negative = s[i++] == '-';
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
      if (exp < 100000) /* saturates far beyond any useful exponent */
        exp = exp * 10 + (s[i] - '0');
  }
  if (i != len)
    return false;
  point += exp_negative ? -exp : exp;
  if (!seen) {
    *out = 0;
    return true;
  }
  /* 2^53 has 16 digits: an integer part of 17 or more is out of range. */
  if (point > 16)
    return false;
  for (int64_t k = 0; k < point; k++)
    mag = mag * 10 + ((size_t)k < kept ? digits[k] - '0' : 0);
  for (size_t k = point > 0 ? (size_t)point : 0; k < kept; k++)
    if (digits[k] != '0')
      fraction = true;
  if (mag > NUMERIC_DATE_MAX || (mag == NUMERIC_DATE_MAX && fraction))
    return false;
  /* Toward minus infinity (exp) or plus infinity (nbf, iat). */
  if (fraction && (round_up != negative))
    mag++;
  *out = negative ? -mag : mag;
  return true;
}

bool wif_json_numeric_date(const struct wif_json *v, bool round_up,
                           int64_t *out) {
  int64_t t;

  if (v == NULL || v->type != WIF_JSON_NUMBER)
    return false;
  if (is_integer_literal(v)) {
    if (!wif_json_int64(v, &t) || t > NUMERIC_DATE_MAX || t < -NUMERIC_DATE_MAX)
      return false;
    *out = t;
    return true;
  }
  if (!round_literal(v->str, v->len, round_up, &t))
    return false;
  *out = t;
  return true;
}
