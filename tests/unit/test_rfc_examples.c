/* SPDX-License-Identifier: Apache-2.0 */
/* RFC 7520 section 4 and RFC 8037 A.4 signature examples, verified. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "jwt.h"
#include "verify.h"

/*
 * Keys, copied from RFC 7520 Figure 1 (EC P-521) and Figure 3 (RSA 2048),
 * and RFC 8037 A.2 (Ed25519). The RFC keys carry no "alg" member, so under
 * our policy (jwk.h: a present alg hint must equal the token alg) each RSA
 * key may verify RS256 and PS384 alike. Wycheproof's copies of these
 * examples add hints ("PS256", "ES521") that contradict the tokens; with
 * those hints we reject, as test_alg_hint_conflict shows (D10).
 */
#define RFC7520_N                                                              \
  "n4EPtAOCc9AlkeQHPzHStgAbgs7bTZLwUBZdR8_KuKPEHLd4rHVTeT"                     \
  "-O-XV2jRojdNhxJWTDvNd7nqQ0VEiZQHz_AJmSCpMaJMRBSFKrKb2wqV"                   \
  "wGU_NsYOYL-QtiWN2lbzcEe6XC0dApr5ydQLrHqkHHig3RBordaZ6Aj-"                   \
  "oBHqFEHYpPe7Tpe-OfVfHd1E6cS6M1FZcD1NNLYD5lFHpPI9bTwJlsde"                   \
  "3uhGqC0ZCuEHg8lhzwOHrtIQbS0FVbb9k3-tVTU4fg_3L_vniUFAKwuC"                   \
  "LqKnS2BYwdq_mzSnbLY7h_qixoR7jig3__kRhuaxwUkRz5iaiQkqgc5g"                   \
  "HdrNP5zw"

static const char rsa_jwk[] =
    "{\"kty\":\"RSA\",\"kid\":\"bilbo.baggins@hobbiton.example\","
    "\"use\":\"sig\",\"n\":\"" RFC7520_N "\",\"e\":\"AQAB\"}";

static const char ec_jwk[] =
    "{\"kty\":\"EC\",\"kid\":\"bilbo.baggins@hobbiton.example\","
    "\"use\":\"sig\",\"crv\":\"P-521\","
    "\"x\":\"AHKZLLOsCOzz5cY97ewNUajB957y-C-U88c3v13nmGZx6sYl_oJXu9"
    "A5RkTKqjqvjyekWF-7ytDyRXYgCF5cj0Kt\","
    "\"y\":\"AdymlHvOiLxXkEhayXQnNCvDX4h9htZaCJN34kfmC6pV5OhQHiraVy"
    "SsUdaQkAgDPrwQrJmbnX9cwlGfP-HqHZR1\"}";

static const char ed_jwk[] =
    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
    "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}";

/* RFC 7520 Figure 8, the payload every section 4 example signs. */
#define RFC7520_PAYLOAD                                                        \
  "SXTigJlzIGEgZGFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IH"             \
  "lvdXIgZG9vci4gWW91IHN0ZXAgb250byB0aGUgcm9hZCwgYW5kIGlmIHlvdSBk"             \
  "b24ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5vIGtub3dpbmcgd2hlcm"             \
  "UgeW91IG1pZ2h0IGJlIHN3ZXB0IG9mZiB0by4"

/* RFC 7520 Figure 13 (4.1, RS256). */
static const char jws_4_1[] =
    "eyJhbGciOiJSUzI1NiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZX"
    "hhbXBsZSJ9"
    "." RFC7520_PAYLOAD "."
    "MRjdkly7_-oTPTS3AXP41iQIGKa80A0ZmTuV5MEaHoxnW2e5CZ5NlKtainoFmK"
    "ZopdHM1O2U4mwzJdQx996ivp83xuglII7PNDi84wnB-BDkoBwA78185hX-Es4J"
    "IwmDLJK3lfWRa-XtL0RnltuYv746iYTh_qHRD68BNt1uSNCrUCTJDt5aAE6x8w"
    "W1Kt9eRo4QPocSadnHXFxnt8Is9UzpERV0ePPQdLuW3IS_de3xyIrDaLGdjluP"
    "xUAhb6L2aXic1U12podGU0KLUQSE_oI-ZnmKJ3F4uOZDnd6QZWJushZ41Axf_f"
    "cIe8u9ipH84ogoree7vjbU5y18kDquDg";

/* RFC 7520 Figure 20 (4.2, PS384). */
static const char jws_4_2[] =
    "eyJhbGciOiJQUzM4NCIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZX"
    "hhbXBsZSJ9"
    "." RFC7520_PAYLOAD "."
    "cu22eBqkYDKgIlTpzDXGvaFfz6WGoz7fUDcfT0kkOy42miAh2qyBzk1xEsnk2I"
    "pN6-tPid6VrklHkqsGqDqHCdP6O8TTB5dDDItllVo6_1OLPpcbUrhiUSMxbbXU"
    "vdvWXzg-UD8biiReQFlfz28zGWVsdiNAUf8ZnyPEgVFn442ZdNqiVJRmBqrYRX"
    "e8P_ijQ7p8Vdz0TTrxUeT3lm8d9shnr2lfJT8ImUjvAA2Xez2Mlp8cBE5awDzT"
    "0qI0n6uiP1aCN_2_jLAeQTlqRHtfa64QQSUmFAAjVKPbByi7xho0uTOcbH510a"
    "6GYmJUAfmWjwZ6oD4ifKo8DYM-X72Eaw";

/* RFC 7520 Figure 27 (4.3, ES512). */
static const char jws_4_3[] =
    "eyJhbGciOiJFUzUxMiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZX"
    "hhbXBsZSJ9"
    "." RFC7520_PAYLOAD "."
    "AE_R_YZCChjn4791jSQCrdPZCNYqHXCTZH0-JZGYNlaAjP2kqaluUIIUnC9qvb"
    "u9Plon7KRTzoNEuT4Va2cmL1eJAQy3mtPBu_u_sDDyYjnAMDxXPn7XrT0lw-kv"
    "AD890jl8e2puQens_IEKBpHABlsbEPX6sFY8OcGDqoRuBomu9xQ2";

/* RFC 8037 A.4 (EdDSA over "Example of Ed25519 signing"). */
static const char jws_8037[] =
    "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc."
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7"
    "sVvpAr_MuM0KAg";

static struct wif_jwk *load_key(const char *json) {
  struct wif_json_doc *doc = NULL;
  struct wif_jwk *key = NULL;
  struct wif_error err;

  assert_int_equal(wif_json_parse(json, strlen(json), 4, &doc, &err), WIF_OK);
  if (wif_jwk_parse(doc, wif_json_root(doc), &key, &err) != WIF_OK)
    fail_msg("key rejected: %s", err.msg);
  wif_json_free(doc);
  return key;
}

/* Parses the token and verifies it as the module would: alg from the
 * header, checked against the key, then the signature. */
static wif_rc check(const char *key_json, const char *token,
                    enum wif_alg want_alg) {
  struct wif_jwk *key = load_key(key_json);
  struct wif_jwt *jwt = NULL;
  struct wif_error err;
  wif_rc rc;

  rc = wif_jwt_parse(token, strlen(token), &jwt, &err);
  if (rc != WIF_OK)
    fail_msg("jwt parse: %s", err.msg);
  assert_true(jwt->alg_known);
  assert_int_equal(jwt->alg, want_alg);
  rc = wif_verify_signature(
      key, jwt->alg, (const unsigned char *)jwt->signing_input,
      jwt->signing_input_len, jwt->signature, jwt->signature_len);
  if (rc == WIF_OK) {
    /* The same token with its last signature octet changed must fail. */
    jwt->signature[jwt->signature_len - 1] ^= 0x01;
    assert_int_equal(
        wif_verify_signature(
            key, jwt->alg, (const unsigned char *)jwt->signing_input,
            jwt->signing_input_len, jwt->signature, jwt->signature_len),
        WIF_E_BAD_SIGNATURE);
  }
  wif_jwt_free(jwt);
  wif_jwk_free(key);
  return rc;
}

static void test_rfc7520_4_1_rs256(void **state) {
  (void)state;
  assert_int_equal(check(rsa_jwk, jws_4_1, WIF_ALG_RS256), WIF_OK);
}

static void test_rfc7520_4_2_ps384(void **state) {
  (void)state;
  assert_int_equal(check(rsa_jwk, jws_4_2, WIF_ALG_PS384), WIF_OK);
}

static void test_rfc7520_4_3_es512(void **state) {
  (void)state;
  assert_int_equal(check(ec_jwk, jws_4_3, WIF_ALG_ES512), WIF_OK);
}

static void test_rfc8037_a4_ed25519(void **state) {
  (void)state;
  assert_int_equal(check(ed_jwk, jws_8037, WIF_ALG_EDDSA), WIF_OK);
}

/* D10: the Wycheproof copy of the RSA key says "alg":"PS256"; the RFC's
 * PS384 token is then refused before any signature work. */
static void test_alg_hint_conflict(void **state) {
  static const char hinted[] =
      "{\"kty\":\"RSA\",\"alg\":\"PS256\","
      "\"kid\":\"bilbo.baggins@hobbiton.example\","
      "\"use\":\"sig\",\"n\":\"" RFC7520_N "\",\"e\":\"AQAB\"}";
  (void)state;
  assert_int_equal(check(hinted, jws_4_2, WIF_ALG_PS384),
                   WIF_E_ALG_NOT_ALLOWED);
}

/* An RSA key also verifies the RS256 example only as RS256: the same
 * signature checked as PS256 fails. */
static void test_rfc7520_wrong_padding(void **state) {
  struct wif_jwk *key = load_key(rsa_jwk);
  struct wif_jwt *jwt = NULL;
  (void)state;

  assert_int_equal(wif_jwt_parse(jws_4_1, strlen(jws_4_1), &jwt, NULL), WIF_OK);
  assert_int_equal(
      wif_verify_signature(
          key, WIF_ALG_PS256, (const unsigned char *)jwt->signing_input,
          jwt->signing_input_len, jwt->signature, jwt->signature_len),
      WIF_E_BAD_SIGNATURE);
  wif_jwt_free(jwt);
  wif_jwk_free(key);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rfc7520_4_1_rs256),
      cmocka_unit_test(test_rfc7520_4_2_ps384),
      cmocka_unit_test(test_rfc7520_4_3_es512),
      cmocka_unit_test(test_rfc8037_a4_ed25519),
      cmocka_unit_test(test_alg_hint_conflict),
      cmocka_unit_test(test_rfc7520_wrong_padding),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
