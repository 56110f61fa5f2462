/* SPDX-License-Identifier: Apache-2.0 */
/* The validation pipeline end to end, with real keys and signatures. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "validate.h"

#define ISS "https://issuer.example/tenant"
#define ISS2 "https://other.example/"
#define AUD "api://pam-wif"

struct fixture {
  struct wif_config *cfg;
  struct wif_validator *v;
};

static void set(struct wif_config *cfg, struct wif_provider *p, const char *key,
                const char *value) {
  struct wif_error err;
  if (wif_config_set(cfg, p, key, value, &err) != WIF_OK)
    fail_msg("%s = %s: %s", key, value, err.msg);
}

static int setup(void **state) {
  struct fixture *f = calloc(1, sizeof(*f));
  struct wif_provider *p;
  struct wif_error err;

  f->cfg = wif_config_new("test.conf");
  assert_non_null(f->cfg);
  assert_int_equal(wif_config_add_provider(f->cfg, "main", &p, &err), WIF_OK);
  set(f->cfg, p, "issuer", ISS);
  set(f->cfg, p, "audience", AUD);
  set(f->cfg, p, "algorithms",
      "RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA");
  assert_int_equal(wif_config_add_provider(f->cfg, "other", &p, &err), WIF_OK);
  set(f->cfg, p, "issuer", ISS2);
  set(f->cfg, p, "audience", AUD);
  assert_int_equal(wif_config_finish(f->cfg, &err), WIF_OK);
  f->v = wif_validator_new(f->cfg, getuid(), NULL);
  assert_non_null(f->v);
  /* E21: both providers hold the very same keys. */
  assert_int_equal(wif_validator_set_keys(f->v, &f->cfg->providers[0],
                                          wif_test_jwks("jwks.json")),
                   WIF_OK);
  assert_int_equal(wif_validator_set_keys(f->v, &f->cfg->providers[1],
                                          wif_test_jwks("jwks.json")),
                   WIF_OK);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fixture *f = *state;
  wif_validator_free(f->v);
  wif_config_free(f->cfg);
  free(f);
  return 0;
}

static wif_rc run(struct fixture *f, const char *token, struct wif_error *err,
                  struct wif_result *r) {
  wif_rc rc = wif_validate(f->v, token, strlen(token), WIF_TEST_NOW, r, err);
  return rc;
}

static wif_rc check(struct fixture *f, const char *token) {
  struct wif_result r;
  struct wif_error err;
  wif_rc rc = run(f, token, &err, &r);
  wif_result_clear(&r);
  return rc;
}

#define CLAIMS_FMT                                                             \
  "{\"iss\":\"%s\",\"aud\":\"%s\",\"sub\":\"%s\",\"exp\":%lld,\"iat\":%lld}"

static char *good_claims(char *buf, size_t n, const char *iss) {
  snprintf(buf, n, CLAIMS_FMT, iss, AUD, "workload-1",
           (long long)WIF_TEST_NOW + 3600, (long long)WIF_TEST_NOW - 10);
  return buf;
}

static void test_all_ten_algorithms(void **state) {
  static const char *kids[] = {"rs256", "rs384", "rs512", "ps256", "ps384",
                               "ps512", "es256", "es384", "es512", "eddsa"};
  static const char *algs[] = {"RS256", "RS384", "RS512", "PS256", "PS384",
                               "PS512", "ES256", "ES384", "ES512", "EdDSA"};
  struct fixture *f = *state;
  char claims[512];

  for (size_t i = 0; i < 10; i++) {
    char *t = wif_test_sign(kids[i], algs[i], NULL,
                            good_claims(claims, sizeof(claims), ISS));
    struct wif_result r;
    struct wif_error err;
    wif_rc rc = run(f, t, &err, &r);
    if (rc != WIF_OK)
      fail_msg("%s: %s", algs[i], err.msg);
    assert_ptr_equal(r.provider, &f->cfg->providers[0]);
    assert_string_equal(r.identity.subject, "workload-1");
    assert_int_equal(r.identity.exp, WIF_TEST_NOW + 3600);
    wif_result_clear(&r);
    free(t);
  }
}

static void test_unknown_issuer(void **state) {
  struct fixture *f = *state;
  char claims[512];
  char *t = wif_test_sign(
      "rs256", "RS256", NULL,
      good_claims(claims, sizeof(claims), "https://issuer.example/tenant/"));
  struct wif_result r;
  struct wif_error err;

  assert_int_equal(run(f, t, &err, &r), WIF_E_ISS_MISMATCH);
  assert_null(r.provider);
  assert_non_null(strstr(err.msg, "https://issuer.example/tenant/"));
  /* The near miss is named (issue 12), and still refused. */
  assert_non_null(strstr(err.msg, "provider \"main\" has "
                                  "\"https://issuer.example/tenant\", which "
                                  "differs only by a trailing slash"));
  wif_result_clear(&r);
  free(t);
  /* Scheme and slash: http://other.example names "other". */
  t = wif_test_sign(
      "rs256", "RS256", NULL,
      good_claims(claims, sizeof(claims), "http://other.example"));
  assert_int_equal(run(f, t, &err, &r), WIF_E_ISS_MISMATCH);
  assert_null(r.provider);
  assert_non_null(strstr(err.msg, "provider \"other\" has"));
  wif_result_clear(&r);
  free(t);
  /* Anything else: no hint. */
  t = wif_test_sign(
      "rs256", "RS256", NULL,
      good_claims(claims, sizeof(claims), "https://issuer.example/tenant2"));
  assert_int_equal(run(f, t, &err, &r), WIF_E_ISS_MISMATCH);
  assert_null(strstr(err.msg, "differs only"));
  wif_result_clear(&r);
  free(t);
}

/* E21: provider "other" trusts the same keys, but the token still goes to
 * the provider its iss names, with that provider's rules. */
static void test_e21_keys_bound_to_issuer(void **state) {
  struct fixture *f = *state;
  char claims[512];
  char *t = wif_test_sign("es256", "ES256", NULL,
                          good_claims(claims, sizeof(claims), ISS2));
  struct wif_result r;
  struct wif_error err;

  /* "other" allows only the default RS256. */
  assert_int_equal(run(f, t, &err, &r), WIF_E_ALG_NOT_ALLOWED);
  assert_ptr_equal(r.provider, &f->cfg->providers[1]);
  wif_result_clear(&r);
  free(t);
}

/* B1, B3: none and HS256 never pass, whatever the signature holds. */
static void test_b1_b3_none_and_hmac(void **state) {
  struct fixture *f = *state;
  char claims[512];
  char *p, *t, *h;
  struct wif_error err;
  struct wif_result r;

  good_claims(claims, sizeof(claims), ISS);
  p = wif_test_b64(claims, strlen(claims));
  h = wif_test_b64("{\"alg\":\"none\"}", 14);
  t = wif_test_join(h, p, "");
  assert_int_equal(run(f, t, &err, &r), WIF_E_ALG_NOT_ALLOWED);
  assert_non_null(strstr(err.msg, "never accepted"));
  wif_result_clear(&r);
  free(t);
  free(h);
  h = wif_test_b64("{\"alg\":\"HS256\",\"kid\":\"rs256\"}", 29);
  t = wif_test_join(h, p, "c2lnbmF0dXJlLWJ5dGVzLWJ5LWF0dGFja2Vy");
  assert_int_equal(run(f, t, &err, &r), WIF_E_ALG_NOT_ALLOWED);
  wif_result_clear(&r);
  free(t);
  free(h);
  free(p);
}

/* B4: a key carrying alg RS256 cannot verify an RS512 token even when the
 * provider allows RS512. */
static void test_b4_key_bound_to_alg(void **state) {
  struct fixture *f = *state;
  char claims[512];
  char *t = wif_test_sign("rs256", "RS512", NULL,
                          good_claims(claims, sizeof(claims), ISS));
  assert_int_equal(check(f, t), WIF_E_ALG_NOT_ALLOWED);
  free(t);
}

static void test_kid_not_found(void **state) {
  struct fixture *f = *state;
  char claims[512];
  char *t = wif_test_sign("rs256", "RS256",
                          "{\"alg\":\"RS256\",\"kid\":\"../../etc/passwd\"}",
                          good_claims(claims, sizeof(claims), ISS));
  struct wif_error err;
  struct wif_result r;
  assert_int_equal(run(f, t, &err, &r), WIF_E_KEY_NOT_FOUND);
  assert_non_null(strstr(err.msg, "../../etc/passwd"));
  wif_result_clear(&r);
  free(t);
}

/* B7: a key embedded in the header is never used. */
static void test_b7_embedded_jwk_ignored(void **state) {
  struct fixture *f = *state;
  char claims[512], header[2048];
  char *jwk_path = wif_test_key_path("rsa1024.jwk.json");
  char *jwk = wif_test_read(jwk_path, NULL);
  /* Signed with a key the issuer never published, which it embeds. */
  snprintf(header, sizeof(header), "{\"alg\":\"RS256\",\"jwk\":%s}", jwk);
  char *t = wif_test_sign("rsa1024", "RS256", header,
                          good_claims(claims, sizeof(claims), ISS));
  assert_int_equal(check(f, t), WIF_E_BAD_SIGNATURE);
  free(t);
  free(jwk);
  free(jwk_path);
}

/* B13: without a kid, only keys that allow the alg are tried. */
static void test_b13_no_kid(void **state) {
  struct fixture *f = *state;
  char claims[512];
  char *t = wif_test_sign("es384", "ES384", "{\"alg\":\"ES384\"}",
                          good_claims(claims, sizeof(claims), ISS));
  assert_int_equal(check(f, t), WIF_OK);
  free(t);
  /* Signed by a key outside the set: no candidate verifies. */
  t = wif_test_sign("rsa1024", "RS256", "{\"alg\":\"RS256\"}",
                    good_claims(claims, sizeof(claims), ISS));
  assert_int_equal(check(f, t), WIF_E_BAD_SIGNATURE);
  free(t);
}

/* C10: one flipped bit anywhere fails. */
static void test_c10_bit_flips(void **state) {
  struct fixture *f = *state;
  char claims[512];
  char *t = wif_test_sign("es256", "ES256", NULL,
                          good_claims(claims, sizeof(claims), ISS));
  size_t len = strlen(t);

  for (size_t i = 0; i < len; i += 7) {
    char saved = t[i];
    if (saved == '.')
      continue;
    t[i] = saved == 'A' ? 'B' : 'A';
    assert_int_not_equal(check(f, t), WIF_OK);
    t[i] = saved;
  }
  assert_int_equal(check(f, t), WIF_OK);
  free(t);
}

/* C11: a bad signature is reported as such even on an expired token. */
static void test_c11_signature_before_claims(void **state) {
  struct fixture *f = *state;
  char claims[512];
  snprintf(claims, sizeof(claims), CLAIMS_FMT, ISS, AUD, "w",
           (long long)WIF_TEST_NOW - 7200, (long long)WIF_TEST_NOW - 9000);
  char *t = wif_test_sign("rs256", "RS256", NULL, claims);
  assert_int_equal(check(f, t), WIF_E_EXPIRED);
  t[strlen(t) - 3] = t[strlen(t) - 3] == 'A' ? 'B' : 'A';
  assert_int_equal(check(f, t), WIF_E_BAD_SIGNATURE);
  free(t);
}

/* Claims problems come through with their own reasons. */
static void test_claim_reasons(void **state) {
  struct fixture *f = *state;
  char claims[512];
  char *t;

  snprintf(claims, sizeof(claims), CLAIMS_FMT, ISS, "api://else", "w",
           (long long)WIF_TEST_NOW + 60, (long long)WIF_TEST_NOW);
  t = wif_test_sign("ps256", "PS256", NULL, claims);
  assert_int_equal(check(f, t), WIF_E_AUD_MISMATCH);
  free(t);
  t = wif_test_sign("eddsa", "EdDSA", NULL, "{\"aud\":\"" AUD "\",\"exp\":1}");
  assert_int_equal(check(f, t), WIF_E_ISS_MISMATCH);
  free(t);
  t = wif_test_sign("eddsa", "EdDSA", NULL, "{\"iss\":[\"" ISS "\"]}");
  assert_int_equal(check(f, t), WIF_E_ISS_MISMATCH);
  free(t);
  snprintf(claims, sizeof(claims),
           "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":%lld}",
           (long long)WIF_TEST_NOW + 60);
  t = wif_test_sign("eddsa", "EdDSA", NULL, claims);
  assert_int_equal(check(f, t), WIF_E_CLAIM_MISSING); /* no sub */
  free(t);
}

static void test_result_kept_on_failure(void **state) {
  struct fixture *f = *state;
  char claims[512];
  snprintf(claims, sizeof(claims), CLAIMS_FMT, ISS, AUD, "w",
           (long long)WIF_TEST_NOW - 7200, (long long)WIF_TEST_NOW - 9000);
  char *t = wif_test_sign("rs384", "RS384", NULL, claims);
  struct wif_result r;
  struct wif_error err;

  assert_int_equal(run(f, t, &err, &r), WIF_E_EXPIRED);
  assert_ptr_equal(r.provider, &f->cfg->providers[0]);
  assert_non_null(r.jwt);
  assert_memory_equal(r.jwt->kid, "rs384", 5);
  assert_null(r.identity.subject);
  wif_result_clear(&r);
  free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_all_ten_algorithms),
      cmocka_unit_test(test_unknown_issuer),
      cmocka_unit_test(test_e21_keys_bound_to_issuer),
      cmocka_unit_test(test_b1_b3_none_and_hmac),
      cmocka_unit_test(test_b4_key_bound_to_alg),
      cmocka_unit_test(test_kid_not_found),
      cmocka_unit_test(test_b7_embedded_jwk_ignored),
      cmocka_unit_test(test_b13_no_kid),
      cmocka_unit_test(test_c10_bit_flips),
      cmocka_unit_test(test_c11_signature_before_claims),
      cmocka_unit_test(test_claim_reasons),
      cmocka_unit_test(test_result_kept_on_failure),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
