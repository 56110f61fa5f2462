/* SPDX-License-Identifier: Apache-2.0 */
/* JWK / JWKS import and key policy (SECURITY-CASES D1-D11, B6, C3). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <jansson.h>

#include "testutil.h"

#include "b64url.h"
#include "jwk.h"
#include "verify.h"
#include "jwt.h"

static const char *const kids[] = {"rs256", "rs384", "rs512", "ps256", "ps384",
                                   "ps512", "es256", "es384", "es512", "eddsa"};
static const enum wif_alg kid_algs[] = {
    WIF_ALG_RS256, WIF_ALG_RS384, WIF_ALG_RS512, WIF_ALG_PS256, WIF_ALG_PS384,
    WIF_ALG_PS512, WIF_ALG_ES256, WIF_ALG_ES384, WIF_ALG_ES512, WIF_ALG_EDDSA};
#define NKEYS (sizeof(kids) / sizeof(*kids))

/* Captured log lines. */
struct capture {
  int count;
  int priority;
  char last[1024];
};

static void capture_fn(void *ctx, int priority, const char *msg) {
  struct capture *c = ctx;

  c->count++;
  c->priority = priority;
  snprintf(c->last, sizeof(c->last), "%s", msg);
}

static json_t *load_jwk(const char *kid) {
  char name[64];
  json_error_t jerr;
  char *path;
  json_t *j;

  snprintf(name, sizeof(name), "%s.jwk.json", kid);
  path = wif_test_key_path(name);
  j = json_load_file(path, 0, &jerr);
  if (j == NULL)
    fail_msg("%s: %s", path, jerr.text);
  free(path);
  return j;
}

/* {"keys":[k...]} as text; steals the references. */
static char *set_text(json_t *k1, json_t *k2) {
  json_t *arr = json_array(), *root = json_object();
  char *s;

  json_array_append_new(arr, k1);
  if (k2 != NULL)
    json_array_append_new(arr, k2);
  json_object_set_new(root, "keys", arr);
  s = json_dumps(root, JSON_COMPACT);
  assert_non_null(s);
  json_decref(root);
  return s;
}

static wif_rc parse_set(const char *text, struct capture *cap,
                        struct wif_jwks **out, struct wif_error *err) {
  struct wif_log log = {capture_fn, cap, false};

  return wif_jwks_parse(text, strlen(text), cap ? &log : NULL, out, err);
}

/* Parses one JWK (steals j) and returns the result code. */
static wif_rc parse_one(json_t *j, struct wif_error *err) {
  char *s = json_dumps(j, JSON_COMPACT);
  struct wif_json_doc *doc = NULL;
  struct wif_jwk *key = NULL;
  wif_rc rc;

  assert_non_null(s);
  assert_int_equal(wif_json_parse(s, strlen(s), 8, &doc, NULL), WIF_OK);
  rc = wif_jwk_parse(doc, wif_json_root(doc), &key, err);
  if (rc == WIF_OK)
    assert_non_null(key);
  else
    assert_null(key);
  wif_jwk_free(key);
  wif_json_free(doc);
  free(s);
  json_decref(j);
  return rc;
}

static void set_str(json_t *j, const char *name, const char *value) {
  json_object_set_new(j, name, json_string(value));
}

/* base64url of bytes, as a JSON string. */
static json_t *b64_json(const unsigned char *p, size_t len) {
  char *s = wif_test_b64(p, len);
  json_t *j = json_string(s);

  free(s);
  return j;
}

static size_t decode_member(json_t *j, const char *name, unsigned char *buf,
                            size_t size) {
  const char *s = json_string_value(json_object_get(j, name));
  size_t len;

  assert_non_null(s);
  assert_true(wif_b64url_decode(s, strlen(s), buf, size, &len));
  return len;
}

/* Every generated key kind imports, with its metadata. */
static void test_all_kinds_import(void **state) {
  static const char *const files[] = {"jwks.json", "jwks-noalg.json"};
  (void)state;

  for (size_t f = 0; f < 2; f++) {
    struct wif_jwks *set = wif_test_jwks(files[f]);

    assert_int_equal(wif_jwks_count(set), NKEYS);
    for (size_t i = 0; i < NKEYS; i++) {
      struct wif_jwk *k = wif_jwks_find(set, kids[i], strlen(kids[i]));
      enum wif_alg hint;

      assert_non_null(k);
      assert_string_equal(wif_jwk_kid(k), kids[i]);
      assert_non_null(wif_jwk_pkey(k));
      assert_true(wif_jwk_allows(k, kid_algs[i]));
      assert_int_equal(wif_jwk_alg(k, &hint), f == 0);
      if (f == 0)
        assert_int_equal(hint, kid_algs[i]);
      if (i < 6) {
        assert_int_equal(wif_jwk_kty(k), WIF_KTY_RSA);
        assert_true(wif_jwk_bits(k) >= 2048);
      } else if (i < 9) {
        static const unsigned bits[] = {256, 384, 521};
        assert_int_equal(wif_jwk_kty(k), WIF_KTY_EC);
        assert_int_equal(wif_jwk_bits(k), bits[i - 6]);
      } else {
        assert_int_equal(wif_jwk_kty(k), WIF_KTY_OKP);
      }
    }
    assert_int_equal(wif_jwk_bits(wif_jwks_find(set, "rs512", 5)), 3072);
    assert_int_equal(wif_jwk_bits(wif_jwks_find(set, "ps512", 5)), 4096);
    assert_null(wif_jwks_find(set, "rs25", 4));
    assert_null(wif_jwks_find(set, "rs2566", 6));
    assert_null(wif_jwks_at(set, NKEYS));
    wif_jwks_free(set);
  }
}

/* D1: 1024-bit RSA is refused alone and skipped (with a warning) in a set;
 * leading zero octets do not make it count as larger. */
static void test_d1_small_rsa(void **state) {
  struct wif_jwks *set = NULL;
  struct wif_error err;
  struct capture cap = {0};
  unsigned char n[600];
  size_t len;
  json_t *small;
  char *text;
  (void)state;

  assert_int_equal(parse_one(load_jwk("rsa1024"), &err), WIF_E_KEY_REJECTED);
  assert_non_null(strstr(err.msg, "1024"));

  small = load_jwk("rsa1024");
  set_str(small, "kid", "weak");
  text = set_text(small, load_jwk("rs256"));
  assert_int_equal(parse_set(text, &cap, &set, &err), WIF_OK);
  assert_int_equal(wif_jwks_count(set), 1);
  assert_null(wif_jwks_find(set, "weak", 4));
  assert_non_null(wif_jwks_find(set, "rs256", 5));
  assert_int_equal(cap.count, 1);
  assert_int_equal(cap.priority, LOG_WARNING);
  assert_non_null(strstr(cap.last, "weak"));
  wif_jwks_free(set);
  free(text);

  /* 1024 bits padded to 256 octets with leading zeros. */
  small = load_jwk("rsa1024");
  len = decode_member(small, "n", n + 128, sizeof(n) - 128);
  assert_int_equal(len, 128);
  memset(n, 0, 128);
  json_object_set_new(small, "n", b64_json(n, 256));
  assert_int_equal(parse_one(small, &err), WIF_E_KEY_REJECTED);

  /* A 2048-bit modulus with one leading zero octet is still fine. */
  small = load_jwk("rs256");
  len = decode_member(small, "n", n + 1, sizeof(n) - 1);
  n[0] = 0;
  json_object_set_new(small, "n", b64_json(n, len + 1));
  assert_int_equal(parse_one(small, &err), WIF_OK);
}

/* D2: e = 0, 1, 2 (even), 65536 (even), > 2^256 refused; big odd ok. */
static void test_d2_rsa_exponent(void **state) {
  static const struct {
    unsigned char e[40];
    size_t len;
    wif_rc rc;
  } cases[] = {
      {{0}, 1, WIF_E_KEY_REJECTED},
      {{1}, 1, WIF_E_KEY_REJECTED},
      {{2}, 1, WIF_E_KEY_REJECTED},
      {{1, 0, 0}, 3, WIF_E_KEY_REJECTED},
      {{0, 0, 1}, 3, WIF_E_KEY_REJECTED},
      {{3}, 1, WIF_OK},
      {{0, 1, 0, 1}, 4, WIF_OK},
      /* 2^256 + 1: odd but above 2^256. */
      {{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
       33,
       WIF_E_KEY_REJECTED},
  };
  struct wif_error err;
  (void)state;

  for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
    json_t *k = load_jwk("rs256");

    json_object_set_new(k, "e", b64_json(cases[i].e, cases[i].len));
    assert_int_equal(parse_one(k, &err), cases[i].rc);
  }
  /* 2^256 - 1: odd, at most 2^256, accepted. */
  {
    unsigned char e[32];
    json_t *k = load_jwk("rs256");

    memset(e, 0xff, sizeof(e));
    json_object_set_new(k, "e", b64_json(e, sizeof(e)));
    assert_int_equal(parse_one(k, &err), WIF_OK);
  }
}

/* D3: off-curve point, point at infinity (zeros), wrong coordinate
 * lengths, unsupported curves, missing members. */
static void test_d3_ec_points(void **state) {
  unsigned char y[80], zeros[66] = {0};
  struct wif_error err;
  size_t len;
  json_t *k;
  (void)state;

  k = load_jwk("es256");
  len = decode_member(k, "y", y, sizeof(y));
  y[len - 1] ^= 0x01;
  json_object_set_new(k, "y", b64_json(y, len));
  assert_int_equal(parse_one(k, &err), WIF_E_KEY_REJECTED);

  k = load_jwk("es256");
  json_object_set_new(k, "x", b64_json(zeros, 32));
  json_object_set_new(k, "y", b64_json(zeros, 32));
  assert_int_equal(parse_one(k, &err), WIF_E_KEY_REJECTED);

  k = load_jwk("es256");
  len = decode_member(k, "x", y, sizeof(y));
  json_object_set_new(k, "x", b64_json(y + 1, len - 1));
  assert_int_equal(parse_one(k, &err), WIF_E_KEY_REJECTED);

  k = load_jwk("es256");
  len = decode_member(k, "y", y + 1, sizeof(y) - 1);
  y[0] = 0;
  json_object_set_new(k, "y", b64_json(y, len + 1));
  assert_int_equal(parse_one(k, &err), WIF_E_KEY_REJECTED);

  static const char *const bad_crv[] = {"secp256k1", "P-192", "p-256",
                                        "Ed25519", ""};
  for (size_t i = 0; i < sizeof(bad_crv) / sizeof(*bad_crv); i++) {
    k = load_jwk("es256");
    json_object_del(k, "alg");
    set_str(k, "crv", bad_crv[i]);
    assert_int_equal(parse_one(k, &err), WIF_E_KEY_REJECTED);
  }
  static const char *const members[] = {"crv", "x", "y"};
  for (size_t i = 0; i < 3; i++) {
    k = load_jwk("es384");
    json_object_del(k, members[i]);
    assert_int_equal(parse_one(k, &err), WIF_E_KEY_REJECTED);
  }
  k = load_jwk("es256");
  json_object_set_new(k, "x", json_integer(5));
  assert_int_equal(parse_one(k, &err), WIF_E_KEY_REJECTED);
  /* Ed25519 x of the wrong size, or an unsupported OKP curve. */
  k = load_jwk("eddsa");
  json_object_set_new(k, "x", b64_json(zeros, 31));
  assert_int_equal(parse_one(k, &err), WIF_E_KEY_REJECTED);
  k = load_jwk("eddsa");
  json_object_del(k, "alg");
  set_str(k, "crv", "Ed448");
  assert_int_equal(parse_one(k, &err), WIF_E_KEY_REJECTED);
  k = load_jwk("eddsa");
  json_object_del(k, "alg");
  set_str(k, "crv", "X25519");
  assert_int_equal(parse_one(k, &err), WIF_E_KEY_REJECTED);
}

/* C3: curve and alg must agree, at load (hint) and at use (allows). */
static void test_c3_curve_alg(void **state) {
  struct wif_jwks *set = wif_test_jwks("jwks-noalg.json");
  struct wif_error err;
  unsigned char x[80];
  size_t len;
  json_t *k;
  (void)state;

  k = load_jwk("es384");
  set_str(k, "alg", "ES256");
  assert_int_equal(parse_one(k, &err), WIF_E_KEY_REJECTED);
  k = load_jwk("es512");
  set_str(k, "alg", "ES384");
  assert_int_equal(parse_one(k, &err), WIF_E_KEY_REJECTED);
  /* P-521 coordinates must be 66 octets, not the 65 of a stripped form. */
  k = load_jwk("es512");
  len = decode_member(k, "x", x, sizeof(x));
  assert_int_equal(len, 66);
  if (x[0] == 0) {
    json_object_set_new(k, "x", b64_json(x + 1, 65));
  } else {
    json_object_set_new(k, "x", b64_json(x, 65));
  }
  assert_int_equal(parse_one(k, &err), WIF_E_KEY_REJECTED);

  assert_false(wif_jwk_allows(wif_jwks_find(set, "es384", 5), WIF_ALG_ES256));
  assert_false(wif_jwk_allows(wif_jwks_find(set, "es512", 5), WIF_ALG_ES256));
  assert_false(wif_jwk_allows(wif_jwks_find(set, "es256", 5), WIF_ALG_ES512));
  assert_true(wif_jwk_allows(wif_jwks_find(set, "es512", 5), WIF_ALG_ES512));
  wif_jwks_free(set);
}

/* D4: two keys with one kid reject the whole set. */
static void test_d4_duplicate_kid(void **state) {
  struct wif_jwks *set = NULL;
  struct wif_error err;
  json_t *k2 = load_jwk("es256");
  char *text;
  (void)state;

  set_str(k2, "kid", "rs256");
  text = set_text(load_jwk("rs256"), k2);
  assert_int_equal(parse_set(text, NULL, &set, &err), WIF_E_JWKS_INVALID);
  assert_null(set);
  assert_non_null(strstr(err.msg, "kid"));
  free(text);

  /* Also when one of the two would have been skipped anyway. */
  k2 = load_jwk("rsa1024");
  set_str(k2, "kid", "rs256");
  text = set_text(load_jwk("rs256"), k2);
  assert_int_equal(parse_set(text, NULL, &set, &err), WIF_E_JWKS_INVALID);
  free(text);
}

/* D5: private members or oct keys reject the whole set; a single JWK with
 * private members is refused. */
static void test_d5_private_and_oct(void **state) {
  static const char *const priv[] = {"d",  "p",  "q",   "dp",
                                     "dq", "qi", "oth", "k"};
  struct wif_jwks *set = NULL;
  struct wif_error err;
  char *text;
  (void)state;

  for (size_t i = 0; i < sizeof(priv) / sizeof(*priv); i++) {
    json_t *k = load_jwk("es256");

    set_str(k, priv[i], "AQAB");
    text = set_text(load_jwk("rs256"), k);
    assert_int_equal(parse_set(text, NULL, &set, &err), WIF_E_JWKS_INVALID);
    assert_null(set);
    free(text);
    k = load_jwk("rs256");
    set_str(k, priv[i], "AQAB");
    assert_int_equal(parse_one(k, &err), WIF_E_KEY_REJECTED);
  }
  assert_int_equal(
      parse_set("{\"keys\":[{\"kty\":\"oct\",\"kid\":\"h\",\"k\":\"AAAA\"}]}",
                NULL, &set, &err),
      WIF_E_JWKS_INVALID);
  /* oct without k, beside a good key: still the whole set. */
  {
    json_t *oct = json_pack("{s:s,s:s}", "kty", "oct", "kid", "h");
    text = set_text(load_jwk("rs256"), oct);
    assert_int_equal(parse_set(text, NULL, &set, &err), WIF_E_JWKS_INVALID);
    free(text);
  }
}

/* D6: use other than sig, key_ops without verify. */
static void test_d6_use_and_key_ops(void **state) {
  struct wif_jwks *set = NULL;
  struct wif_error err;
  struct capture cap = {0};
  json_t *k;
  char *text;
  (void)state;

  k = load_jwk("rs256");
  set_str(k, "use", "enc");
  assert_int_equal(parse_one(k, &err), WIF_E_KEY_REJECTED);
  k = load_jwk("rs256");
  json_object_set_new(k, "use", json_true());
  assert_int_equal(parse_one(k, &err), WIF_E_KEY_REJECTED);
  k = load_jwk("es256");
  json_object_set_new(k, "key_ops", json_pack("[s]", "encrypt"));
  assert_int_equal(parse_one(k, &err), WIF_E_KEY_REJECTED);
  k = load_jwk("es256");
  json_object_set_new(k, "key_ops", json_array());
  assert_int_equal(parse_one(k, &err), WIF_E_KEY_REJECTED);
  k = load_jwk("es256");
  json_object_set_new(k, "key_ops", json_pack("[s,i]", "verify", 1));
  assert_int_equal(parse_one(k, &err), WIF_E_KEY_REJECTED);
  k = load_jwk("es256");
  set_str(k, "key_ops", "verify");
  assert_int_equal(parse_one(k, &err), WIF_E_KEY_REJECTED);
  k = load_jwk("es256");
  json_object_set_new(k, "key_ops", json_pack("[s,s]", "sign", "verify"));
  assert_int_equal(parse_one(k, &err), WIF_OK);
  k = load_jwk("es256");
  json_object_del(k, "use");
  assert_int_equal(parse_one(k, &err), WIF_OK);

  /* In a set: the enc key is skipped and the other stays. */
  k = load_jwk("es256");
  set_str(k, "use", "enc");
  text = set_text(k, load_jwk("rs256"));
  assert_int_equal(parse_set(text, &cap, &set, &err), WIF_OK);
  assert_int_equal(wif_jwks_count(set), 1);
  assert_null(wif_jwks_find(set, "es256", 5));
  assert_int_equal(cap.count, 1);
  wif_jwks_free(set);
  free(text);
}

/* D7: unknown, missing or non-string kty: skipped, others kept. */
static void test_d7_unknown_kty(void **state) {
  static const char *const texts[] = {
      "{\"kty\":\"AKP\",\"kid\":\"a\",\"pub\":\"AAAA\"}",
      "{\"kid\":\"a\",\"n\":\"AAAA\",\"e\":\"AQAB\"}",
      "{\"kty\":7,\"kid\":\"a\"}",
      "{\"kty\":\"rsa\",\"kid\":\"a\"}",
      "[1]",
      "\"RSA\"",
  };
  (void)state;

  for (size_t i = 0; i < sizeof(texts) / sizeof(*texts); i++) {
    struct wif_jwks *set = NULL;
    struct wif_error err;
    struct capture cap = {0};
    json_error_t jerr;
    json_t *bad = json_loads(texts[i], JSON_DECODE_ANY, &jerr);
    char *text;

    assert_non_null(bad);
    text = set_text(bad, load_jwk("eddsa"));
    assert_int_equal(parse_set(text, &cap, &set, &err), WIF_OK);
    assert_int_equal(wif_jwks_count(set), 1);
    assert_non_null(wif_jwks_find(set, "eddsa", 5));
    assert_int_equal(cap.count, 1);
    assert_int_equal(cap.priority, LOG_WARNING);
    wif_jwks_free(set);
    free(text);
  }
}

/* D8 (policy): keys without kid are kept; they are found by position
 * only, never by kid, and an empty kid matches only an empty kid. */
static void test_d8_missing_kid(void **state) {
  struct wif_jwks *set = NULL;
  struct wif_error err;
  json_t *k = load_jwk("rs256");
  char *text;
  (void)state;

  json_object_del(k, "kid");
  text = set_text(k, load_jwk("es256"));
  assert_int_equal(parse_set(text, NULL, &set, &err), WIF_OK);
  assert_int_equal(wif_jwks_count(set), 2);
  assert_null(wif_jwk_kid(wif_jwks_at(set, 0)));
  assert_null(wif_jwks_find(set, "", 0));
  assert_null(wif_jwks_find(set, "rs256", 5));
  wif_jwks_free(set);
  free(text);

  /* kid must be a string of at most WIF_KID_MAX bytes. */
  k = load_jwk("rs256");
  json_object_set_new(k, "kid", json_integer(1));
  assert_int_equal(parse_one(k, &err), WIF_E_KEY_REJECTED);
  {
    char *big = malloc(WIF_KID_MAX + 2);

    assert_non_null(big);
    memset(big, 'k', WIF_KID_MAX + 1);
    big[WIF_KID_MAX + 1] = '\0';
    k = load_jwk("rs256");
    set_str(k, "kid", big);
    assert_int_equal(parse_one(k, &err), WIF_E_KEY_REJECTED);
    big[WIF_KID_MAX] = '\0';
    k = load_jwk("rs256");
    set_str(k, "kid", big);
    assert_int_equal(parse_one(k, &err), WIF_OK);
    free(big);
  }
}

/* D9: malformed sets are JWKS_INVALID as a whole. */
static void test_d9_malformed_sets(void **state) {
  static const char *const texts[] = {
      "",
      "{}",
      "[]",
      "{\"keys\":[]}",
      "{\"keys\":{}}",
      "{\"keys\":\"x\"}",
      "{\"keys\":null}",
      "{\"keys\":[{\"kty\":\"RSA\",\"n\":1,\"e\":\"AQAB\"}]}",
      "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AAAA\",\"e\":[]}]}",
      "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AA==\",\"e\":\"AQAB\"}]}",
      "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"A+/\","
      "\"y\":\"AA\"}]}",
      "{\"keys\":[{\"kty\":\"RSA\"",
      "{\"keys\":[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]}",
      "{\"keys\":[],\"keys\":[]}",
      "\xef\xbb\xbf{\"keys\":[]}",
  };
  (void)state;

  for (size_t i = 0; i < sizeof(texts) / sizeof(*texts); i++) {
    struct wif_jwks *set = (struct wif_jwks *)1;
    struct wif_error err;

    assert_int_equal(parse_set(texts[i], NULL, &set, &err), WIF_E_JWKS_INVALID);
    assert_null(set);
    assert_int_equal(err.rc, WIF_E_JWKS_INVALID);
  }
  {
    struct wif_jwks *set = NULL;
    struct wif_error err;

    assert_int_equal(wif_jwks_parse(NULL, 0, NULL, &set, &err),
                     WIF_E_JWKS_INVALID);
  }
}

/* Size cap and key count cap. */
static void test_limits(void **state) {
  struct wif_jwks *set = NULL;
  struct wif_error err;
  json_t *arr = json_array(), *root = json_object();
  char *text, *big;
  (void)state;

  for (int i = 0; i < WIF_JWKS_KEYS_MAX; i++) {
    json_t *k = load_jwk("es256");
    char kid[16];

    snprintf(kid, sizeof(kid), "k%d", i);
    set_str(k, "kid", kid);
    json_array_append_new(arr, k);
  }
  json_object_set(root, "keys", arr);
  text = json_dumps(root, JSON_COMPACT);
  assert_int_equal(parse_set(text, NULL, &set, &err), WIF_OK);
  assert_int_equal(wif_jwks_count(set), WIF_JWKS_KEYS_MAX);
  assert_non_null(wif_jwks_find(set, "k63", 3));
  wif_jwks_free(set);
  free(text);

  json_array_append_new(arr, load_jwk("es384"));
  text = json_dumps(root, JSON_COMPACT);
  assert_int_equal(parse_set(text, NULL, &set, &err), WIF_E_JWKS_INVALID);
  assert_null(set);
  free(text);
  json_decref(arr);
  json_decref(root);

  big = malloc(WIF_JWKS_SIZE_MAX + 2);
  assert_non_null(big);
  memset(big, ' ', WIF_JWKS_SIZE_MAX + 1);
  big[0] = '{';
  big[WIF_JWKS_SIZE_MAX] = '}';
  big[WIF_JWKS_SIZE_MAX + 1] = '\0';
  assert_int_equal(wif_jwks_parse(big, WIF_JWKS_SIZE_MAX + 1, NULL, &set, &err),
                   WIF_E_TOO_LARGE);
  assert_null(set);
  free(big);
}

/* D10: a key's alg hint binds it to exactly that alg; B6: a hint that does
 * not fit the key type rejects the key. */
static void test_d10_b6_alg_hint(void **state) {
  static const char *const bad_for_rsa[] = {
      "HS256", "none", "ES256", "EdDSA", "RSA-OAEP", "rs256", ""};
  struct wif_jwks *set = wif_test_jwks("jwks.json");
  struct wif_error err;
  json_t *k;
  (void)state;

  for (size_t i = 0; i < NKEYS; i++) {
    struct wif_jwk *key = wif_jwks_find(set, kids[i], strlen(kids[i]));

    for (int a = 0; a < WIF_ALG_COUNT; a++)
      assert_int_equal(wif_jwk_allows(key, (enum wif_alg)a),
                       (enum wif_alg)a == kid_algs[i]);
    assert_false(wif_jwk_allows(key, WIF_ALG_COUNT));
    assert_false(wif_jwk_allows(key, (enum wif_alg) - 1));
  }
  wif_jwks_free(set);

  for (size_t i = 0; i < sizeof(bad_for_rsa) / sizeof(*bad_for_rsa); i++) {
    k = load_jwk("rs256");
    set_str(k, "alg", bad_for_rsa[i]);
    assert_int_equal(parse_one(k, &err), WIF_E_KEY_REJECTED);
  }
  k = load_jwk("rs256");
  json_object_set_new(k, "alg", json_integer(1));
  assert_int_equal(parse_one(k, &err), WIF_E_KEY_REJECTED);
  k = load_jwk("es256");
  set_str(k, "alg", "RS256");
  assert_int_equal(parse_one(k, &err), WIF_E_KEY_REJECTED);
  k = load_jwk("eddsa");
  set_str(k, "alg", "ES256");
  assert_int_equal(parse_one(k, &err), WIF_E_KEY_REJECTED);
  /* An RSA key may carry any RSA alg hint. */
  k = load_jwk("rs256");
  set_str(k, "alg", "PS512");
  assert_int_equal(parse_one(k, &err), WIF_OK);

  /* Without a hint, kty decides. */
  set = wif_test_jwks("jwks-noalg.json");
  for (int a = 0; a < WIF_ALG_COUNT; a++) {
    assert_int_equal(
        wif_jwk_allows(wif_jwks_find(set, "rs256", 5), (enum wif_alg)a),
        wif_alg_is_rsa((enum wif_alg)a));
    assert_int_equal(
        wif_jwk_allows(wif_jwks_find(set, "eddsa", 5), (enum wif_alg)a),
        a == WIF_ALG_EDDSA);
  }
  wif_jwks_free(set);
}

/* D11: moduli above WIF_RSA_BITS_MAX are refused (CPU cost). */
static void test_d11_huge_rsa(void **state) {
  static unsigned char n[2048 + 1];
  struct wif_error err;
  json_t *k;
  (void)state;

  /* 8193 bits: 0x01 then 1024 octets of 0xff (odd). */
  n[0] = 0x01;
  memset(n + 1, 0xff, 1024);
  k = load_jwk("rs256");
  json_object_set_new(k, "n", b64_json(n, 1025));
  assert_int_equal(parse_one(k, &err), WIF_E_KEY_REJECTED);
  assert_non_null(strstr(err.msg, "8193"));
  /* 16384 bits. */
  memset(n, 0xff, 2048);
  k = load_jwk("rs256");
  json_object_set_new(k, "n", b64_json(n, 2048));
  assert_int_equal(parse_one(k, &err), WIF_E_KEY_REJECTED);
  /* Even modulus: not an RSA modulus at all. */
  memset(n, 0xff, 256);
  n[255] = 0xfe;
  k = load_jwk("rs256");
  json_object_set_new(k, "n", b64_json(n, 256));
  assert_int_equal(parse_one(k, &err), WIF_E_KEY_REJECTED);
}

/* The skip warning names the kid, sanitized. */
static void test_skip_log_sanitized(void **state) {
  struct wif_jwks *set = NULL;
  struct wif_error err;
  struct capture cap = {0};
  json_t *k = load_jwk("rsa1024");
  char *text;
  (void)state;

  set_str(k, "kid", "evil\nkid\x1b[0m");
  text = set_text(k, load_jwk("rs256"));
  assert_int_equal(parse_set(text, &cap, &set, &err), WIF_OK);
  assert_int_equal(cap.count, 1);
  assert_null(strchr(cap.last, '\n'));
  assert_null(strchr(cap.last, '\x1b'));
  assert_non_null(strstr(cap.last, "evil\\x0akid\\x1b[0m"));
  wif_jwks_free(set);
  free(text);

  /* Every key skipped: the set is unusable. */
  text = set_text(load_jwk("rsa1024"), NULL);
  assert_int_equal(parse_set(text, NULL, &set, &err), WIF_E_JWKS_INVALID);
  assert_null(set);
  free(text);
}

static void test_from_key_and_nulls(void **state) {
  struct wif_json_doc *doc = NULL;
  struct wif_jwk *key = NULL;
  struct wif_jwks *set = NULL;
  char *path = wif_test_key_path("eddsa.jwk.json");
  size_t len;
  char *text = wif_test_read(path, &len);
  (void)state;

  assert_int_equal(wif_json_parse(text, len, 4, &doc, NULL), WIF_OK);
  assert_int_equal(wif_jwk_parse(doc, wif_json_root(doc), &key, NULL), WIF_OK);
  wif_json_free(doc);
  assert_int_equal(wif_jwks_from_key(key, &set), WIF_OK);
  assert_int_equal(wif_jwks_count(set), 1);
  assert_ptr_equal(wif_jwks_find(set, "eddsa", 5), key);
  assert_non_null(wif_jwk_verifier_slot(key, WIF_ALG_EDDSA, wif_verifier_free));
  assert_null(wif_jwk_verifier_slot(key, WIF_ALG_COUNT, wif_verifier_free));
  assert_null(wif_jwk_verifier_slot(key, WIF_ALG_EDDSA, NULL));
  wif_jwks_free(set);

  assert_int_equal(wif_jwk_parse(NULL, NULL, &key, NULL), WIF_E_KEY_REJECTED);
  assert_null(key);
  assert_int_equal(wif_jwks_count(NULL), 0);
  assert_null(wif_jwks_at(NULL, 0));
  assert_null(wif_jwks_find(NULL, "a", 1));
  assert_null(wif_jwk_kid(NULL));
  assert_false(wif_jwk_alg(NULL, NULL));
  assert_false(wif_jwk_allows(NULL, WIF_ALG_RS256));
  wif_jwk_free(NULL);
  wif_jwks_free(NULL);
  free(text);
  free(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_all_kinds_import),
      cmocka_unit_test(test_d1_small_rsa),
      cmocka_unit_test(test_d2_rsa_exponent),
      cmocka_unit_test(test_d3_ec_points),
      cmocka_unit_test(test_c3_curve_alg),
      cmocka_unit_test(test_d4_duplicate_kid),
      cmocka_unit_test(test_d5_private_and_oct),
      cmocka_unit_test(test_d6_use_and_key_ops),
      cmocka_unit_test(test_d7_unknown_kty),
      cmocka_unit_test(test_d8_missing_kid),
      cmocka_unit_test(test_d9_malformed_sets),
      cmocka_unit_test(test_limits),
      cmocka_unit_test(test_d10_b6_alg_hint),
      cmocka_unit_test(test_d11_huge_rsa),
      cmocka_unit_test(test_skip_log_sanitized),
      cmocka_unit_test(test_from_key_and_nulls),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
