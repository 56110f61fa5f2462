/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for text.c: UTF-8 checks, quoting long values, reading
 * configuration lines, ASCII case folding, prefixes, error prefixes. */
#include "testutil.h"

#include <locale.h>
#include <string.h>

#include "text.h"

static bool utf8(const char *s, size_t n) {
  return wif_text_utf8_valid((const unsigned char *)s, n);
}

static void test_utf8_valid(void **state) {
  (void)state;
  assert_true(utf8("", 0));
  assert_true(utf8("plain ascii", 11));
  assert_true(utf8("\xc3\xa9", 2));         /* U+00E9 */
  assert_true(utf8("\xe2\x82\xac", 3));     /* U+20AC */
  assert_true(utf8("\xf0\x9f\x98\x80", 4)); /* U+1F600 */
  assert_true(utf8("\xf4\x8f\xbf\xbf", 4)); /* U+10FFFF, the last */
  assert_true(utf8("\xed\x9f\xbf", 3));     /* U+D7FF, below surrogates */
  assert_true(utf8("a\0b", 3));             /* NUL is ASCII here */
}

static void test_utf8_invalid(void **state) {
  (void)state;
  assert_false(utf8("\x80", 1));             /* bare continuation */
  assert_false(utf8("\xc0\x80", 2));         /* overlong NUL */
  assert_false(utf8("\xc1\xbf", 2));         /* overlong */
  assert_false(utf8("\xe0\x80\x80", 3));     /* overlong 3-byte */
  assert_false(utf8("\xf0\x80\x80\x80", 4)); /* overlong 4-byte */
  assert_false(utf8("\xed\xa0\x80", 3));     /* U+D800 surrogate */
  assert_false(utf8("\xed\xbf\xbf", 3));     /* U+DFFF surrogate */
  assert_false(utf8("\xf4\x90\x80\x80", 4)); /* past U+10FFFF */
  assert_false(utf8("\xf5\x80\x80\x80", 4));
  assert_false(utf8("\xff", 1));
  assert_false(utf8("\xc3", 1)); /* truncated */
  assert_false(utf8("\xe2\x82", 2));
  assert_false(utf8("\xc3\x28", 2)); /* bad continuation */
  /* The length bounds the check: a sequence cut by n is invalid. */
  assert_false(utf8("\xe2\x82\xac", 2));
}

static void test_quote(void **state) {
  char buf[128];
  char small[8];
  char value[200];
  const char *q;

  (void)state;
  /* Short values come back as they are. */
  q = "short";
  assert_ptr_equal(wif_text_quote(q, buf, sizeof(buf)), q);
  /* Exactly WIF_TEXT_QUOTE_MAX bytes still fit. */
  memset(value, 'a', WIF_TEXT_QUOTE_MAX);
  value[WIF_TEXT_QUOTE_MAX] = '\0';
  assert_ptr_equal(wif_text_quote(value, buf, sizeof(buf)), value);
  /* One more is cut to WIF_TEXT_QUOTE_MAX bytes and "...". */
  memset(value, 'a', sizeof(value) - 1);
  value[sizeof(value) - 1] = '\0';
  q = wif_text_quote(value, buf, sizeof(buf));
  assert_ptr_equal(q, buf);
  assert_int_equal(strlen(q), WIF_TEXT_QUOTE_MAX + 3);
  assert_string_equal(q + WIF_TEXT_QUOTE_MAX, "...");
  /* Never cut inside a UTF-8 sequence: "é" straddles the limit. */
  memset(value, 'a', sizeof(value) - 1);
  value[WIF_TEXT_QUOTE_MAX - 1] = '\xc3';
  value[WIF_TEXT_QUOTE_MAX] = '\xa9';
  q = wif_text_quote(value, buf, sizeof(buf));
  assert_int_equal(strlen(q), WIF_TEXT_QUOTE_MAX - 1 + 3);
  assert_true(utf8(q, strlen(q)));
  /* A small buffer bounds the copy. */
  q = wif_text_quote("0123456789", small, sizeof(small));
  assert_ptr_equal(q, small);
  assert_string_equal(q, "0123...");
}

struct lines {
  const char *text;
  size_t len;
  size_t pos;
  char line[17];
  struct wif_error err;
};

static wif_rc next(struct lines *l) {
  return wif_text_next_line(l->text, l->len, &l->pos, 16, l->line, &l->err);
}

static void test_next_line(void **state) {
  static const char text[] = "one\r\n\ttab ok\n\nlast";
  struct lines l = {text, sizeof(text) - 1, 0, {0}, {WIF_OK, {0}}};

  (void)state;
  assert_int_equal(next(&l), WIF_OK);
  assert_string_equal(l.line, "one"); /* one trailing CR goes */
  assert_int_equal(l.pos, 5);
  assert_int_equal(next(&l), WIF_OK);
  assert_string_equal(l.line, "\ttab ok");
  assert_int_equal(next(&l), WIF_OK);
  assert_string_equal(l.line, "");
  assert_int_equal(next(&l), WIF_OK); /* no final newline */
  assert_string_equal(l.line, "last");
  assert_int_equal(l.pos, l.len);
}

static void expect_bad_line(const char *text, size_t len, const char *why) {
  struct lines l = {text, len, 0, {0}, {WIF_OK, {0}}};

  assert_int_equal(next(&l), WIF_E_CONFIG_INVALID);
  assert_int_equal(l.err.rc, WIF_E_CONFIG_INVALID);
  if (strstr(l.err.msg, why) == NULL)
    fail_msg("\"%s\" does not say \"%s\"", l.err.msg, why);
  /* The position still moves past the line: a caller can go on. */
  assert_true(l.pos > 0);
}

static void test_next_line_bad(void **state) {
  (void)state;
  expect_bad_line("0123456789abcdefX\n", 18, "longer than 16 bytes");
  expect_bad_line("a\0b\n", 4, "NUL byte");
  expect_bad_line("caf\xc3\n", 5, "invalid UTF-8");
  expect_bad_line("bell\a\n", 6, "control character");
  expect_bad_line("del\x7f\n", 5, "control character");
  expect_bad_line("cr\rinside\n", 10, "control character");
}

static void test_next_line_limit(void **state) {
  /* Exactly max bytes pass; a CR beyond them still counts. */
  struct lines l = {"0123456789abcdef\n", 17, 0, {0}, {WIF_OK, {0}}};

  (void)state;
  assert_int_equal(next(&l), WIF_OK);
  assert_string_equal(l.line, "0123456789abcdef");
  l = (struct lines){"0123456789abcdef\r\n", 18, 0, {0}, {WIF_OK, {0}}};
  assert_int_equal(next(&l), WIF_E_CONFIG_INVALID);
}

static void test_ncasecmp(void **state) {
  (void)state;
  assert_int_equal(wif_text_ncasecmp("Bearer", "bEARER", 6), 0);
  assert_int_equal(wif_text_ncasecmp("abc", "abd", 2), 0);
  assert_true(wif_text_ncasecmp("abc", "abd", 3) < 0);
  assert_true(wif_text_ncasecmp("abd", "ABC", 3) > 0);
  /* Stops at a NUL in either. */
  assert_true(wif_text_ncasecmp("ab", "abc", 10) < 0);
  assert_int_equal(wif_text_ncasecmp("ab", "AB", 10), 0);
  /* ASCII only: non-ASCII bytes and neighbours of the letters stay. */
  assert_true(wif_text_ncasecmp("\xc3\x89", "\xc3\xa9", 2) != 0);
  assert_true(wif_text_ncasecmp("@", "`", 1) != 0);
  assert_true(wif_text_ncasecmp("[", "{", 1) != 0);
}

/* Whatever the locale: in tr_TR, strcasecmp may fold 'I' to a dotless i. */
static void test_ncasecmp_turkish(void **state) {
  (void)state;
  wif_test_setlocale("tr_TR.UTF-8");
  assert_int_equal(wif_text_ncasecmp("ISSUER", "issuer", 6), 0);
  assert_int_equal(wif_text_ncasecmp("i", "I", 1), 0);
  (void)setlocale(LC_ALL, "C");
}

static void test_skip_prefix(void **state) {
  const char *s = "config=/etc/x";

  (void)state;
  assert_ptr_equal(wif_text_skip_prefix(s, "config="), s + 7);
  assert_string_equal(wif_text_skip_prefix(s, "config="), "/etc/x");
  assert_ptr_equal(wif_text_skip_prefix(s, ""), s);
  assert_null(wif_text_skip_prefix(s, "configx="));
  assert_null(wif_text_skip_prefix("config", "config="));
  assert_null(wif_text_skip_prefix(NULL, "config="));
  assert_string_equal(wif_text_skip_prefix("config=", "config="), "");
}

/* Lowercase, two digits a byte, NUL-terminated: cache file names on disk
 * depend on it. */
static void test_hex(void **state) {
  const unsigned char in[] = {0x00, 0x0f, 0xa5, 0xff};
  char out[2 * sizeof(in) + 2];

  (void)state;
  memset(out, 'x', sizeof(out));
  wif_text_hex(in, sizeof(in), out);
  assert_string_equal(out, "000fa5ff");
  assert_int_equal(out[sizeof(out) - 1], 'x');
  wif_text_hex(in, 0, out);
  assert_string_equal(out, "");
}

static void test_prefix_error(void **state) {
  struct wif_error err;

  (void)state;
  wif_error_set(&err, WIF_E_CONFIG_INVALID, "unknown key \"x\"");
  wif_text_prefix_error(&err, "pam_wif.conf", 12);
  assert_string_equal(err.msg, "pam_wif.conf:12: unknown key \"x\"");
  assert_int_equal(err.rc, WIF_E_CONFIG_INVALID);
  wif_error_set(&err, WIF_E_CONFIG_INSECURE, "group writable");
  wif_text_prefix_error(&err, "pam_wif.map", 0);
  assert_string_equal(err.msg, "pam_wif.map: group writable");
  assert_int_equal(err.rc, WIF_E_CONFIG_INSECURE);
  /* No name: unchanged; no err: nothing happens. */
  wif_text_prefix_error(&err, NULL, 3);
  assert_string_equal(err.msg, "pam_wif.map: group writable");
  wif_text_prefix_error(NULL, "x", 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_utf8_valid),
      cmocka_unit_test(test_utf8_invalid),
      cmocka_unit_test(test_quote),
      cmocka_unit_test(test_next_line),
      cmocka_unit_test(test_next_line_bad),
      cmocka_unit_test(test_next_line_limit),
      cmocka_unit_test(test_ncasecmp),
      cmocka_unit_test(test_ncasecmp_turkish),
      cmocka_unit_test(test_skip_prefix),
      cmocka_unit_test(test_prefix_error),
      cmocka_unit_test(test_hex),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
