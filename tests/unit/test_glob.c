/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for glob.c: the `require` glob language (pam_wif.conf(5)). */
#include "testutil.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glob.h"

static bool m(const char *pattern, const char *value) {
  return wif_glob_match(pattern, strlen(pattern), value, strlen(value));
}

static void expect(const char *pattern, const char *value, bool want) {
  if (m(pattern, value) != want)
    fail_msg("\"%s\" against \"%s\": expected %s", pattern, value,
             want ? "a match" : "no match");
}

static void test_literal(void **state) {
  (void)state;
  expect("", "", true);
  expect("", "a", false);
  expect("a", "", false);
  expect("prod", "prod", true);
  expect("prod", "Prod", false); /* no case folding */
  expect("prod", "prod ", false);
  expect("prod", "pro", false);
  expect("a/b", "a/b", true);
}

static void test_star_stops_at_slash(void **state) {
  (void)state;
  expect("*", "", true);
  expect("*", "anything", true);
  expect("*", "a/b", false);
  expect("prod*", "prod", true);
  expect("prod*", "production", true);
  /* The case: fnmatch without flags accepted it. */
  expect("prod*", "prod/../x", false);
  expect("repo:octo/db:ref:refs/heads/*", "repo:octo/db:ref:refs/heads/main",
         true);
  expect("repo:octo/db:ref:refs/heads/*",
         "repo:octo/db:ref:refs/heads/main/evil", false);
  expect("*/*", "a/b", true);
  expect("*/*", "a/b/c", false);
  expect("a*b*c", "aXXbYYc", true);
  expect("a*b*c", "aXXbYY/c", false);
  expect("*a", "bbba", true);
  expect("*a", "bbb", false);
}

static void test_double_star(void **state) {
  (void)state;
  expect("**", "", true);
  expect("**", "a/b/c", true);
  expect("prod**", "prod/../x", true);
  expect("octo/**", "octo/a/b", true);
  expect("octo/**", "other/a", false);
  expect("a/**/b", "a/x/y/b", true);
  expect("a/**/b", "a/b", false); /* `**` is a run, not "zero directories" */
  expect("***", "a/b", true);     /* longer runs are `**` */
  expect("**/main", "refs/heads/main", true);
  expect("**/main", "refs/heads/main2", false);
  expect("*/**", "a", false);
  expect("*/**", "a/", true);
}

static void test_question(void **state) {
  (void)state;
  expect("?", "a", true);
  expect("?", "", false);
  expect("?", "ab", false);
  expect("?", "/", false);
  expect("a?c", "abc", true);
  expect("a?c", "a/c", false);
  /* One byte: a two-byte character needs two. */
  expect("?", "\xc3\xa9", false);
  expect("??", "\xc3\xa9", true);
}

static void test_classes(void **state) {
  (void)state;
  expect("[abc]", "b", true);
  expect("[abc]", "d", false);
  expect("[a-c]x", "bx", true);
  expect("[a-c]x", "dx", false);
  expect("[!a-c]", "d", true);
  expect("[!a-c]", "a", false);
  expect("[^a-c]", "d", true);
  expect("[^a-c]", "b", false);
  expect("[]]", "]", true);
  expect("[!]]", "]", false);
  expect("[!]]", "a", true);
  expect("[a-]", "-", true);
  expect("[-a]", "-", true);
  expect("[\\]]", "]", true);
  expect("[\\-a]", "-", true);
  /* A class never matches '/', negated or not. */
  expect("[!a]", "/", false);
  expect("[/]", "/", false);
  expect("[.-0]", "/", false); /* '/' is between '.' and '0' */
  expect("[.-0]", "0", true);
  /* Byte values: ranges over non-ASCII bytes work byte by byte. */
  expect("[\x80-\xff][\x80-\xff]", "\xc3\xa9", true);
  expect("[0-9][0-9]", "42", true);
  expect("[0-9][0-9]", "4a", false);
}

static void test_escapes(void **state) {
  (void)state;
  expect("\\*", "*", true);
  expect("\\*", "a", false);
  expect("a\\?", "a?", true);
  expect("a\\?", "ab", false);
  expect("\\[x]", "[x]", true);
  expect("\\\\", "\\", true);
  expect("\\**", "*abc", true);
  expect("\\**", "*a/c", false);
}

static void test_malformed(void **state) {
  static const char *bad[] = {"[",   "[abc",  "[!",    "[]",  "[!]",
                              "a\\", "[z-a]", "[a-\\", "x[\\"};
  const char *why = NULL;

  (void)state;
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    why = NULL;
    if (wif_glob_valid(bad[i], strlen(bad[i]), &why))
      fail_msg("\"%s\" should be malformed", bad[i]);
    assert_non_null(why);
    assert_true(strlen(why) > 0);
    /* Malformed patterns match nothing, not even their own text. */
    assert_false(m(bad[i], bad[i]));
  }
  assert_true(wif_glob_valid("a[b]c\\*", 7, &why));
  assert_false(wif_glob_valid(NULL, 0, &why));
  assert_false(wif_glob_valid("a\0b", 3, &why));
  assert_false(wif_glob_match("a\0b", 3, "a", 1));
  assert_false(wif_glob_match("a", 1, NULL, 1));
}

static void test_limits(void **state) {
  char *pattern = malloc(WIF_GLOB_PATTERN_MAX + 2);
  char *value = malloc(65536);

  (void)state;
  assert_non_null(pattern);
  assert_non_null(value);
  /* Longest pattern works; one more byte is refused. */
  memset(pattern, 'a', WIF_GLOB_PATTERN_MAX + 1);
  memset(value, 'a', WIF_GLOB_PATTERN_MAX + 1);
  assert_true(wif_glob_match(pattern, WIF_GLOB_PATTERN_MAX, value,
                             WIF_GLOB_PATTERN_MAX));
  assert_false(wif_glob_valid(pattern, WIF_GLOB_PATTERN_MAX + 1, NULL));
  assert_false(wif_glob_match(pattern, WIF_GLOB_PATTERN_MAX + 1, value,
                              WIF_GLOB_PATTERN_MAX + 1));
  /* The pathological case for backtracking matchers finishes at once. */
  for (size_t i = 0; i < 200; i++) {
    pattern[2 * i] = '*';
    pattern[2 * i + 1] = 'a';
  }
  pattern[400] = 'b';
  memset(value, 'a', 65535);
  assert_false(wif_glob_match(pattern, 401, value, 65535));
  value[65534] = 'b';
  assert_true(wif_glob_match(pattern, 401, value, 65535));
  free(pattern);
  free(value);
}

/* Nothing depends on the locale: the same answers in a UTF-8 locale (a
 * class range is not a collation range there either). */
static void test_locale(void **state) {
  const char *loc;

  (void)state;
  loc = setlocale(LC_ALL, "C.UTF-8");
  if (loc == NULL)
    loc = setlocale(LC_ALL, "C.utf8");
  /* C.UTF-8 ships with glibc (Debian 12); its absence is a broken host. */
  assert_non_null(loc);
  expect("[a-z]", "B", false);
  expect("[A-Z]", "b", false);
  expect("?", "\xc3\xa9", false);
  expect("[a-z]*", "\xc3\xa9t\xc3\xa9", false);
  setlocale(LC_ALL, "C");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_literal),
      cmocka_unit_test(test_star_stops_at_slash),
      cmocka_unit_test(test_double_star),
      cmocka_unit_test(test_question),
      cmocka_unit_test(test_classes),
      cmocka_unit_test(test_escapes),
      cmocka_unit_test(test_malformed),
      cmocka_unit_test(test_limits),
      cmocka_unit_test(test_locale),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
