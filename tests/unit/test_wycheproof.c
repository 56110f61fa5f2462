/* SPDX-License-Identifier: Apache-2.0 */
/* Every Wycheproof vector we ship, run through the JWK, JWT and verify
 * paths, with each difference from the expected result explained. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "testutil.h"

#include "b64url.h"
#include "jwk.h"
#include "jwt.h"
#include "verify.h"

/*
 * Cases where our verdict differs from Wycheproof's "result", each with
 * the reason. The test fails on any difference not listed here, and on any
 * listed case that no longer differs.
 */
struct known {
  const char *file;
  int tc;
  const char *reason;
};

#define JWS "json_web_signature_test.json"
#define JWK "json_web_key_test.json"
#define HMAC "HS* (oct key): pam_wif never implements HMAC (B3, D5)"

static const struct known known[] = {
    {JWS, 1, HMAC},
    {JWS, 346,
     "RFC 7520 Figure 20: key alg hint PS256, token PS384; a present hint "
     "must equal the token alg (D10)"},
    {JWS, 347,
     "RFC 7520 Figure 27: key alg hint \"ES521\" names no JOSE algorithm, "
     "so the key is rejected at load (B6)"},
    {JWS, 348, HMAC},
    {JWS, 350, "as tc346, with key_ops [verify] (D10)"},
    {JWS, 351, "as tc347, with key_ops [verify] (B6)"},
    {JWS, 352, HMAC},
    {JWS, 357, HMAC},
    {JWS, 358, HMAC},
    {JWS, 359, HMAC},
    {JWS, 372,
     HMAC "; also '?' in the header, which strict base64url rejects (A4): "
          "mislabelled valid in this snapshot"},
    {JWS, 373,
     HMAC "; also '?' in the payload, which strict base64url rejects (A4): "
          "mislabelled valid in this snapshot"},
    {JWS, 376, HMAC},
    {JWS, 377, HMAC},
    {JWK, 2, HMAC},
    {JWK, 13, HMAC},
    {JWK, 14, HMAC},
    {JWK, 15, HMAC},
};
#define NKNOWN (sizeof(known) / sizeof(*known))

/*
 * "acceptable" results: Wycheproof allows either verdict. We pin ours so
 * that a change in OpenSSL or in our code shows up here.
 */
struct acceptable {
  const char *file;
  int tc;
  bool accept;
  const char *why;
};

static const struct acceptable acceptables[] = {
    {"rsa_signature_2048_sha256_test.json", 8, false,
     "DigestInfo without the NULL parameter: OpenSSL's RSA_verify compares "
     "against the one canonical encoding, so we reject"},
};
#define NACCEPTABLE (sizeof(acceptables) / sizeof(*acceptables))

/*
 * The base64 group is HS256-only, so its verdicts above are all "reject".
 * Its real subject, token framing, is checked separately: wif_jwt_parse
 * must succeed exactly for the "valid" cases, except for these.
 */
static const struct known framing_quirks[] = {
    {JWS, 367, "byte-identical to valid tc357, labelled invalid: parses"},
    {JWS, 370, "byte-identical to valid tc357, labelled invalid: parses"},
    {JWS, 372, "'?' in the header, labelled valid: we refuse it (A4)"},
    {JWS, 373, "'?' in the payload, labelled valid: we refuse it (A4)"},
};
#define NFRAMING (sizeof(framing_quirks) / sizeof(*framing_quirks))

struct tally {
  const char *file;
  int tests, valid, invalid, acceptable, accepted;
  int explained, unexplained;
  bool known_hit[NKNOWN];
};

static const struct known *find_known(const char *file, int tc) {
  for (size_t i = 0; i < NKNOWN; i++) {
    if (strcmp(known[i].file, file) == 0 && known[i].tc == tc)
      return &known[i];
  }
  return NULL;
}

static json_t *load_vectors(const char *file) {
  char *dir = wif_test_path(WIF_VECTORS_DIR, "wycheproof");
  char *path = wif_test_path(dir, file);
  json_error_t jerr;
  json_t *root = json_load_file(path, 0, &jerr);

  if (root == NULL)
    fail_msg("%s: %s (line %d)", path, jerr.text, jerr.line);
  free(path);
  free(dir);
  return root;
}

/* Records one verdict against the expected result. */
static void record(struct tally *t, int tc, const char *result, bool accepted,
                   const char *comment) {
  t->tests++;
  if (accepted)
    t->accepted++;
  if (strcmp(result, "acceptable") == 0) {
    bool pinned = false;

    t->acceptable++;
    for (size_t i = 0; i < NACCEPTABLE; i++) {
      if (strcmp(acceptables[i].file, t->file) == 0 &&
          acceptables[i].tc == tc) {
        pinned = true;
        if (acceptables[i].accept != accepted) {
          printf("%s tc%d (acceptable): we %s, documented %s\n", t->file, tc,
                 accepted ? "accept" : "reject",
                 acceptables[i].accept ? "accept" : "reject");
          t->unexplained++;
        }
      }
    }
    if (!pinned) {
      printf("%s tc%d (acceptable, %s): we %s, not documented\n", t->file, tc,
             comment, accepted ? "accept" : "reject");
      t->unexplained++;
    }
    return;
  }
  bool want = strcmp(result, "valid") == 0;
  if (want)
    t->valid++;
  else
    t->invalid++;
  const struct known *k = find_known(t->file, tc);
  if (want == accepted) {
    if (k != NULL) {
      printf("%s tc%d: listed as differing but matches now\n", t->file, tc);
      t->unexplained++;
    }
    return;
  }
  if (k == NULL) {
    printf("%s tc%d (%s): expected %s, we %s\n", t->file, tc, comment, result,
           accepted ? "accept" : "reject");
    t->unexplained++;
    return;
  }
  t->known_hit[k - known] = true;
  t->explained++;
}

static void finish(struct tally *t, int declared) {
  for (size_t i = 0; i < NKNOWN; i++) {
    if (strcmp(known[i].file, t->file) == 0 && !t->known_hit[i]) {
      printf("%s tc%d: listed as differing, but not seen\n", t->file,
             known[i].tc);
      t->unexplained++;
    }
  }
  printf("%s: %d tests (%d valid, %d invalid, %d acceptable), %d accepted, "
         "%d explained differences, %d unexplained\n",
         t->file, t->tests, t->valid, t->invalid, t->acceptable, t->accepted,
         t->explained, t->unexplained);
  assert_int_equal(t->tests, declared);
  assert_int_equal(t->unexplained, 0);
}

/* Builds a key set from a JWK or {"keys":[...]} JSON value through
 * wif_jwks_parse, so every whole-set rule applies. NULL when refused. */
static struct wif_jwks *set_from_json(json_t *keys) {
  struct wif_jwks *set = NULL;
  json_t *wrapped = NULL;
  char *text;

  if (json_object_get(keys, "keys") != NULL) {
    text = json_dumps(keys, JSON_COMPACT);
  } else {
    wrapped = json_pack("{s:[O]}", "keys", keys);
    assert_non_null(wrapped);
    text = json_dumps(wrapped, JSON_COMPACT);
  }
  assert_non_null(text);
  if (wif_jwks_parse(text, strlen(text), NULL, &set, NULL) != WIF_OK)
    set = NULL;
  free(text);
  json_decref(wrapped);
  return set;
}

/* Full token decision as pam_wif makes it, without claims (the payloads
 * are not claims sets): parse, known alg, key by kid (or every key that
 * allows alg when there is no kid), then the signature. */
static bool jws_accepts(const struct wif_jwks *set, const char *jws) {
  struct wif_jwt *jwt = NULL;
  bool ok = false;

  if (set == NULL)
    return false;
  if (wif_jwt_parse(jws, strlen(jws), &jwt, NULL) != WIF_OK)
    return false;
  if (!jwt->alg_known)
    goto out;
  for (size_t i = 0; i < wif_jwks_count(set) && !ok; i++) {
    struct wif_jwk *key = wif_jwks_at(set, i);

    if (jwt->kid != NULL) {
      key = wif_jwks_find(set, jwt->kid, jwt->kid_len);
      i = wif_jwks_count(set); /* only the one */
    }
    if (key == NULL || !wif_jwk_allows(key, jwt->alg))
      continue;
    ok = wif_verify_signature(key, jwt->alg,
                              (const unsigned char *)jwt->signing_input,
                              jwt->signing_input_len, jwt->signature,
                              jwt->signature_len) == WIF_OK;
  }

out:
  wif_jwt_free(jwt);
  return ok;
}

static void run_jose_file(const char *file) {
  json_t *root = load_vectors(file);
  struct tally t = {.file = file};
  size_t gi, ti;
  json_t *g, *tc;
  int framing_checked = 0;

  json_array_foreach(json_object_get(root, "testGroups"), gi, g) {
    json_t *keys = json_object_get(g, "public");
    const char *comment = json_string_value(json_object_get(g, "comment"));
    struct wif_jwks *set;

    /* Groups without a public key hold only secret (oct) keys: feed those
     * to the parser too, which must refuse them (D5). */
    if (keys == NULL)
      keys = json_object_get(g, "private");
    set = set_from_json(keys);
    json_array_foreach(json_object_get(g, "tests"), ti, tc) {
      int id = (int)json_integer_value(json_object_get(tc, "tcId"));
      const char *jws = json_string_value(json_object_get(tc, "jws"));
      const char *result = json_string_value(json_object_get(tc, "result"));
      bool accepted = jws_accepts(set, jws);

      record(&t, id, result, accepted,
             json_string_value(json_object_get(tc, "comment")));
      if (comment != NULL && strcmp(comment, "base64") == 0) {
        struct wif_jwt *jwt = NULL;
        bool parses = wif_jwt_parse(jws, strlen(jws), &jwt, NULL) == WIF_OK;
        bool want = strcmp(result, "valid") == 0;

        for (size_t q = 0; q < NFRAMING; q++) {
          if (framing_quirks[q].tc == id)
            want = !want;
        }
        if (parses != want)
          printf("%s tc%d framing: parse %s\n", file, id,
                 parses ? "succeeded" : "failed");
        assert_int_equal(parses, want);
        framing_checked++;
        wif_jwt_free(jwt);
      }
    }
    wif_jwks_free(set);
  }
  if (strcmp(file, JWS) == 0)
    assert_int_equal(framing_checked, 21);
  finish(&t, (int)json_integer_value(json_object_get(root, "numberOfTests")));
  json_decref(root);
}

static void test_json_web_signature(void **state) {
  (void)state;
  run_jose_file(JWS);
}

static void test_json_web_key(void **state) {
  (void)state;
  run_jose_file(JWK);
}

static unsigned char *hex_decode(const char *hex, size_t *out_len) {
  size_t n = strlen(hex) / 2;
  unsigned char *out = malloc(n + 1);

  assert_non_null(out);
  assert_int_equal(strlen(hex) % 2, 0);
  for (size_t i = 0; i < n; i++) {
    char byte[3] = {hex[2 * i], hex[2 * i + 1], '\0'};
    char *end;

    out[i] = (unsigned char)strtoul(byte, &end, 16);
    assert_ptr_equal(end, byte + 2);
  }
  *out_len = n;
  return out;
}

/* base64url JSON string of hex digits, leading zeros stripped and then
 * left-padded to pad octets when pad > 0. */
static json_t *hex_to_b64(const char *hex, size_t pad) {
  size_t len, off = 0;
  unsigned char *raw = hex_decode(hex, &len);
  unsigned char buf[1100] = {0};
  char *s;
  json_t *j;

  while (off < len && raw[off] == 0)
    off++;
  len -= off;
  if (pad == 0)
    pad = len;
  assert_true(len <= pad && pad <= sizeof(buf));
  memcpy(buf + (pad - len), raw + off, len);
  s = wif_test_b64(buf, pad);
  j = json_string(s);
  free(s);
  free(raw);
  return j;
}

/* The group's key as a JWK: publicKeyJwk or keyJwk when given, else built
 * from the raw public key numbers. */
static json_t *group_jwk(json_t *g, const char *crv, size_t coord) {
  json_t *j = json_object_get(g, "publicKeyJwk");
  json_t *pk = json_object_get(g, "publicKey");

  if (j == NULL)
    j = json_object_get(g, "keyJwk");
  if (j != NULL)
    return json_incref(j);
  assert_non_null(pk);
  if (json_object_get(pk, "modulus") != NULL)
    return json_pack(
        "{s:s,s:o,s:o}", "kty", "RSA", "n",
        hex_to_b64(json_string_value(json_object_get(pk, "modulus")), 0), "e",
        hex_to_b64(json_string_value(json_object_get(pk, "publicExponent")),
                   0));
  return json_pack(
      "{s:s,s:s,s:o,s:o}", "kty", "EC", "crv", crv, "x",
      hex_to_b64(json_string_value(json_object_get(pk, "wx")), coord), "y",
      hex_to_b64(json_string_value(json_object_get(pk, "wy")), coord));
}

static void run_raw_file(const char *file, enum wif_alg alg, const char *crv,
                         size_t coord) {
  json_t *root = load_vectors(file);
  struct tally t = {.file = file};
  size_t gi, ti;
  json_t *g, *tc;

  json_array_foreach(json_object_get(root, "testGroups"), gi, g) {
    json_t *jwk = group_jwk(g, crv, coord);
    struct wif_jwks *set = set_from_json(jwk);
    struct wif_jwk *key = wif_jwks_at(set, 0);

    if (key == NULL)
      printf("%s group %zu: key refused\n", file, gi);
    json_array_foreach(json_object_get(g, "tests"), ti, tc) {
      int id = (int)json_integer_value(json_object_get(tc, "tcId"));
      size_t msg_len, sig_len;
      unsigned char *msg =
          hex_decode(json_string_value(json_object_get(tc, "msg")), &msg_len);
      unsigned char *sig =
          hex_decode(json_string_value(json_object_get(tc, "sig")), &sig_len);
      bool accepted =
          key != NULL &&
          wif_verify_signature(key, alg, msg, msg_len, sig, sig_len) == WIF_OK;

      record(&t, id, json_string_value(json_object_get(tc, "result")), accepted,
             json_string_value(json_object_get(tc, "comment")));
      free(msg);
      free(sig);
    }
    wif_jwks_free(set);
    json_decref(jwk);
  }
  finish(&t, (int)json_integer_value(json_object_get(root, "numberOfTests")));
  json_decref(root);
}

static void test_ecdsa_p256(void **state) {
  (void)state;
  run_raw_file("ecdsa_secp256r1_sha256_p1363_test.json", WIF_ALG_ES256, "P-256",
               32);
}

static void test_ecdsa_p384(void **state) {
  (void)state;
  run_raw_file("ecdsa_secp384r1_sha384_p1363_test.json", WIF_ALG_ES384, "P-384",
               48);
}

static void test_ecdsa_p521(void **state) {
  (void)state;
  run_raw_file("ecdsa_secp521r1_sha512_p1363_test.json", WIF_ALG_ES512, "P-521",
               66);
}

static void test_rsa_pkcs1(void **state) {
  (void)state;
  run_raw_file("rsa_signature_2048_sha256_test.json", WIF_ALG_RS256, NULL, 0);
}

static void test_rsa_pss(void **state) {
  (void)state;
  run_raw_file("rsa_pss_2048_sha256_mgf1_32_test.json", WIF_ALG_PS256, NULL, 0);
}

static void test_ed25519(void **state) {
  (void)state;
  run_raw_file("ed25519_test.json", WIF_ALG_EDDSA, NULL, 0);
}

/* The explanation table itself: every entry has a reason. */
/* One JWK given as jansson JSON through the key policy. */
static wif_rc parse_jwk_json(json_t *k, struct wif_error *err) {
  char *text = json_dumps(k, JSON_COMPACT);
  struct wif_json_doc *doc = NULL;
  struct wif_jwk *key = NULL;
  wif_rc rc;

  assert_non_null(text);
  assert_int_equal(wif_json_parse(text, strlen(text), 8, &doc, NULL), WIF_OK);
  rc = wif_jwk_parse(doc, wif_json_root(doc), &key, err);
  assert_true((rc == WIF_OK) == (key != NULL));
  wif_jwk_free(key);
  wif_json_free(doc);
  free(text);
  return rc;
}

/* D12: the ROCA-weak key of json_web_key_test (tc7) is refused by its
 * fingerprint; the other 2048-bit keys there pass. */
static void test_d12_roca(void **state) {
  json_t *root = load_vectors("json_web_key_test.json"), *g;
  size_t i;
  int seen = 0;
  bool good_checked = false;
  (void)state;

  json_array_foreach(json_object_get(root, "testGroups"), i, g) {
    const char *comment = json_string_value(json_object_get(g, "comment"));
    json_t *k = json_array_get(
        json_object_get(json_object_get(g, "public"), "keys"), 0);
    struct wif_error err;

    if (k == NULL || comment == NULL)
      continue;
    if (strcmp(comment, "jws_rsa_roca_key") == 0) {
      assert_int_equal(parse_jwk_json(k, &err), WIF_E_KEY_REJECTED);
      assert_non_null(strstr(err.msg, "ROCA"));
      seen++;
    } else if (strcmp(comment, "rs256") == 0 && !good_checked) {
      assert_int_equal(parse_jwk_json(k, &err), WIF_OK);
      good_checked = true;
    }
  }
  assert_int_equal(seen, 1);
  assert_true(good_checked);
  json_decref(root);
}

static void test_tables_documented(void **state) {
  (void)state;
  for (size_t i = 0; i < NKNOWN; i++)
    assert_true(strlen(known[i].reason) > 10);
  for (size_t i = 0; i < NACCEPTABLE; i++)
    assert_true(strlen(acceptables[i].why) > 10);
  for (size_t i = 0; i < NFRAMING; i++)
    assert_true(strlen(framing_quirks[i].reason) > 10);
}

int main(void) {
  char *dir = wif_test_path(WIF_VECTORS_DIR, "wycheproof");
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_tables_documented),
      cmocka_unit_test(test_json_web_signature),
      cmocka_unit_test(test_json_web_key),
      cmocka_unit_test(test_ecdsa_p256),
      cmocka_unit_test(test_ecdsa_p384),
      cmocka_unit_test(test_ecdsa_p521),
      cmocka_unit_test(test_rsa_pkcs1),
      cmocka_unit_test(test_rsa_pss),
      cmocka_unit_test(test_ed25519),
      cmocka_unit_test(test_d12_roca),
  };

  /* The vectors are read where the project keeps them (shared/vectors
   * beside the checkout), never copied in. Without them this program is
   * reported as skipped, never as passed. */
  if (access(dir, R_OK | X_OK) != 0) {
    printf("test_wycheproof: no vectors at %s (set WIF_VECTORS_DIR): "
           "skipped\n", dir);
    free(dir);
    return WIF_TEST_SKIP;
  }
  free(dir);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
