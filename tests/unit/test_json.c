/* SPDX-License-Identifier: Apache-2.0 */
/* The strict JSON parser: grammar, strictness, limits and accessors. */
#include "testutil.h"

#include <inttypes.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "json.h"

static struct wif_json_doc *parse_ok(const char *text) {
  struct wif_json_doc *doc = NULL;
  struct wif_error err;

  if (wif_json_parse(text, strlen(text), 0, &doc, &err) != WIF_OK)
    fail_msg("rejected %s: %s", text, err.msg);
  return doc;
}

static void expect_bad(const char *text, size_t len, const char *why) {
  struct wif_json_doc *doc = (void *)1;
  struct wif_error err;

  if (wif_json_parse(text, len, 0, &doc, &err) != WIF_E_MALFORMED)
    fail_msg("accepted %s (%s)", text, why);
  assert_null(doc);
  assert_non_null(strstr(err.msg, "invalid JSON"));
}

#define BAD(s) expect_bad(s, sizeof(s) - 1, #s)

static void test_valid_documents(void **state) {
  static const char *ok[] = {"{}",
                             "[]",
                             " {\"a\":1} ",
                             "\t[\r\n]\n",
                             "{\"a\":[1,2,{\"b\":null}]}",
                             "[true,false,null]",
                             "[0,-0,1.5,-1.5e10,1E+2,2e-3,123456789012345]",
                             "{\"\":\"\"}",
                             "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]",
                             "[\"\\u00e9\\ud83d\\ude00\"]",
                             "[\"caf\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x82\xac\"]"};
  (void)state;
  for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
    wif_json_free(parse_ok(ok[i]));
}

/* A11-A14, B17, E16, F2, F4: everything that must not parse. */
static void test_rejects(void **state) {
  (void)state;
  BAD("");
  BAD(" ");
  BAD("0"); /* A13: scalars are no claims set */
  BAD("1");
  BAD("-1");
  BAD("true");
  BAD("null");
  BAD("\"\"");
  BAD("{} x"); /* A14: trailing garbage */
  BAD("{}{}");
  BAD("\xef\xbb\xbf{}");    /* A11: BOM */
  BAD("{\"a\":1,\"a\":2}"); /* B17/E16: duplicates */
  BAD("{\"alg\":\"RS256\",\"alg\":\"none\"}");
  BAD("{\"x\":{\"a\":1,\"b\":2,\"a\":3}}");
  BAD("{\"a\":1,}");
  BAD("[1,]");
  BAD("[01]");
  BAD("[+1]");
  BAD("[1.]");
  BAD("[.5]");
  BAD("[1e]");
  BAD("[NaN]"); /* F4 */
  BAD("[Infinity]");
  BAD("[-Infinity]");
  BAD("[tru]");
  BAD("[nul]");
  BAD("{a:1}");
  BAD("{'a':1}");
  BAD("[\"\\u0000\"]"); /* E13: no NUL inside strings */
  BAD("[\"\\ud800\"]"); /* F2: lone surrogates */
  BAD("[\"\\udc00\"]");
  BAD("[\"\\ud800\\u0041\"]");
  BAD("[\"\xc0\xaf\"]"); /* F2: overlong */
  BAD("[\"\xe0\x80\xaf\"]");
  BAD("[\"\xed\xa0\x80\"]");     /* UTF-8 encoded surrogate */
  BAD("[\"\xf4\x90\x80\x80\"]"); /* above U+10FFFF */
  BAD("[\"\xff\"]");
  BAD("[\"\xc3\"]");
  BAD("[\"a\nb\"]"); /* raw control character */
  BAD("[\"\\x41\"]");
  BAD("[\"\\u12\"]");
  BAD("[\"abc");
  BAD("{\"a\" 1}");
  BAD("[1 2]");
  expect_bad("[\"a\0b\"]", 6, "raw NUL");
  expect_bad("{\"a\":1}\0", 8, "trailing NUL");
}

/* A11: UTF-16 and UTF-32 text is not UTF-8 JSON. */
static void test_a11_utf16_rejected(void **state) {
  (void)state;
  expect_bad("{\0\"\0a\0\"\0:\0"
             "1\0}\0",
             16, "UTF-16LE");
  expect_bad("\xff\xfe{\0}\0", 6, "UTF-16LE with BOM");
}

/* F1: depth limits, including jansson's 2100 case. */
static void test_f1_depth(void **state) {
  char deep[4300];
  struct wif_json_doc *doc = NULL;
  (void)state;
  for (int i = 0; i < 2100; i++) {
    deep[i] = '[';
    deep[2100 + i] = ']';
  }
  deep[4200] = '\0';
  assert_int_equal(wif_json_parse(deep, 4200, 0, &doc, NULL), WIF_E_MALFORMED);
  /* Exactly max_depth levels pass, one more fails. */
  assert_int_equal(wif_json_parse("[[1]]", 5, 2, &doc, NULL), WIF_OK);
  wif_json_free(doc);
  assert_int_equal(wif_json_parse("[[[1]]]", 7, 2, &doc, NULL),
                   WIF_E_MALFORMED);
  assert_null(doc);
}

static void test_accessors(void **state) {
  struct wif_json_doc *doc =
      parse_ok("{\"s\":\"x\\u00e9\",\"n\":42,\"a\":[\"p\",{\"q\":[7]}],"
               "\"o\":{\"k/e~y\":true}}");
  const struct wif_json *root = wif_json_root(doc), *v, *e;
  const char *s;
  size_t len;
  int64_t n;
  (void)state;

  assert_int_equal(root->type, WIF_JSON_OBJECT);
  assert_int_equal(root->count, 4);
  assert_true(wif_json_string(wif_json_get(doc, root, "s"), &s, &len));
  assert_int_equal(len, 3);
  assert_string_equal(s, "x\xc3\xa9");
  assert_true(wif_json_int64(wif_json_get(doc, root, "n"), &n));
  assert_int_equal(n, 42);
  assert_null(wif_json_get(doc, root, "missing"));
  assert_null(wif_json_get(doc, root, "S")); /* names are case-sensitive */

  v = wif_json_get(doc, root, "a");
  assert_int_equal(v->type, WIF_JSON_ARRAY);
  assert_int_equal(v->count, 2);
  e = wif_json_first(doc, v);
  assert_true(wif_json_string(e, &s, NULL));
  assert_string_equal(s, "p");
  e = wif_json_next(doc, v, e);
  assert_int_equal(e->type, WIF_JSON_OBJECT);
  assert_null(wif_json_next(doc, v, e));

  /* RFC 6901 pointers, with escapes and indexes. */
  assert_true(wif_json_int64(wif_json_pointer(doc, root, "/a/1/q/0"), &n));
  assert_int_equal(n, 7);
  assert_int_equal(wif_json_pointer(doc, root, "/o/k~1e~0y")->type,
                   WIF_JSON_TRUE);
  assert_null(wif_json_pointer(doc, root, "/a/2"));
  assert_null(wif_json_pointer(doc, root, "/a/01"));
  assert_null(wif_json_pointer(doc, root, "/o/k~2"));
  assert_null(wif_json_pointer(doc, root, "/s/x"));
  assert_non_null(wif_json_pointer(doc, root, "n")); /* plain name */
  wif_json_free(doc);
}

/* E6, E7: NumericDate conversion. */
static void test_numeric_dates(void **state) {
  struct wif_json_doc *doc = parse_ok(
      "[1700000000, 1.7e9, 1700000000.5, -0, -1.5, 99999999999999999999999999,"
      " 9223372036854775807, 1e400, 9007199254740993, \"1700000000\"]");
  const struct wif_json *root = wif_json_root(doc),
                        *v = wif_json_first(doc, root);
  int64_t t;
  (void)state;

  assert_true(wif_json_numeric_date(v, false, &t));
  assert_int_equal(t, 1700000000);
  v = wif_json_next(doc, root, v);
  assert_true(wif_json_numeric_date(v, false, &t));
  assert_int_equal(t, 1700000000);
  v = wif_json_next(doc, root, v);
  assert_true(wif_json_numeric_date(v, false, &t));
  assert_int_equal(t, 1700000000); /* exp rounds down */
  assert_true(wif_json_numeric_date(v, true, &t));
  assert_int_equal(t, 1700000001); /* nbf and iat round up */
  v = wif_json_next(doc, root, v);
  assert_true(wif_json_numeric_date(v, false, &t));
  assert_int_equal(t, 0);
  v = wif_json_next(doc, root, v);
  assert_true(wif_json_numeric_date(v, false, &t));
  assert_int_equal(t, -2);
  assert_true(wif_json_numeric_date(v, true, &t));
  assert_int_equal(t, -1);
  for (int i = 0; i < 5; i++) { /* too big, 1e400, beyond 2^53, a string */
    v = wif_json_next(doc, root, v);
    assert_false(wif_json_numeric_date(v, false, &t));
  }
  wif_json_free(doc);
}

/* Exact decimal rounding, the same under any locale (N10): de_DE writes
 * "1,5", so strtod there stops at the '.' of "1.5". */
static void numeric_dates_exact(void) {
  struct wif_json_doc *doc = parse_ok(
      "[1700000000.5, -1.5, 1.7e9, 17e8, 0.0000000017e18, 1e-400, -1e-400,"
      " 9007199254740992.0, 9007199254740991.9, 9007199254740992.5,"
      " 90071992547409920e-1, 1e16, 0.5, 0e400, 1.00000000000000000000001]");
  static const int64_t down[] = {1700000000,
                                 -2,
                                 1700000000,
                                 1700000000,
                                 1700000000,
                                 0,
                                 -1,
                                 INT64_C(9007199254740992),
                                 INT64_C(9007199254740991),
                                 0,
                                 INT64_C(9007199254740992),
                                 INT64_C(10000000000000000),
                                 0,
                                 0,
                                 1};
  static const int64_t up[] = {1700000001,
                               -1,
                               1700000000,
                               1700000000,
                               1700000000,
                               1,
                               0,
                               INT64_C(9007199254740992),
                               INT64_C(9007199254740992),
                               0,
                               INT64_C(9007199254740992),
                               INT64_C(10000000000000000),
                               1,
                               0,
                               2};
  const struct wif_json *root = wif_json_root(doc), *v;
  size_t i = 0;
  int64_t t;

  for (v = wif_json_first(doc, root); v != NULL;
       v = wif_json_next(doc, root, v), i++) {
    if (i == 9 || i == 11) { /* beyond 2^53 */
      assert_false(wif_json_numeric_date(v, false, &t));
      assert_false(wif_json_numeric_date(v, true, &t));
      continue;
    }
    if (!wif_json_numeric_date(v, false, &t) || t != down[i])
      fail_msg("element %zu rounded down: %" PRId64, i, t);
    if (!wif_json_numeric_date(v, true, &t) || t != up[i])
      fail_msg("element %zu rounded up: %" PRId64, i, t);
  }
  assert_int_equal(i, 15);
  wif_json_free(doc);
}

static void test_numeric_dates_exact(void **state) {
  (void)state;
  numeric_dates_exact();
}

static void test_numeric_dates_locale(void **state) {
  const char *loc = wif_test_setlocale("de_DE.UTF-8");
  char *end = NULL;

  (void)state;
  if (strncmp(loc, "de_DE", 5) == 0) {
    /* The hazard is real here: strtod stops at the '.'. */
    (void)strtod("1.5", &end);
    assert_int_equal(end[0], '.');
  }
  numeric_dates_exact();
  setlocale(LC_ALL, "C");
}

static void test_int64(void **state) {
  struct wif_json_doc *doc =
      parse_ok("[9223372036854775807,-9223372036854775808,"
               "9223372036854775808,1.0,1e3]");
  const struct wif_json *root = wif_json_root(doc),
                        *v = wif_json_first(doc, root);
  int64_t n;
  (void)state;
  assert_true(wif_json_int64(v, &n));
  assert_true(n == INT64_MAX);
  v = wif_json_next(doc, root, v);
  assert_true(wif_json_int64(v, &n));
  assert_true(n == INT64_MIN);
  for (int i = 0; i < 3; i++) {
    v = wif_json_next(doc, root, v);
    assert_false(wif_json_int64(v, &n));
  }
  wif_json_free(doc);
}

/* Large objects take the sorting path of the duplicate check. */
static void test_many_members(void **state) {
  char buf[20000];
  size_t o = 0;
  struct wif_json_doc *doc = NULL;
  (void)state;

  o += (size_t)snprintf(buf + o, sizeof(buf) - o, "{");
  for (int i = 0; i < 1000; i++)
    o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s\"k%d\":%d",
                          i ? "," : "", i, i);
  o += (size_t)snprintf(buf + o, sizeof(buf) - o, "}");
  assert_int_equal(wif_json_parse(buf, o, 0, &doc, NULL), WIF_OK);
  assert_int_equal(wif_json_root(doc)->count, 1000);
  assert_non_null(wif_json_get(doc, wif_json_root(doc), "k999"));
  wif_json_free(doc);
  /* The same with one duplicate at the far end. */
  buf[o - 1] = ',';
  o += (size_t)snprintf(buf + o - 0, sizeof(buf) - o, "\"k500\":1}");
  assert_int_equal(wif_json_parse(buf, o, 0, &doc, NULL), WIF_E_MALFORMED);
}

/* An escaped name equals its plain spelling, so it is a duplicate too. */
static void test_escaped_duplicate(void **state) {
  struct wif_json_doc *doc = NULL;
  const char *t = "{\"sub\":\"a\",\"s\\u0075b\":\"root\"}";
  (void)state;
  assert_int_equal(wif_json_parse(t, strlen(t), 0, &doc, NULL),
                   WIF_E_MALFORMED);
}

/* Differential check: what we accept, jansson reads the same way. */
static void test_agrees_with_jansson(void **state) {
  static const char *docs[] = {
      "{\"a\":\"\\u00e9\",\"b\":[1,2,3],\"c\":{\"d\":\"\\ud83d\\ude00\"}}",
      "[\"tab\\tnew\\nline\", \"\\/\"]"};
  (void)state;
  for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
    struct wif_json_doc *doc = parse_ok(docs[i]);
    json_error_t jerr;
    json_t *j = json_loads(docs[i], JSON_REJECT_DUPLICATES, &jerr);
    assert_non_null(j);
    if (json_is_object(j)) {
      const char *s;
      json_t *a = json_object_get(j, "a");
      assert_true(wif_json_string(wif_json_get(doc, wif_json_root(doc), "a"),
                                  &s, NULL));
      assert_string_equal(s, json_string_value(a));
      assert_true(wif_json_string(
          wif_json_pointer(doc, wif_json_root(doc), "/c/d"), &s, NULL));
      assert_string_equal(
          s, json_string_value(json_object_get(json_object_get(j, "c"), "d")));
    } else {
      const char *s;
      assert_true(
          wif_json_string(wif_json_first(doc, wif_json_root(doc)), &s, NULL));
      assert_string_equal(s, json_string_value(json_array_get(j, 0)));
    }
    json_decref(j);
    wif_json_free(doc);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_valid_documents),
      cmocka_unit_test(test_rejects),
      cmocka_unit_test(test_a11_utf16_rejected),
      cmocka_unit_test(test_f1_depth),
      cmocka_unit_test(test_accessors),
      cmocka_unit_test(test_numeric_dates),
      cmocka_unit_test(test_numeric_dates_exact),
      cmocka_unit_test(test_numeric_dates_locale),
      cmocka_unit_test(test_int64),
      cmocka_unit_test(test_many_members),
      cmocka_unit_test(test_escaped_duplicate),
      cmocka_unit_test(test_agrees_with_jansson),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
