/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for claims.c: SECURITY-CASES section E and the limits. */
#include "testutil.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claims.h"
#include "json.h"

#define NOW WIF_TEST_NOW
#define SKEW INT64_C(60)
#define ISSUER "https://issuer.example/x"
#define ISS "\"iss\":\"" ISSUER "\""
#define AUD "\"aud\":\"api://pam-wif\""
#define SUB "\"sub\":\"alice\""
#define BASE ISS "," AUD "," SUB
#define EXP_OK (NOW + 3600)

static char aud0[] = "api://pam-wif", aud1[] = "api://second";
static char *audiences[] = {aud0, aud1};

static struct wif_provider provider(void) {
  struct wif_provider p;

  memset(&p, 0, sizeof(p));
  p.name = wif_test_str("azure-prod");
  p.issuer = wif_test_str(ISSUER);
  p.audiences = audiences;
  p.n_audiences = 2;
  p.user_claim = wif_test_str("sub");
  p.groups_claim = wif_test_str("groups");
  return p;
}

static char *vformat(const char *fmt, va_list ap) {
  va_list ap2;
  int n;
  char *s;

  va_copy(ap2, ap);
  n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  assert_true(n >= 0);
  s = malloc((size_t)n + 1);
  assert_non_null(s);
  assert_int_equal(vsnprintf(s, (size_t)n + 1, fmt, ap), n);
  return s;
}

static char *format(const char *fmt, ...) {
  va_list ap;
  char *s;

  va_start(ap, fmt);
  s = vformat(fmt, ap);
  va_end(ap);
  return s;
}

static struct wif_json_doc *parse(const char *json) {
  struct wif_json_doc *doc = NULL;
  struct wif_error err;

  if (wif_json_parse(json, strlen(json), 16, &doc, &err) != WIF_OK)
    fail_msg("cannot parse %s: %s", json, err.msg);
  assert_non_null(doc);
  return doc;
}

/* Checks the formatted claims against p; the error must agree with the
 * result and a failure must explain itself. */
static wif_rc vrun(const struct wif_provider *p, int64_t skew, int64_t now,
                   struct wif_error *err, const char *fmt, va_list ap) {
  char *json = vformat(fmt, ap);
  struct wif_json_doc *doc = parse(json);
  struct wif_identity id;
  wif_rc rc;

  rc = wif_claims_check(doc, p, skew, now, &id, err);
  if (rc == WIF_OK) {
    assert_int_equal(err->rc, WIF_OK);
    assert_non_null(id.subject);
  } else {
    assert_int_equal(err->rc, rc);
    assert_true(strlen(err->msg) > 0);
    assert_null(id.subject);
    assert_null(id.groups);
  }
  wif_identity_clear(&id);
  wif_json_free(doc);
  free(json);
  return rc;
}

static wif_rc run_p(const struct wif_provider *p, int64_t skew,
                    struct wif_error *err, const char *fmt, ...) {
  va_list ap;
  wif_rc rc;

  va_start(ap, fmt);
  rc = vrun(p, skew, NOW, err, fmt, ap);
  va_end(ap);
  return rc;
}

/* Default provider and skew. */
static wif_rc run(const char *fmt, ...) {
  struct wif_provider p = provider();
  struct wif_error err;
  va_list ap;
  wif_rc rc;

  va_start(ap, fmt);
  rc = vrun(&p, SKEW, NOW, &err, fmt, ap);
  va_end(ap);
  return rc;
}

static void expect_msg(const struct wif_error *err, const char *part) {
  if (strstr(err->msg, part) == NULL)
    fail_msg("message \"%s\" lacks \"%s\"", err->msg, part);
}

static void test_valid_minimal(void **state) {
  struct wif_provider p = provider();
  char *json = format("{" BASE ",\"exp\":%" PRId64 "}", EXP_OK);
  struct wif_json_doc *doc = parse(json);
  struct wif_identity id;
  struct wif_error err;

  (void)state;
  assert_int_equal(wif_claims_check(doc, &p, SKEW, NOW, &id, &err), WIF_OK);
  assert_int_equal(err.rc, WIF_OK);
  assert_string_equal(id.issuer, ISSUER);
  assert_string_equal(id.subject, "alice");
  assert_int_equal(id.subject_len, 5);
  assert_null(id.groups);
  assert_int_equal(id.n_groups, 0);
  assert_true(id.exp == EXP_OK);
  assert_true(id.iat == INT64_MIN);
  assert_true(id.nbf == INT64_MIN);
  wif_identity_clear(&id);
  assert_null(id.subject);
  wif_identity_clear(NULL);
  wif_json_free(doc);
  free(json);
}

static void test_valid_full(void **state) {
  struct wif_provider p = provider();
  char *json = format("{" BASE ",\"exp\":%" PRId64 ",\"nbf\":%" PRId64
                      ",\"iat\":%" PRId64 ",\"groups\":[\"g1\",\"g2\"]}",
                      EXP_OK, NOW - 10, NOW - 5);
  struct wif_json_doc *doc = parse(json);
  struct wif_identity id;

  (void)state;
  assert_int_equal(wif_claims_check(doc, &p, SKEW, NOW, &id, NULL), WIF_OK);
  assert_true(id.nbf == NOW - 10);
  assert_true(id.iat == NOW - 5);
  assert_int_equal(id.n_groups, 2);
  assert_string_equal(id.groups[0], "g1");
  assert_string_equal(id.groups[1], "g2");
  wif_identity_clear(&id);
  assert_null(id.groups);
  assert_int_equal(id.n_groups, 0);
  wif_json_free(doc);
  free(json);
}

/* The output is cleared first and stays cleared on failure. */
static void test_output_cleared_on_failure(void **state) {
  struct wif_provider p = provider();
  struct wif_json_doc *doc = parse("{" BASE ",\"exp\":1}");
  struct wif_identity id;
  struct wif_error err;

  (void)state;
  memset(&id, 0x5a, sizeof(id));
  assert_int_equal(wif_claims_check(doc, &p, SKEW, NOW, &id, &err),
                   WIF_E_EXPIRED);
  assert_null(id.issuer);
  assert_null(id.subject);
  assert_null(id.groups);
  assert_int_equal(id.n_groups, 0);
  assert_true(id.exp == 0);
  /* err may be NULL. */
  assert_int_equal(wif_claims_check(doc, &p, SKEW, NOW, &id, NULL),
                   WIF_E_EXPIRED);
  wif_json_free(doc);
}

static void test_bad_arguments(void **state) {
  struct wif_provider p = provider();
  struct wif_json_doc *doc = parse("{" BASE ",\"exp\":9999999999}");
  struct wif_json_doc *arr = parse("[{\"exp\":9999999999}]");
  struct wif_identity id;
  struct wif_error err;

  (void)state;
  assert_int_equal(wif_claims_check(NULL, &p, SKEW, NOW, &id, &err),
                   WIF_E_INTERNAL);
  assert_int_equal(wif_claims_check(doc, NULL, SKEW, NOW, &id, &err),
                   WIF_E_INTERNAL);
  assert_int_equal(wif_claims_check(doc, &p, SKEW, NOW, NULL, &err),
                   WIF_E_INTERNAL);
  assert_int_equal(wif_claims_check(doc, &p, -1, NOW, &id, &err),
                   WIF_E_INTERNAL);
  /* A13: the claims set must be an object. */
  assert_int_equal(wif_claims_check(arr, &p, SKEW, NOW, &id, &err),
                   WIF_E_MALFORMED);
  wif_json_free(doc);
  wif_json_free(arr);
}

/* E1: exp is required. */
static void test_e1_exp_missing(void **state) {
  (void)state;
  assert_int_equal(run("{" BASE "}"), WIF_E_CLAIM_MISSING);
  assert_int_equal(
      run("{" BASE ",\"nbf\":%" PRId64 ",\"iat\":%" PRId64 "}", NOW, NOW),
      WIF_E_CLAIM_MISSING);
}

/* E2: exp == now, now - skew - 1 and now - skew are expired; now - skew + 1
 * is accepted. */
static void test_e2_exp_boundaries(void **state) {
  struct wif_provider p = provider();
  struct wif_error err;
  const char *f = "{" BASE ",\"exp\":%" PRId64 "}";

  (void)state;
  assert_int_equal(run_p(&p, 0, &err, f, NOW), WIF_E_EXPIRED);
  assert_int_equal(run_p(&p, 0, &err, f, NOW + 1), WIF_OK);
  assert_int_equal(run_p(&p, SKEW, &err, f, NOW), WIF_OK);
  assert_int_equal(run_p(&p, SKEW, &err, f, NOW - SKEW - 1), WIF_E_EXPIRED);
  assert_int_equal(run_p(&p, SKEW, &err, f, NOW - SKEW), WIF_E_EXPIRED);
  assert_int_equal(run_p(&p, SKEW, &err, f, NOW - SKEW + 1), WIF_OK);
}

static void test_e2_expired_message(void **state) {
  struct wif_provider p = provider();
  struct wif_error err;

  (void)state;
  assert_int_equal(
      run_p(&p, SKEW, &err, "{" BASE ",\"exp\":%" PRId64 "}", NOW - 3600),
      WIF_E_EXPIRED);
  assert_string_equal(err.msg, "token expired at 2025-12-31T23:00:00Z, "
                               "3600 s ago (clock_skew 60 s)");
}

/* E3: nbf == now passes; nbf beyond now + skew is not yet valid. */
static void test_e3_nbf_boundaries(void **state) {
  struct wif_provider p = provider();
  struct wif_error err;
  const char *f = "{" BASE ",\"exp\":%" PRId64 ",\"nbf\":%" PRId64 "}";

  (void)state;
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK, NOW), WIF_OK);
  assert_int_equal(run_p(&p, 0, &err, f, EXP_OK, NOW), WIF_OK);
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK, NOW + SKEW), WIF_OK);
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK, NOW + SKEW + 1),
                   WIF_E_NOT_YET_VALID);
  expect_msg(&err, "61 s from now (clock_skew 60 s)");
  assert_int_equal(run_p(&p, 0, &err, f, EXP_OK, NOW + 1), WIF_E_NOT_YET_VALID);
}

/* E4: iat beyond now + skew is rejected; an old iat is bounded by
 * max_token_age through the lifetime, since exp must still be ahead. */
static void test_e4_iat(void **state) {
  struct wif_provider p = provider();
  struct wif_error err;
  const char *f = "{" BASE ",\"exp\":%" PRId64 ",\"iat\":%" PRId64 "}";

  (void)state;
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK, NOW + SKEW), WIF_OK);
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK, NOW + SKEW + 1),
                   WIF_E_IAT_INVALID);
  expect_msg(&err, "issued in the future");
  assert_int_equal(run_p(&p, 0, &err, f, EXP_OK, NOW + 1), WIF_E_IAT_INVALID);
  p.max_token_age = 86400;
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK, NOW - 86400 * 30),
                   WIF_E_LIFETIME);
}

/* E8: exp - iat against max_token_age, with iat then required. */
static void test_e8_lifetime(void **state) {
  struct wif_provider p = provider();
  struct wif_error err;
  const char *f = "{" BASE ",\"exp\":%" PRId64 ",\"iat\":%" PRId64 "}";

  (void)state;
  p.max_token_age = 3600;
  assert_int_equal(run_p(&p, SKEW, &err, f, NOW + 3000, NOW - 600), WIF_OK);
  assert_int_equal(run_p(&p, SKEW, &err, f, NOW + 3001, NOW - 600),
                   WIF_E_LIFETIME);
  expect_msg(&err, "3601 s, more than max_token_age 3600 s of provider "
                   "\"azure-prod\"");
  /* Without iat, exp - now is bounded. */
  assert_int_equal(
      run_p(&p, SKEW, &err, "{" BASE ",\"exp\":%" PRId64 "}", NOW + 3600),
      WIF_OK);
  assert_int_equal(
      run_p(&p, SKEW, &err, "{" BASE ",\"exp\":%" PRId64 "}", NOW + 3601),
      WIF_E_LIFETIME);
  expect_msg(&err, "exp - now (no iat) is 3601 s");
  /* Fractions round against the token: 3599.5 s passes, 3600.75 s not. */
  assert_int_equal(run_p(&p, SKEW, &err,
                         "{" BASE ",\"exp\":%" PRId64 ".0,\"iat\":%" PRId64
                         ".5}",
                         NOW + 3499, NOW - 101),
                   WIF_OK);
  assert_int_equal(run_p(&p, SKEW, &err,
                         "{" BASE ",\"exp\":%" PRId64 ".25,\"iat\":%" PRId64
                         ".5}",
                         NOW + 3500, NOW - 101),
                   WIF_E_LIFETIME);
  /* 3600.25 s through exp alone, then through iat alone. */
  assert_int_equal(run_p(&p, SKEW, &err,
                         "{" BASE ",\"exp\":%" PRId64 ".25,\"iat\":%" PRId64
                         "}",
                         NOW + 3499, NOW - 101),
                   WIF_E_LIFETIME);
  assert_int_equal(run_p(&p, SKEW, &err,
                         "{" BASE ",\"exp\":%" PRId64 ",\"iat\":%" PRId64
                         ".75}",
                         NOW + 3499, NOW - 102),
                   WIF_E_LIFETIME);
  /* No limit: a ten-year token without iat passes. */
  p.max_token_age = 0;
  assert_int_equal(run_p(&p, SKEW, &err, "{" BASE ",\"exp\":%" PRId64 "}",
                         NOW + INT64_C(315360000)),
                   WIF_OK);
}

static struct wif_config *parse_config(const char *text) {
  struct wif_config *cfg = NULL;
  struct wif_error err;

  if (wif_config_parse(text, strlen(text), "t.conf", &cfg, &err) != WIF_OK)
    fail_msg("config: %s", err.msg);
  return cfg;
}

/* The default cap (90000 s + clock_skew) of a provider that sets none,
 * and max_token_age = 0 written out. */
static void test_default_lifetime_cap(void **state) {
  struct wif_config *cfg = parse_config("[global]\nclock_skew = 120\n"
                                        "[provider azure]\n"
                                        "issuer = " ISSUER "\n"
                                        "audience = api://pam-wif\n"
                                        "[provider open]\n"
                                        "issuer = https://issuer.example/open\n"
                                        "audience = api://pam-wif\n"
                                        "max_token_age = 0\n");
  const struct wif_provider *p = &cfg->providers[0];
  struct wif_error err;
  const char *with_iat = "{" BASE ",\"exp\":%" PRId64 ",\"iat\":%" PRId64 "}";
  const char *no_iat = "{" BASE ",\"exp\":%" PRId64 "}";

  (void)state;
  assert_int_equal(p->max_token_age, 90000 + 120);
  /* exp = 2^53, with or without iat. */
  assert_int_equal(
      run_p(p, cfg->clock_skew, &err, no_iat, INT64_C(9007199254740992)),
      WIF_E_LIFETIME);
  expect_msg(&err, "max_token_age 90120 s");
  assert_int_equal(run_p(p, cfg->clock_skew, &err, with_iat,
                         INT64_C(9007199254740992), NOW - 10),
                   WIF_E_LIFETIME);
  /* A month-long token. */
  assert_int_equal(
      run_p(p, cfg->clock_skew, &err, with_iat, NOW + 30 * 86400, NOW - 10),
      WIF_E_LIFETIME);
  /* Azure managed identity: 24 h, Entra's iat (and nbf) 5 minutes early. */
  assert_int_equal(run_p(p, cfg->clock_skew, &err,
                         "{" BASE ",\"exp\":%" PRId64 ",\"iat\":%" PRId64
                         ",\"nbf\":%" PRId64 "}",
                         NOW + 86400, NOW - 300, NOW - 300),
                   WIF_OK);
  /* The edge: 90120 s passes, one more does not. */
  assert_int_equal(
      run_p(p, cfg->clock_skew, &err, with_iat, NOW + 90000, NOW - 120),
      WIF_OK);
  assert_int_equal(
      run_p(p, cfg->clock_skew, &err, with_iat, NOW + 90001, NOW - 120),
      WIF_E_LIFETIME);
  /* Written as 0: no limit at all. */
  p = &cfg->providers[1];
  assert_int_equal(p->max_token_age, 0);
  assert_int_equal(run_p(p, cfg->clock_skew, &err,
                         "{\"iss\":\"https://issuer.example/open\"," AUD "," SUB
                         ",\"exp\":9007199254740992}"),
                   WIF_OK);
  wif_config_free(cfg);
}

/* E5: NumericDates must be JSON numbers. */
static void test_e5_date_types(void **state) {
  static const char *claims[] = {"exp", "nbf", "iat"};
  static const char *values[] = {"\"1700000000\"", "null", "true", "[]", "{}"};

  (void)state;
  for (size_t c = 0; c < 3; c++) {
    for (size_t v = 0; v < 5; v++) {
      wif_rc rc;

      if (c == 0)
        rc = run("{" BASE ",\"exp\":%s}", values[v]);
      else
        rc = run("{" BASE ",\"exp\":%" PRId64 ",\"%s\":%s}", EXP_OK, claims[c],
                 values[v]);
      if (rc != WIF_E_CLAIM_TYPE)
        fail_msg("%s = %s gave %s", claims[c], values[v], wif_rc_name(rc));
    }
  }
}

/* E6: reals are NumericDates; exp rounds down, nbf and iat round up. */
static void test_e6_real_dates(void **state) {
  struct wif_provider p = provider();
  struct wif_json_doc *doc;
  struct wif_identity id;
  struct wif_error err;

  (void)state;
  /* 1.7e9 and 1700000000.5 parse (not CLAIM_TYPE) and are in the past. */
  assert_int_equal(run_p(&p, SKEW, &err, "{" BASE ",\"exp\":1.7e9}"),
                   WIF_E_EXPIRED);
  expect_msg(&err, "expired at 2023-11-14T22:13:20Z");
  assert_int_equal(run_p(&p, SKEW, &err, "{" BASE ",\"exp\":1700000000.5}"),
                   WIF_E_EXPIRED);
  expect_msg(&err, "expired at 2023-11-14T22:13:20Z");
  assert_int_equal(run("{" BASE ",\"exp\":-0}"), WIF_E_EXPIRED);
  assert_int_equal(run("{" BASE ",\"exp\":-0.0}"), WIF_E_EXPIRED);
  /* Non-finite: 1e400 overflows a double. */
  assert_int_equal(run("{" BASE ",\"exp\":1e400}"), WIF_E_CLAIM_TYPE);

  doc = parse("{" BASE ",\"exp\":1.8e9,\"nbf\":1700000000.5,"
              "\"iat\":1700000000.5}");
  assert_int_equal(wif_claims_check(doc, &p, SKEW, NOW, &id, &err), WIF_OK);
  assert_true(id.exp == INT64_C(1800000000));
  assert_true(id.nbf == INT64_C(1700000001));
  assert_true(id.iat == INT64_C(1700000001));
  wif_identity_clear(&id);
  wif_json_free(doc);

  doc = parse("{" BASE ",\"exp\":1800000000.9}");
  assert_int_equal(wif_claims_check(doc, &p, SKEW, NOW, &id, &err), WIF_OK);
  assert_true(id.exp == INT64_C(1800000000));
  wif_identity_clear(&id);
  wif_json_free(doc);

  /* exp = now + 0.5 floors to now: expired with no skew. */
  assert_int_equal(run_p(&p, 0, &err, "{" BASE ",\"exp\":%" PRId64 ".5}", NOW),
                   WIF_E_EXPIRED);
  /* nbf = now + skew + 0.5 ceils past the window. */
  assert_int_equal(run_p(&p, SKEW, &err,
                         "{" BASE ",\"exp\":%" PRId64 ",\"nbf\":%" PRId64 ".5}",
                         EXP_OK, NOW + SKEW),
                   WIF_E_NOT_YET_VALID);
  assert_int_equal(run_p(&p, SKEW, &err,
                         "{" BASE ",\"exp\":%" PRId64 ",\"iat\":%" PRId64 ".5}",
                         EXP_OK, NOW + SKEW),
                   WIF_E_IAT_INVALID);
}

/* E7: huge and negative exp; saturating arithmetic. */
static void test_e7_huge_and_negative(void **state) {
  struct wif_provider p = provider();
  struct wif_error err;
  const char *f = "{" BASE ",\"exp\":%s}";

  (void)state;
  assert_int_equal(run(f, "99999999999999999999999999"), WIF_E_CLAIM_TYPE);
  assert_int_equal(run(f, "9223372036854775807"), WIF_E_CLAIM_TYPE);
  assert_int_equal(run(f, "9223372036854775808"), WIF_E_CLAIM_TYPE);
  assert_int_equal(run(f, "-9223372036854775808"), WIF_E_CLAIM_TYPE);
  assert_int_equal(run(f, "9007199254740993"), WIF_E_CLAIM_TYPE);
  assert_int_equal(run(f, "9007199254740992"), WIF_OK);
  assert_int_equal(run(f, "-1"), WIF_E_EXPIRED);
  /* The largest date with the largest skew must not wrap to the past. */
  assert_int_equal(run_p(&p, INT64_MAX, &err, f, "9007199254740992"), WIF_OK);
  /* Negative exp is expired whatever the skew. */
  assert_int_equal(run_p(&p, INT64_MAX, &err, f, "-9007199254740992"),
                   WIF_E_EXPIRED);
  assert_int_equal(run_p(&p, INT64_MAX, &err, f, "-1"), WIF_E_EXPIRED);
  /* now + skew saturates for nbf and iat too. */
  assert_int_equal(run_p(&p, INT64_MAX, &err,
                         "{" BASE ",\"exp\":9007199254740992,"
                         "\"nbf\":9007199254740992,"
                         "\"iat\":9007199254740992}"),
                   WIF_OK);
  p.max_token_age = 3600;
  assert_int_equal(run_p(&p, SKEW, &err,
                         "{" BASE ",\"exp\":9007199254740992,"
                         "\"iat\":-9007199254740992}"),
                   WIF_E_LIFETIME);
}

/* E9 and E21: iss must equal the provider's issuer byte for byte. */
static void test_e9_iss_exact(void **state) {
  static const char *bad[] = {
      "\"https://issuer.example/x/\"",
      "\"https://ISSUER.example/x\"",
      "\"https://issuer.example:443/x\"",
      "\"http://issuer.example/x\"",
      "\"https://issuer.example/%78\"",
      "\"https://issuer.example/x.evil\"",
      "\"https://issuer.example/\"",
      "\"https://issuer.example\"",
      "\"http\"",
      "\"\"",
      "\" https://issuer.example/x\"",
      "\"https://issuer.example/X\"",
      "[\"https://issuer.example/x\"]",
      "42",
      "null",
      "{}",
      "\"https://other-tenant.example/x\"", /* E21: another issuer */
  };
  const char *f = "{\"iss\":%s," AUD "," SUB ",\"exp\":%" PRId64 "}";

  (void)state;
  assert_int_equal(run(f, "\"" ISSUER "\"", EXP_OK), WIF_OK);
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    wif_rc rc = run(f, bad[i], EXP_OK);

    if (rc != WIF_E_ISS_MISMATCH)
      fail_msg("iss %s gave %s", bad[i], wif_rc_name(rc));
  }
  assert_int_equal(run("{" AUD "," SUB ",\"exp\":%" PRId64 "}", EXP_OK),
                   WIF_E_ISS_MISMATCH);
}

/* E21: a token from issuer A is not valid for provider B, whatever key
 * verified it. */
static void test_e21_other_provider(void **state) {
  struct wif_provider b = provider();
  struct wif_error err;

  (void)state;
  b.name = wif_test_str("gcp");
  b.issuer = wif_test_str("https://accounts.google.com");
  assert_int_equal(
      run_p(&b, SKEW, &err, "{" BASE ",\"exp\":%" PRId64 "}", EXP_OK),
      WIF_E_ISS_MISMATCH);
  assert_string_equal(err.msg, "iss \"" ISSUER "\" is not exactly the issuer "
                               "\"https://accounts.google.com\" of provider "
                               "\"gcp\"");
}

/* E11: aud as a string or an array holding a configured audience. */
static void test_e11_aud(void **state) {
  static const char *good[] = {
      "\"api://pam-wif\"",
      "\"api://second\"",
      "[\"api://pam-wif\"]",
      "[\"api://other\",\"api://second\"]",
  };
  static const char *bad[] = {
      "\"api://other\"",
      "\"api://pam\"",
      "\"api://pam-wif2\"",
      "\"API://pam-wif\"",
      "\"api://pam-wif \"",
      "\"\"",
      "[]",
      "[\"api://other\"]",
      "[5]",
      "[\"api://pam-wif\",5]",
      "[null,\"api://pam-wif\"]",
      "[[\"api://pam-wif\"]]",
      "{\"api://pam-wif\":true}",
      "42",
      "null",
      "true",
  };
  const char *f = "{" ISS ",\"aud\":%s," SUB ",\"exp\":%" PRId64 "}";

  (void)state;
  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
    wif_rc rc = run(f, good[i], EXP_OK);

    if (rc != WIF_OK)
      fail_msg("aud %s gave %s", good[i], wif_rc_name(rc));
  }
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    wif_rc rc = run(f, bad[i], EXP_OK);

    if (rc != WIF_E_AUD_MISMATCH)
      fail_msg("aud %s gave %s", bad[i], wif_rc_name(rc));
  }
  assert_int_equal(run("{" ISS "," SUB ",\"exp\":%" PRId64 "}", EXP_OK),
                   WIF_E_AUD_MISMATCH);
}

static void test_e11_aud_message_and_no_audiences(void **state) {
  struct wif_provider p = provider();
  struct wif_error err;
  const char *f = "{" ISS ",\"aud\":%s," SUB ",\"exp\":%" PRId64 "}";

  (void)state;
  assert_int_equal(run_p(&p, SKEW, &err, f, "\"api://other\"", EXP_OK),
                   WIF_E_AUD_MISMATCH);
  assert_string_equal(err.msg, "aud \"api://other\" does not match any "
                               "configured audience of provider "
                               "\"azure-prod\"");
  assert_int_equal(
      run_p(&p, SKEW, &err, f, "[\"api://a\",\"api://b\"]", EXP_OK),
      WIF_E_AUD_MISMATCH);
  expect_msg(&err, "none of the 2 aud values (first \"api://a\")");
  /* A provider without audiences accepts nothing. */
  p.n_audiences = 0;
  assert_int_equal(run_p(&p, SKEW, &err, f, "\"api://pam-wif\"", EXP_OK),
                   WIF_E_AUD_MISMATCH);
}

/* E13: the user claim. */
static void test_e13_sub(void **state) {
  struct wif_provider p = provider();
  struct wif_json_doc *doc = NULL;
  struct wif_identity id;
  struct wif_error err;
  char big[WIF_SUBJECT_LEN_MAX + 2];
  const char *f = "{" ISS "," AUD ",\"exp\":%" PRId64 ",\"sub\":%s}";
  static const char *invalid[] = {
      "\"\"",          "42",
      "null",          "true",
      "[\"alice\"]",   "{}",
      "\"a\\u0001b\"", "\"a\\nb\"",
      "\"a\\tb\"",     "\"a\\u007fb\"",
      "\"a\\u0085b\"", "\"\\u009f\"",
      "\"alice\\r\"",  "\"\\u001b[31m\"",
  };
  static const char *opaque[] = {
      "/",       "..", ":", "repo:org/x:ref:refs/heads/m", "r\xd0\xbe\xd0\xbet",
      "\xc2\xa0"};

  (void)state;
  assert_int_equal(run("{" ISS "," AUD ",\"exp\":%" PRId64 "}", EXP_OK),
                   WIF_E_CLAIM_MISSING);
  for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
    wif_rc rc = run(f, EXP_OK, invalid[i]);

    if (rc != WIF_E_SUB_INVALID)
      fail_msg("sub %s gave %s", invalid[i], wif_rc_name(rc));
  }
  /* Exactly the limit passes, one more byte does not. */
  memset(big, 'a', sizeof(big) - 1);
  big[WIF_SUBJECT_LEN_MAX] = '\0';
  {
    char *q = format("\"%s\"", big);
    assert_int_equal(run(f, EXP_OK, q), WIF_OK);
    free(q);
  }
  big[WIF_SUBJECT_LEN_MAX] = 'a';
  big[WIF_SUBJECT_LEN_MAX + 1] = '\0';
  {
    char *q = format("\"%s\"", big);
    assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK, q), WIF_E_SUB_INVALID);
    /* The message names the size but does not repeat the value. */
    expect_msg(&err, "257 bytes, more than 256");
    assert_null(strstr(err.msg, "aaaaaaaaaaaaaaaa"));
    free(q);
  }
  /* Other bytes are opaque and come back exactly. */
  for (size_t i = 0; i < sizeof(opaque) / sizeof(opaque[0]); i++) {
    char *json = format("{" ISS "," AUD ",\"exp\":%" PRId64 ",\"sub\":\"%s\"}",
                        EXP_OK, opaque[i]);

    doc = parse(json);
    assert_int_equal(wif_claims_check(doc, &p, SKEW, NOW, &id, &err), WIF_OK);
    assert_int_equal(id.subject_len, strlen(opaque[i]));
    assert_memory_equal(id.subject, opaque[i], id.subject_len);
    wif_identity_clear(&id);
    wif_json_free(doc);
    free(json);
  }
  /* "ro\u0000ot" never reaches the checks: the parser refuses it. */
  doc = NULL;
  {
    const char *nul = "{\"sub\":\"ro\\u0000ot\"}";
    assert_int_equal(wif_json_parse(nul, strlen(nul), 16, &doc, &err),
                     WIF_E_MALFORMED);
    assert_null(doc);
  }
}

/* user_claim as a member name or a JSON pointer (RFC 6901). */
static void test_user_claim_pointer(void **state) {
  struct wif_provider p = provider();
  struct wif_json_doc *doc;
  struct wif_identity id;
  struct wif_error err;
  const char *json = "{" ISS "," AUD ",\"exp\":9999999999,\"sub\":\"top\","
                     "\"email\":\"e@x\",\"a\":{\"b\":\"nested\"},"
                     "\"a/b\":{\"c~d\":\"escaped\"},\"arr\":[\"zero\",\"one\"],"
                     "\"/lit\":\"literal\"}";

  (void)state;
  doc = parse(json);
  p.user_claim = wif_test_str("/a/b");
  assert_int_equal(wif_claims_check(doc, &p, SKEW, NOW, &id, &err), WIF_OK);
  assert_string_equal(id.subject, "nested");
  wif_identity_clear(&id);
  p.user_claim = wif_test_str("/a~1b/c~0d");
  assert_int_equal(wif_claims_check(doc, &p, SKEW, NOW, &id, &err), WIF_OK);
  assert_string_equal(id.subject, "escaped");
  wif_identity_clear(&id);
  p.user_claim = wif_test_str("/arr/1");
  assert_int_equal(wif_claims_check(doc, &p, SKEW, NOW, &id, &err), WIF_OK);
  assert_string_equal(id.subject, "one");
  wif_identity_clear(&id);
  p.user_claim = wif_test_str("email");
  assert_int_equal(wif_claims_check(doc, &p, SKEW, NOW, &id, &err), WIF_OK);
  assert_string_equal(id.subject, "e@x");
  wif_identity_clear(&id);
  /* Without escapes "a/b" is a path, not the member named "a/b". */
  p.user_claim = wif_test_str("/a/c");
  assert_int_equal(wif_claims_check(doc, &p, SKEW, NOW, &id, &err),
                   WIF_E_CLAIM_MISSING);
  expect_msg(&err, "\"/a/c\"");
  p.user_claim = wif_test_str("/a");
  assert_int_equal(wif_claims_check(doc, &p, SKEW, NOW, &id, &err),
                   WIF_E_SUB_INVALID);
  p.user_claim = wif_test_str("/a~2b");
  assert_int_equal(wif_claims_check(doc, &p, SKEW, NOW, &id, &err),
                   WIF_E_CLAIM_MISSING);
  /* A NULL user_claim means the default, sub. */
  p.user_claim = NULL;
  assert_int_equal(wif_claims_check(doc, &p, SKEW, NOW, &id, &err), WIF_OK);
  assert_string_equal(id.subject, "top");
  wif_identity_clear(&id);
  wif_json_free(doc);
}

/* Builds {"...base...","groups":[n strings of len bytes]}. */
static char *groups_json(size_t n, size_t len) {
  size_t cap = 256 + n * (len + 3), o = 0;
  char *s = malloc(cap);
  int w;

  assert_non_null(s);
  w = snprintf(s, cap, "{" BASE ",\"exp\":%" PRId64 ",\"groups\":[", EXP_OK);
  assert_true(w > 0);
  o = (size_t)w;
  for (size_t i = 0; i < n; i++) {
    if (i > 0)
      s[o++] = ',';
    s[o++] = '"';
    memset(s + o, 'a' + (char)(i % 26), len);
    o += len;
    s[o++] = '"';
  }
  s[o++] = ']';
  s[o++] = '}';
  s[o] = '\0';
  assert_true(o < cap);
  return s;
}

/* E15: groups at the limits and beyond. */
static void test_e15_groups_limits(void **state) {
  struct wif_provider p = provider();
  struct wif_json_doc *doc;
  struct wif_identity id;
  struct wif_error err;
  char *json;

  (void)state;
  json = groups_json(WIF_GROUPS_MAX, WIF_GROUP_LEN_MAX);
  doc = parse(json);
  assert_int_equal(wif_claims_check(doc, &p, SKEW, NOW, &id, &err), WIF_OK);
  assert_int_equal(id.n_groups, WIF_GROUPS_MAX);
  assert_int_equal(strlen(id.groups[WIF_GROUPS_MAX - 1]), WIF_GROUP_LEN_MAX);
  assert_int_equal(id.groups[27][0], 'b');
  wif_identity_clear(&id);
  wif_json_free(doc);
  free(json);

  json = groups_json(WIF_GROUPS_MAX + 1, 1);
  doc = parse(json);
  assert_int_equal(wif_claims_check(doc, &p, SKEW, NOW, &id, &err),
                   WIF_E_TOO_LARGE);
  expect_msg(&err, "513 entries, more than 512");
  assert_null(id.groups);
  wif_json_free(doc);
  free(json);

  json = groups_json(1, WIF_GROUP_LEN_MAX + 1);
  doc = parse(json);
  assert_int_equal(wif_claims_check(doc, &p, SKEW, NOW, &id, &err),
                   WIF_E_TOO_LARGE);
  wif_json_free(doc);
  free(json);

  /* 10^5 entries are refused before any allocation for them. */
  json = groups_json(100000, 1);
  doc = parse(json);
  assert_int_equal(wif_claims_check(doc, &p, SKEW, NOW, &id, &err),
                   WIF_E_TOO_LARGE);
  wif_json_free(doc);
  free(json);
}

/* E15: groups types; delimiters and duplicates stay opaque. */
static void test_e15_groups_types(void **state) {
  static const char *bad[] = {
      "\"admins\"",      "42",           "{}",        "null",
      "[\"a\",5]",       "[\"a\",null]", "[[\"a\"]]", "[\"a\",\"\"]",
      "[{\"a\":\"b\"}]", "true",
  };
  struct wif_provider p = provider();
  struct wif_json_doc *doc;
  struct wif_identity id;
  struct wif_error err;
  const char *f = "{" BASE ",\"exp\":%" PRId64 ",\"groups\":%s}";

  (void)state;
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    wif_rc rc = run(f, EXP_OK, bad[i]);

    if (rc != WIF_E_CLAIM_TYPE)
      fail_msg("groups %s gave %s", bad[i], wif_rc_name(rc));
  }
  doc = parse("{" BASE ",\"exp\":9999999999,\"groups\":[\"a,b\",\"c:d\","
              "\"e\\nf\",\"a,b\"]}");
  assert_int_equal(wif_claims_check(doc, &p, SKEW, NOW, &id, &err), WIF_OK);
  assert_int_equal(id.n_groups, 4);
  assert_string_equal(id.groups[0], "a,b");
  assert_string_equal(id.groups[1], "c:d");
  assert_string_equal(id.groups[2], "e\nf");
  assert_string_equal(id.groups[3], "a,b");
  wif_identity_clear(&id);
  wif_json_free(doc);

  /* An empty array is no groups. */
  doc = parse("{" BASE ",\"exp\":9999999999,\"groups\":[]}");
  assert_int_equal(wif_claims_check(doc, &p, SKEW, NOW, &id, &err), WIF_OK);
  assert_int_equal(id.n_groups, 0);
  wif_identity_clear(&id);
  wif_json_free(doc);

  /* groups_claim as a pointer. */
  p.groups_claim = wif_test_str("/realm_access/roles");
  doc = parse("{" BASE ",\"exp\":9999999999,\"groups\":5,"
              "\"realm_access\":{\"roles\":[\"r1\"]}}");
  assert_int_equal(wif_claims_check(doc, &p, SKEW, NOW, &id, &err), WIF_OK);
  assert_int_equal(id.n_groups, 1);
  assert_string_equal(id.groups[0], "r1");
  wif_identity_clear(&id);
  wif_json_free(doc);
}

/* E16: duplicate claim names never reach the checks. */
static void test_e16_duplicates_rejected(void **state) {
  static const char *dups[] = {
      "{\"sub\":\"alice\",\"sub\":\"root\"}",
      "{\"exp\":1,\"exp\":9999999999}",
      "{\"a\":{\"b\":\"x\",\"b\":\"y\"}}",
  };

  (void)state;
  for (size_t i = 0; i < sizeof(dups) / sizeof(dups[0]); i++) {
    struct wif_json_doc *doc = NULL;
    struct wif_error err;

    assert_int_equal(wif_json_parse(dups[i], strlen(dups[i]), 16, &doc, &err),
                     WIF_E_MALFORMED);
    assert_null(doc);
  }
}

/* E19: unknown claims are ignored; lookups are exact. */
static void test_e19_unknown_claims(void **state) {
  struct wif_provider p = provider();
  struct wif_require req[] = {{wif_test_str("constructor"), wif_test_str("*")}};
  struct wif_error err;
  const char *f = "{" BASE ",\"exp\":%" PRId64 ",\"__proto__\":{\"sub\":"
                  "\"root\"},\"toString\":1,\"x-private\":[1,2]}";

  (void)state;
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK), WIF_OK);
  p.requires = req;
  p.n_requires = 1;
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK), WIF_E_CLAIM_MISSING);
  expect_msg(&err, "\"constructor\"");
  /* Names compare exactly: "Sub" is not "sub". */
  assert_int_equal(
      run("{" ISS "," AUD ",\"Sub\":\"alice\",\"exp\":%" PRId64 "}", EXP_OK),
      WIF_E_CLAIM_MISSING);
}

/* require lines: fnmatch with no flags against a string claim. */
static void test_require_globs(void **state) {
  struct wif_provider p = provider();
  struct wif_require req[2] = {
      {wif_test_str("tid"), wif_test_str("abc-*")},
      {wif_test_str("/ext/env"), wif_test_str("prod")}};
  struct wif_error err;
  const char *f = "{" BASE ",\"exp\":%" PRId64 ",\"tid\":%s,"
                  "\"ext\":{\"env\":\"prod\"},\"empty\":\"\"}";

  (void)state;
  p.requires = req;
  p.n_requires = 2;
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK, "\"abc-123\""), WIF_OK);
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK, "\"abc-\""), WIF_OK);
  /* '*' never crosses '/' (glob.h); '**' does. */
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK, "\"abc-x/y\""),
                   WIF_E_CLAIM_MISMATCH);
  req[0].pattern = wif_test_str("abc-**");
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK, "\"abc-x/y\""), WIF_OK);
  req[0].pattern = wif_test_str("abc-*");
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK, "\"xyz-123\""),
                   WIF_E_CLAIM_MISMATCH);
  assert_string_equal(err.msg, "claim \"tid\" value \"xyz-123\" does not "
                               "match \"abc-*\" required by provider "
                               "\"azure-prod\"");
  /* No case folding. */
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK, "\"ABC-123\""),
                   WIF_E_CLAIM_MISMATCH);
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK, "\" abc-123\""),
                   WIF_E_CLAIM_MISMATCH);
  /* Numbers by their text; arrays by any element; no text: a refusal. */
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK, "42"),
                   WIF_E_CLAIM_MISMATCH);
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK, "[\"abc-1\"]"), WIF_OK);
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK, "null"), WIF_E_CLAIM_TYPE);
  expect_msg(&err, "claim \"tid\" is null, which cannot be compared "
                   "(required by provider \"azure-prod\")");
  assert_int_equal(run_p(&p, SKEW, &err,
                         "{" BASE ",\"exp\":%" PRId64
                         ",\"ext\":{\"env\":\"prod\"}}",
                         EXP_OK),
                   WIF_E_CLAIM_MISSING);
  /* The second line is checked too, through a pointer. */
  req[1].pattern = wif_test_str("staging");
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK, "\"abc-1\""),
                   WIF_E_CLAIM_MISMATCH);
  expect_msg(&err, "\"/ext/env\" value \"prod\"");
  /* '*' matches the empty string; an exact pattern does not. */
  req[0].claim = wif_test_str("empty");
  req[0].pattern = wif_test_str("*");
  p.n_requires = 1;
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK, "1"), WIF_OK);
  req[0].pattern = wif_test_str("?*");
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK, "1"), WIF_E_CLAIM_MISMATCH);
  /* Bracket expressions and escapes behave as in the shell. */
  req[0].claim = wif_test_str("tid");
  req[0].pattern = wif_test_str("[a-c]bc-\\*");
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK, "\"abc-*\""), WIF_OK);
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK, "\"abc-1\""),
                   WIF_E_CLAIM_MISMATCH);
}

/* Issue 12: booleans as true/false, numbers as their JSON text, arrays by
 * any element, objects and nested values refused, never matched. */
static void test_typed_values(void **state) {
  struct wif_provider p = provider();
  struct wif_require req[1] = {{wif_test_str("v"), wif_test_str("true")}};
  struct wif_error err;
  const char *f = "{" BASE ",\"exp\":%" PRId64 ",\"v\":%s}";

  (void)state;
  p.requires = req;
  p.n_requires = 1;
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK, "true"), WIF_OK);
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK, "false"),
                   WIF_E_CLAIM_MISMATCH);
  expect_msg(&err, "value \"false\" does not match \"true\"");
  /* The string "true" is the same text: a boolean is not stricter. */
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK, "\"true\""), WIF_OK);
  req[0].pattern = wif_test_str("false");
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK, "false"), WIF_OK);
  /* Numbers: the JSON text as written. */
  req[0].pattern = wif_test_str("314159265358");
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK, "314159265358"), WIF_OK);
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK, "314159265359"),
                   WIF_E_CLAIM_MISMATCH);
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK, "3.14159265358e11"),
                   WIF_E_CLAIM_MISMATCH);
  req[0].pattern = wif_test_str("3141*");
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK, "314159265358"), WIF_OK);
  /* Arrays: any element, of any scalar type. */
  req[0].pattern = wif_test_str("DB.Read");
  assert_int_equal(
      run_p(&p, SKEW, &err, f, EXP_OK, "[\"DB.Write\",\"DB.Read\"]"), WIF_OK);
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK, "[\"DB.Write\",7,true]"),
                   WIF_E_CLAIM_MISMATCH);
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK, "[]"),
                   WIF_E_CLAIM_MISMATCH);
  req[0].pattern = wif_test_str("7");
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK, "[\"DB.Write\",7,true]"),
                   WIF_OK);
  /* Nothing comparable: refused with a reason, even beside a match. */
  req[0].pattern = wif_test_str("*");
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK, "{\"a\":\"b\"}"),
                   WIF_E_CLAIM_TYPE);
  expect_msg(&err, "claim \"v\" is an object, which cannot be compared");
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK, "[\"x\",{\"a\":1}]"),
                   WIF_E_CLAIM_TYPE);
  expect_msg(&err, "element 1 is an object");
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK, "[\"x\",[\"x\"]]"),
                   WIF_E_CLAIM_TYPE);
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK, "[null]"),
                   WIF_E_CLAIM_TYPE);
}

/* Issue 12: a space_delimited claim (scope) is a set of words. */
static void test_space_delimited(void **state) {
  struct wif_provider p = provider();
  struct wif_require req[1] = {
      {wif_test_str("scope"), wif_test_str("admin:db")}};
  static char scope[] = "scope", scp[] = "/ext/scp";
  char *words[] = {scope, scp};
  struct wif_error err;
  const char *f = "{" BASE ",\"exp\":%" PRId64 ",\"scope\":%s,"
                  "\"ext\":{\"scp\":\"a b\"}}";

  (void)state;
  p.requires = req;
  p.n_requires = 1;
  p.space_delimited = words;
  p.n_space_delimited = 1;
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK, "\"openid admin:db\""),
                   WIF_OK);
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK, "\"admin:db\""), WIF_OK);
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK, "\"  admin:db  x\""),
                   WIF_OK);
  /* The attack a glob would let through. */
  assert_int_equal(
      run_p(&p, SKEW, &err, f, EXP_OK, "\"openid admin:db-readonly\""),
      WIF_E_CLAIM_MISMATCH);
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK, "\"xadmin:db\""),
                   WIF_E_CLAIM_MISMATCH);
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK, "\"\""),
                   WIF_E_CLAIM_MISMATCH);
  /* Globs apply per word, and never across one. */
  req[0].pattern = wif_test_str("admin:*");
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK, "\"read admin:x\""),
                   WIF_OK);
  req[0].pattern = wif_test_str("read*x");
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK, "\"read admin:x\""),
                   WIF_E_CLAIM_MISMATCH);
  /* Without the list, the whole string counts. */
  p.n_space_delimited = 0;
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK, "\"read admin:x\""),
                   WIF_OK);
  /* A pointer is listed by the same text; arrays are not split. */
  p.space_delimited = words + 1;
  p.n_space_delimited = 1;
  req[0].claim = wif_test_str("/ext/scp");
  req[0].pattern = wif_test_str("b");
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK, "\"x\""), WIF_OK);
  p.space_delimited = words;
  req[0].claim = wif_test_str("scope");
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK, "[\"a b\"]"),
                   WIF_E_CLAIM_MISMATCH);
}

/* Issue 12: Entra's groups overage is a refusal that says what to do. */
static void test_groups_overage(void **state) {
  struct wif_provider p = provider();
  struct wif_error err;
  const char *f = "{" BASE ",\"exp\":%" PRId64 ",\"_claim_names\":"
                  "{\"groups\":\"src1\"},\"_claim_sources\":{\"src1\":"
                  "{\"endpoint\":\"https://graph.microsoft.com/v1.0/users/"
                  "x/getMemberObjects\"}}}";
  struct wif_require req[1] = {{wif_test_str("groups"), wif_test_str("g1")}};

  (void)state;
  /* User authorization does not need the groups. */
  p.authz_types = WIF_AUTHZ_BIT(WIF_AUTHZ_USER);
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK), WIF_OK);
  p.authz_types |= WIF_AUTHZ_BIT(WIF_AUTHZ_GROUP);
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK), WIF_E_CLAIM_MISSING);
  expect_msg(&err, "too many groups");
  expect_msg(&err, "groups_claim = roles");
  /* The same through a require line. */
  p.authz_types = WIF_AUTHZ_BIT(WIF_AUTHZ_USER);
  p.requires = req;
  p.n_requires = 1;
  assert_int_equal(run_p(&p, SKEW, &err, f, EXP_OK), WIF_E_CLAIM_MISSING);
  expect_msg(&err, "Entra groups overage");
}

/* Checks run in the documented order: the first failure is reported. */
static void test_check_order(void **state) {
  struct wif_provider p = provider();
  struct wif_require req[] = {{wif_test_str("tid"), wif_test_str("x")}};
  struct wif_error err;

  (void)state;
  p.requires = req;
  p.n_requires = 1;
  p.max_token_age = 10;
  /* Everything wrong: iss first. */
  assert_int_equal(
      run_p(&p, 0, &err,
            "{\"iss\":\"bad\",\"aud\":\"bad\",\"exp\":1,\"nbf\":9999999999,"
            "\"sub\":\"\",\"groups\":5,\"tid\":\"y\"}"),
      WIF_E_ISS_MISMATCH);
  assert_int_equal(run_p(&p, 0, &err,
                         "{" ISS
                         ",\"aud\":\"bad\",\"exp\":1,\"nbf\":9999999999,"
                         "\"sub\":\"\",\"groups\":5,\"tid\":\"y\"}"),
                   WIF_E_AUD_MISMATCH);
  assert_int_equal(run_p(&p, 0, &err,
                         "{" ISS "," AUD ",\"exp\":1,\"nbf\":9999999999,"
                         "\"sub\":\"\",\"groups\":5,\"tid\":\"y\"}"),
                   WIF_E_EXPIRED);
  assert_int_equal(
      run_p(&p, 0, &err,
            "{" ISS "," AUD ",\"exp\":9999999999,\"nbf\":9999999999,"
            "\"iat\":9999999999,\"sub\":\"\",\"groups\":5,\"tid\":\"y\"}"),
      WIF_E_NOT_YET_VALID);
  assert_int_equal(run_p(&p, 0, &err,
                         "{" ISS "," AUD
                         ",\"exp\":9999999999,\"iat\":9999999999,"
                         "\"sub\":\"\",\"groups\":5,\"tid\":\"y\"}"),
                   WIF_E_IAT_INVALID);
  assert_int_equal(run_p(&p, 0, &err,
                         "{" ISS "," AUD ",\"exp\":9999999999,\"iat\":1,"
                         "\"sub\":\"\",\"groups\":5,\"tid\":\"y\"}"),
                   WIF_E_LIFETIME);
  p.max_token_age = 0;
  assert_int_equal(run_p(&p, 0, &err,
                         "{" ISS "," AUD ",\"exp\":9999999999,"
                         "\"sub\":\"\",\"groups\":5,\"tid\":\"y\"}"),
                   WIF_E_SUB_INVALID);
  assert_int_equal(run_p(&p, 0, &err,
                         "{" BASE ",\"exp\":9999999999,"
                         "\"groups\":5,\"tid\":\"y\"}"),
                   WIF_E_CLAIM_TYPE);
  assert_int_equal(
      run_p(&p, 0, &err, "{" BASE ",\"exp\":9999999999,\"tid\":\"y\"}"),
      WIF_E_CLAIM_MISMATCH);
}

/* Long untrusted values are cut and sanitised in messages. */
static void test_messages_bounded(void **state) {
  struct wif_provider p = provider();
  struct wif_error err;
  char *aud = malloc(2001);
  char *quoted;

  (void)state;
  assert_non_null(aud);
  memset(aud, 'z', 2000);
  aud[2000] = '\0';
  quoted = format("\"%s\"", aud);
  assert_int_equal(run_p(&p, SKEW, &err,
                         "{" ISS ",\"aud\":%s," SUB ",\"exp\":%" PRId64 "}",
                         quoted, EXP_OK),
                   WIF_E_AUD_MISMATCH);
  expect_msg(&err, "...");
  assert_true(strlen(err.msg) < 200);
  assert_int_equal(run_p(&p, SKEW, &err,
                         "{\"iss\":\"a\\u001b[2Jb\"," AUD "," SUB
                         ",\"exp\":%" PRId64 "}",
                         EXP_OK),
                   WIF_E_ISS_MISMATCH);
  assert_null(strchr(err.msg, '\x1b'));
  expect_msg(&err, "a\\x1b[2Jb");
  free(quoted);
  free(aud);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_valid_minimal),
      cmocka_unit_test(test_valid_full),
      cmocka_unit_test(test_output_cleared_on_failure),
      cmocka_unit_test(test_bad_arguments),
      cmocka_unit_test(test_e1_exp_missing),
      cmocka_unit_test(test_e2_exp_boundaries),
      cmocka_unit_test(test_e2_expired_message),
      cmocka_unit_test(test_e3_nbf_boundaries),
      cmocka_unit_test(test_e4_iat),
      cmocka_unit_test(test_e8_lifetime),
      cmocka_unit_test(test_default_lifetime_cap),
      cmocka_unit_test(test_e5_date_types),
      cmocka_unit_test(test_e6_real_dates),
      cmocka_unit_test(test_e7_huge_and_negative),
      cmocka_unit_test(test_e9_iss_exact),
      cmocka_unit_test(test_e21_other_provider),
      cmocka_unit_test(test_e11_aud),
      cmocka_unit_test(test_e11_aud_message_and_no_audiences),
      cmocka_unit_test(test_e13_sub),
      cmocka_unit_test(test_user_claim_pointer),
      cmocka_unit_test(test_e15_groups_limits),
      cmocka_unit_test(test_e15_groups_types),
      cmocka_unit_test(test_e16_duplicates_rejected),
      cmocka_unit_test(test_e19_unknown_claims),
      cmocka_unit_test(test_require_globs),
      cmocka_unit_test(test_typed_values),
      cmocka_unit_test(test_space_delimited),
      cmocka_unit_test(test_groups_overage),
      cmocka_unit_test(test_check_order),
      cmocka_unit_test(test_messages_bounded),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
