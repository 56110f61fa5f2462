/* SPDX-License-Identifier: Apache-2.0 */
/* Compact JWS framing and header policy (SECURITY-CASES A and B). */
#include "testutil.h"

#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "jwt.h"

static const char *payload_b64 = "eyJzdWIiOiJhIn0"; /* {"sub":"a"} */
static const char *sig_b64 = "AAAA";

/* A token with the given header JSON and fixed payload and signature. */
static char *with_header(const char *header_json) {
  char *h = wif_test_b64(header_json, strlen(header_json));
  char *t = wif_test_join(h, payload_b64, sig_b64);
  free(h);
  return t;
}

static wif_rc parse(const char *token, struct wif_error *err) {
  struct wif_jwt *jwt = (void *)1;
  wif_rc rc = wif_jwt_parse(token, strlen(token), &jwt, err);

  if (rc == WIF_OK)
    wif_jwt_free(jwt);
  else
    assert_null(jwt);
  return rc;
}

static wif_rc parse_header(const char *header_json) {
  char *t = with_header(header_json);
  struct wif_error err;
  wif_rc rc = parse(t, &err);
  free(t);
  return rc;
}

static void test_valid_parts(void **state) {
  char *t = with_header("{\"alg\":\"ES256\",\"kid\":\"k1\",\"typ\":\"JWT\"}");
  struct wif_jwt *jwt = NULL;
  struct wif_json_doc *claims = NULL;
  (void)state;

  assert_int_equal(wif_jwt_parse(t, strlen(t), &jwt, NULL), WIF_OK);
  assert_true(jwt->alg_known);
  assert_int_equal(jwt->alg, WIF_ALG_ES256);
  assert_string_equal(jwt->alg_name, "ES256");
  assert_int_equal(jwt->kid_len, 2);
  assert_memory_equal(jwt->kid, "k1", 2);
  assert_int_equal(jwt->signature_len, 3);
  assert_int_equal(jwt->signing_input_len, strlen(t) - 5);
  assert_memory_equal(jwt->signing_input, t, jwt->signing_input_len);
  assert_int_equal(wif_jwt_claims(jwt, &claims, NULL), WIF_OK);
  assert_non_null(wif_json_get(claims, wif_json_root(claims), "sub"));
  wif_json_free(claims);
  wif_jwt_free(jwt);
  free(t);
  wif_jwt_free(NULL);
}

/* A1 */
static void test_a1_empty(void **state) {
  struct wif_jwt *jwt = NULL;
  (void)state;
  assert_int_equal(wif_jwt_parse("", 0, &jwt, NULL), WIF_E_MALFORMED);
  assert_int_equal(wif_jwt_parse(NULL, 5, &jwt, NULL), WIF_E_MALFORMED);
  assert_int_equal(parse("   ", NULL), WIF_E_MALFORMED);
  assert_int_equal(parse("\n", NULL), WIF_E_MALFORMED);
}

/* A2 */
static void test_a2_segment_counts(void **state) {
  static const char *bad[] = {"abc",
                              "abc.def",
                              "eyJhbGciOiJSUzI1NiJ9.e30.AAAA.AAAA",
                              "eyJhbGciOiJSUzI1NiJ9.e30.AAAA.",
                              "eyJhbGciOiJSUzI1NiJ9.e30.AA.AA.AA",
                              ".e30.AAAA",
                              "..",
                              "..."};
  struct wif_error err;
  (void)state;
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    assert_int_equal(parse(bad[i], &err), WIF_E_MALFORMED);
}

/* A3: the size cap comes before any scan, so a huge run of dots is
 * refused without work proportional to it. */
static void test_a3_size_cap(void **state) {
  size_t n = 1000000;
  char *dots = malloc(n + 1);
  struct wif_error err;
  (void)state;
  memset(dots, '.', n);
  dots[n] = '\0';
  assert_int_equal(parse(dots, &err), WIF_E_TOO_LARGE);
  assert_non_null(strstr(err.msg, "16384"));
  /* Exactly at the cap is still parsed (and here malformed). */
  dots[WIF_TOKEN_MAX] = '\0';
  assert_int_equal(parse(dots, &err), WIF_E_MALFORMED);
  free(dots);
}

/* A4, A5, A10: encoding strictness in every segment. */
static void test_a4_a5_a10_encoding(void **state) {
  char *good = with_header("{\"alg\":\"RS256\"}");
  static const char *inserts[] = {" ", "\t", "\n", "\r", "+", "/",
                                  "=", "?",  "#",  "{",  "\""};
  struct wif_error err;
  (void)state;
  assert_int_equal(parse(good, &err), WIF_OK);
  for (size_t i = 0; i < sizeof(inserts) / sizeof(inserts[0]); i++) {
    for (size_t pos = 2; pos < strlen(good); pos += 17) {
      char buf[512];
      snprintf(buf, sizeof(buf), "%.*s%s%s", (int)pos, good, inserts[i],
               good + pos);
      assert_int_not_equal(parse(buf, &err), WIF_OK);
    }
    char trailing[512];
    snprintf(trailing, sizeof(trailing), "%s%s", good, inserts[i]);
    assert_int_not_equal(parse(trailing, &err), WIF_OK);
  }
  /* A5: payload with non-zero unused bits ("e30" -> "e31"). */
  char *h = wif_test_b64("{\"alg\":\"RS256\"}", 15);
  char *t = wif_test_join(h, "e31", "AAAA");
  assert_int_equal(parse(t, &err), WIF_E_MALFORMED);
  free(t);
  t = wif_test_join(h, "e30=", "AAAA");
  assert_int_equal(parse(t, &err), WIF_E_MALFORMED);
  free(t);
  free(h);
  free(good);
}

/* A6: JSON serializations are not compact tokens. */
static void test_a6_json_serialization(void **state) {
  struct wif_error err;
  (void)state;
  assert_int_equal(parse("{\"payload\":\"e30\",\"signatures\":[{\"protected\":"
                         "\"eyJhbGciOiJSUzI1NiJ9\",\"signature\":\"AAAA\"}]}",
                         &err),
                   WIF_E_MALFORMED);
  assert_int_equal(
      parse("{\"payload\":\"e30\",\"protected\":\"eyJ.e30.AA\"}", &err),
      WIF_E_MALFORMED);
}

/* A11, A12: the header must be a UTF-8 JSON object. */
static void test_a11_a12_header_json(void **state) {
  (void)state;
  assert_int_equal(parse_header("[\"alg\",\"RS256\"]"), WIF_E_MALFORMED);
  assert_int_equal(parse_header("\"RS256\""), WIF_E_MALFORMED);
  assert_int_equal(parse_header("42"), WIF_E_MALFORMED);
  assert_int_equal(parse_header("not json"), WIF_E_MALFORMED);
  assert_int_equal(parse_header("\xef\xbb\xbf{\"alg\":\"RS256\"}"),
                   WIF_E_MALFORMED);
  char utf16[] = "{\0\"\0a\0l\0g\0\"\0:\0\"\0R\0S\0\"\0}\0";
  char *h = wif_test_b64(utf16, sizeof(utf16) - 1);
  char *t = wif_test_join(h, payload_b64, sig_b64);
  assert_int_equal(parse(t, NULL), WIF_E_MALFORMED);
  free(t);
  free(h);
}

/* A13, A14: the claims set must be exactly one JSON object. */
static void test_a13_a14_claims_shape(void **state) {
  static const char *bad[] = {"0",  "1",    "-1",   "true", "false", "null",
                              "[]", "\"\"", "{} x", "{}{}", ""};
  (void)state;
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    char *h = wif_test_b64("{\"alg\":\"RS256\"}", 15);
    char *p = wif_test_b64(bad[i], strlen(bad[i]));
    char *t = wif_test_join(h, p, sig_b64);
    struct wif_jwt *jwt = NULL;
    struct wif_json_doc *claims = (void *)1;
    assert_int_equal(wif_jwt_parse(t, strlen(t), &jwt, NULL), WIF_OK);
    assert_int_equal(wif_jwt_claims(jwt, &claims, NULL), WIF_E_MALFORMED);
    assert_null(claims);
    wif_jwt_free(jwt);
    free(t);
    free(p);
    free(h);
  }
}

/* B1, B2: none and case variants parse, but name no known algorithm. */
static void test_b1_b2_alg_names(void **state) {
  static const char *names[] = {"none",  "NONE",  "None",   "noNE",   "HS256",
                                "hs256", "Rs256", "RS256 ", "ES256K", ""};
  (void)state;
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    char header[64];
    struct wif_jwt *jwt = NULL;
    snprintf(header, sizeof(header), "{\"alg\":\"%s\"}", names[i]);
    char *t = with_header(header);
    assert_int_equal(wif_jwt_parse(t, strlen(t), &jwt, NULL), WIF_OK);
    assert_false(jwt->alg_known);
    wif_jwt_free(jwt);
    free(t);
  }
}

/* B5 */
static void test_b5_alg_missing_or_not_string(void **state) {
  (void)state;
  assert_int_equal(parse_header("{}"), WIF_E_MALFORMED);
  assert_int_equal(parse_header("{\"typ\":\"JWT\"}"), WIF_E_MALFORMED);
  assert_int_equal(parse_header("{\"alg\":123}"), WIF_E_MALFORMED);
  assert_int_equal(parse_header("{\"alg\":null}"), WIF_E_MALFORMED);
  assert_int_equal(parse_header("{\"alg\":true}"), WIF_E_MALFORMED);
  assert_int_equal(parse_header("{\"alg\":[]}"), WIF_E_MALFORMED);
  assert_int_equal(parse_header("{\"alg\":{}}"), WIF_E_MALFORMED);
}

/* B7-B9: key-bearing header parameters are ignored, not errors. */
static void test_b7_b9_key_headers_ignored(void **state) {
  (void)state;
  assert_int_equal(
      parse_header("{\"alg\":\"RS256\",\"jwk\":{\"kty\":\"RSA\"},"
                   "\"jku\":\"http://169.254.169.254/\",\"x5u\":\"file:///"
                   "etc/passwd\",\"x5c\":[\"AAAA\"],\"x5t\":\"AA\"}"),
      WIF_OK);
}

/* B10, B11 */
static void test_b10_b11_crit_and_b64(void **state) {
  static const char *bad[] = {
      "{\"alg\":\"RS256\",\"crit\":[\"foo\"],\"foo\":1}",
      "{\"alg\":\"RS256\",\"crit\":[\"exp\"]}",
      "{\"alg\":\"RS256\",\"crit\":[]}",
      "{\"alg\":\"RS256\",\"crit\":\"x\"}",
      "{\"alg\":\"RS256\",\"crit\":[\"absent\"]}",
      "{\"alg\":\"RS256\",\"b64\":false,\"crit\":[\"b64\"]}",
      "{\"alg\":\"RS256\",\"b64\":false}",
      "{\"alg\":\"RS256\",\"b64\":true}"};
  (void)state;
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    assert_int_equal(parse_header(bad[i]), WIF_E_UNSUPPORTED_CRIT);
}

/* B12: kid is an opaque string; anything else is malformed. */
static void test_b12_kid(void **state) {
  char big[WIF_KID_MAX + 64];
  (void)state;
  assert_int_equal(parse_header("{\"alg\":\"RS256\",\"kid\":\"../../../../"
                                "dev/null\"}"),
                   WIF_OK);
  assert_int_equal(parse_header("{\"alg\":\"RS256\",\"kid\":\"x' OR '1'='1\"}"),
                   WIF_OK);
  assert_int_equal(parse_header("{\"alg\":\"RS256\",\"kid\":1}"),
                   WIF_E_MALFORMED);
  assert_int_equal(parse_header("{\"alg\":\"RS256\",\"kid\":{}}"),
                   WIF_E_MALFORMED);
  assert_int_equal(parse_header("{\"alg\":\"RS256\",\"kid\":[\"a\"]}"),
                   WIF_E_MALFORMED);
  snprintf(big, sizeof(big), "{\"alg\":\"RS256\",\"kid\":\"%0*d\"}",
           WIF_KID_MAX + 1, 0);
  assert_int_equal(parse_header(big), WIF_E_MALFORMED);
}

/* B14: typ JWT, at+jwt and JOSE (SPIFFE JWT-SVID), in the forms RFC 7515
 * allows; ASCII case folding only, whatever the locale. */
static void typ_cases(void) {
  static const char *ok[] = {"JWT",
                             "jwt",
                             "application/jwt",
                             "at+jwt",
                             "AT+JWT",
                             "application/at+jwt",
                             "JOSE",
                             "jose",
                             "application/JOSE",
                             "APPLICATION/JwT"};
  static const char *bad[] = {"secevent+jwt",  "dpop+jwt",
                              "JWS",           "",
                              "application/",  "jwt ",
                              "JOSE+JSON",     "application/application/jwt",
                              "J\\u0057T",     "jw\\u0131",
                              "\\u0130at+jwt", "jwt\\u0000"};
  char header[96];
  for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
    snprintf(header, sizeof(header), "{\"alg\":\"RS256\",\"typ\":\"%s\"}",
             ok[i]);
    assert_int_equal(parse_header(header), WIF_OK);
  }
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    snprintf(header, sizeof(header), "{\"alg\":\"RS256\",\"typ\":\"%s\"}",
             bad[i]);
    if (i == 8)
      assert_int_equal(parse_header(header), WIF_OK); /* \u0057 is W */
    else if (i == 11)
      assert_int_equal(parse_header(header), WIF_E_MALFORMED); /* NUL */
    else
      assert_int_equal(parse_header(header), WIF_E_TYP_MISMATCH);
  }
  assert_int_equal(parse_header("{\"alg\":\"RS256\",\"typ\":1}"),
                   WIF_E_MALFORMED);
  assert_int_equal(parse_header("{\"alg\":\"RS256\"}"), WIF_OK);
}

static void test_b14_typ(void **state) {
  (void)state;
  typ_cases();
}

/* N10: the same answers in a Turkish locale, where 'I' and 'i' are not
 * each other's case pair. */
static void test_b14_typ_locale(void **state) {
  (void)state;
  (void)wif_test_setlocale("tr_TR.UTF-8");
  typ_cases();
  setlocale(LC_ALL, "C");
}

/* B15, B16 */
static void test_b15_b16_nested_jwe_zip(void **state) {
  (void)state;
  assert_int_equal(parse_header("{\"alg\":\"RS256\",\"cty\":\"JWT\"}"),
                   WIF_E_UNSUPPORTED);
  assert_int_equal(
      parse_header("{\"alg\":\"RS256\",\"cty\":\"application/jwt\"}"),
      WIF_E_UNSUPPORTED);
  assert_int_equal(parse_header("{\"alg\":\"RSA-OAEP\",\"enc\":\"A256GCM\"}"),
                   WIF_E_UNSUPPORTED);
  assert_int_equal(parse_header("{\"alg\":\"RS256\",\"zip\":\"DEF\"}"),
                   WIF_E_UNSUPPORTED);
  assert_int_equal(parse_header("{\"alg\":\"RS256\",\"cty\":\"text/plain\"}"),
                   WIF_OK);
}

/* B17 */
static void test_b17_duplicate_header_members(void **state) {
  (void)state;
  assert_int_equal(parse_header("{\"alg\":\"RS256\",\"alg\":\"none\"}"),
                   WIF_E_MALFORMED);
}

/* B18: unknown members are ignored, within the depth cap. */
static void test_b18_extra_members(void **state) {
  (void)state;
  assert_int_equal(
      parse_header("{\"alg\":\"RS256\",\"x\":{\"y\":[1,2,{\"z\":null}]}}"),
      WIF_OK);
  assert_int_equal(
      parse_header("{\"alg\":\"RS256\",\"x\":[[[[[[[[[1]]]]]]]]]}"),
      WIF_E_MALFORMED);
}

/* A7: an empty signature parses; verification rejects it later. */
static void test_a7_empty_signature_parses(void **state) {
  char *h = wif_test_b64("{\"alg\":\"RS256\"}", 15);
  char *t = wif_test_join(h, payload_b64, "");
  struct wif_jwt *jwt = NULL;
  (void)state;
  assert_int_equal(wif_jwt_parse(t, strlen(t), &jwt, NULL), WIF_OK);
  assert_int_equal(jwt->signature_len, 0);
  wif_jwt_free(jwt);
  free(t);
  free(h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_valid_parts),
      cmocka_unit_test(test_a1_empty),
      cmocka_unit_test(test_a2_segment_counts),
      cmocka_unit_test(test_a3_size_cap),
      cmocka_unit_test(test_a4_a5_a10_encoding),
      cmocka_unit_test(test_a6_json_serialization),
      cmocka_unit_test(test_a11_a12_header_json),
      cmocka_unit_test(test_a13_a14_claims_shape),
      cmocka_unit_test(test_b1_b2_alg_names),
      cmocka_unit_test(test_b5_alg_missing_or_not_string),
      cmocka_unit_test(test_b7_b9_key_headers_ignored),
      cmocka_unit_test(test_b10_b11_crit_and_b64),
      cmocka_unit_test(test_b12_kid),
      cmocka_unit_test(test_b14_typ),
      cmocka_unit_test(test_b14_typ_locale),
      cmocka_unit_test(test_b15_b16_nested_jwe_zip),
      cmocka_unit_test(test_b17_duplicate_header_members),
      cmocka_unit_test(test_b18_extra_members),
      cmocka_unit_test(test_a7_empty_signature_parses),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
