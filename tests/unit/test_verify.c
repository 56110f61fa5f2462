/* SPDX-License-Identifier: Apache-2.0 */
/* Signature verification per algorithm (SECURITY-CASES A7-A9, B3, B4,
 * C1, C2, C5-C7, C9-C11). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "testutil.h"

#include "jwt.h"
#include "verify.h"

static const char *const kids[] = {"rs256", "rs384", "rs512", "ps256", "ps384",
                                   "ps512", "es256", "es384", "es512", "eddsa"};
#define NKEYS (sizeof(kids) / sizeof(*kids))

static const char claims[] =
    "{\"iss\":\"https://issuer.example\",\"sub\":\"alice\",\"aud\":\"pam\","
    "\"exp\":1767229200,\"iat\":1767225600}";

struct fixture {
  struct wif_jwks *set;   /* with alg hints */
  struct wif_jwks *noalg; /* same keys, no hints */
};

static int setup(void **state) {
  struct fixture *f = calloc(1, sizeof(*f));

  if (f == NULL)
    return -1;
  f->set = wif_test_jwks("jwks.json");
  f->noalg = wif_test_jwks("jwks-noalg.json");
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fixture *f = *state;

  wif_jwks_free(f->set);
  wif_jwks_free(f->noalg);
  free(f);
  return 0;
}

static struct wif_jwk *key_of(const struct wif_jwks *set, const char *kid) {
  struct wif_jwk *k = wif_jwks_find(set, kid, strlen(kid));

  assert_non_null(k);
  return k;
}

static struct wif_jwt *parse(const char *token) {
  struct wif_jwt *jwt = NULL;
  struct wif_error err;

  if (wif_jwt_parse(token, strlen(token), &jwt, &err) != WIF_OK)
    fail_msg("parse: %s", err.msg);
  return jwt;
}

static wif_rc verify_jwt(struct wif_jwk *key, enum wif_alg alg,
                         const struct wif_jwt *jwt, const unsigned char *sig,
                         size_t sig_len) {
  return wif_verify_signature(key, alg,
                              (const unsigned char *)jwt->signing_input,
                              jwt->signing_input_len, sig, sig_len);
}

static wif_rc verify_token(struct wif_jwk *key, const char *token) {
  struct wif_jwt *jwt = parse(token);
  wif_rc rc;

  assert_true(jwt->alg_known);
  rc = verify_jwt(key, jwt->alg, jwt, jwt->signature, jwt->signature_len);
  wif_jwt_free(jwt);
  return rc;
}

/* All ten algorithms verify, twice (the second call reuses the prepared
 * verifier), with hinted and unhinted keys. */
static void test_valid_all_algs(void **state) {
  struct fixture *f = *state;

  for (size_t i = 0; i < NKEYS; i++) {
    enum wif_alg alg;
    char *token;

    assert_true(wif_jwk_alg(key_of(f->set, kids[i]), &alg));
    token = wif_test_sign(kids[i], wif_alg_name(alg), NULL, claims);
    for (int rep = 0; rep < 2; rep++) {
      assert_int_equal(verify_token(key_of(f->set, kids[i]), token), WIF_OK);
      assert_int_equal(verify_token(key_of(f->noalg, kids[i]), token), WIF_OK);
    }
    free(token);
  }
}

/* B3/B4: each hinted key with each other alg is refused before any
 * signature work; unhinted keys still refuse other key types and curves. */
static void test_b3_b4_wrong_alg(void **state) {
  struct fixture *f = *state;
  unsigned char sig[512] = {1};

  for (size_t i = 0; i < NKEYS; i++) {
    struct wif_jwk *key = key_of(f->set, kids[i]);
    struct wif_jwk *plain = key_of(f->noalg, kids[i]);
    enum wif_alg own;

    assert_true(wif_jwk_alg(key, &own));
    for (int a = 0; a < WIF_ALG_COUNT; a++) {
      enum wif_alg alg = (enum wif_alg)a;
      bool fits;

      if (alg == own)
        continue;
      assert_int_equal(wif_verify_signature(key, alg,
                                            (const unsigned char *)"x", 1, sig,
                                            sizeof(sig)),
                       WIF_E_ALG_NOT_ALLOWED);
      fits = (wif_alg_is_rsa(own) && wif_alg_is_rsa(alg));
      if (!fits)
        assert_int_equal(wif_verify_signature(plain, alg,
                                              (const unsigned char *)"x", 1,
                                              sig, sizeof(sig)),
                         WIF_E_ALG_NOT_ALLOWED);
    }
  }
  /* The header says RS512 but the key is bound to RS256 (B4). */
  {
    char *token = wif_test_sign("rs256", "RS512", NULL, claims);
    assert_int_equal(verify_token(key_of(f->set, "rs256"), token),
                     WIF_E_ALG_NOT_ALLOWED);
    free(token);
  }
  /* HS256 cannot even be named (B3): the token's alg is unknown. */
  {
    static const char hdr[] = "{\"alg\":\"HS256\",\"kid\":\"rs256\"}";
    char *h = wif_test_b64(hdr, strlen(hdr));
    char *p = wif_test_b64(claims, strlen(claims));
    char *token = wif_test_join(h, p, "AAAA");
    struct wif_jwt *jwt = parse(token);

    assert_false(jwt->alg_known);
    wif_jwt_free(jwt);
    free(h);
    free(p);
    free(token);
  }
}

/* A7: empty signature, for every algorithm. */
static void test_a7_empty_signature(void **state) {
  struct fixture *f = *state;

  for (size_t i = 0; i < NKEYS; i++) {
    struct wif_jwk *key = key_of(f->set, kids[i]);
    enum wif_alg alg;
    char *token;
    char *dot;

    assert_true(wif_jwk_alg(key, &alg));
    token = wif_test_sign(kids[i], wif_alg_name(alg), NULL, claims);
    dot = strrchr(token, '.');
    dot[1] = '\0';
    assert_int_equal(verify_token(key, token), WIF_E_BAD_SIGNATURE);
    assert_int_equal(
        wif_verify_signature(key, alg, (const unsigned char *)"a", 1, NULL, 0),
        WIF_E_BAD_SIGNATURE);
    free(token);
  }
}

/* A8, A9, C2: any length but the exact one is refused before OpenSSL;
 * prepended/appended zeros and truncation included. */
static void test_a8_a9_c2_lengths(void **state) {
  struct fixture *f = *state;

  for (size_t i = 0; i < NKEYS; i++) {
    struct wif_jwk *key = key_of(f->set, kids[i]);
    enum wif_alg alg;
    unsigned char buf[1200];
    struct wif_jwt *jwt;
    size_t n;
    char *token;

    assert_true(wif_jwk_alg(key, &alg));
    token = wif_test_sign(kids[i], wif_alg_name(alg), NULL, claims);
    jwt = parse(token);
    n = jwt->signature_len;
    assert_true(n + 1 <= sizeof(buf));
    /* short "AAAA"-style signature */
    memset(buf, 0, 3);
    assert_int_equal(verify_jwt(key, alg, jwt, buf, 3), WIF_E_BAD_SIGNATURE);
    /* prepended zero */
    buf[0] = 0;
    memcpy(buf + 1, jwt->signature, n);
    assert_int_equal(verify_jwt(key, alg, jwt, buf, n + 1),
                     WIF_E_BAD_SIGNATURE);
    /* appended zero */
    memcpy(buf, jwt->signature, n);
    buf[n] = 0;
    assert_int_equal(verify_jwt(key, alg, jwt, buf, n + 1),
                     WIF_E_BAD_SIGNATURE);
    /* truncated by one */
    assert_int_equal(verify_jwt(key, alg, jwt, jwt->signature, n - 1),
                     WIF_E_BAD_SIGNATURE);
    /* and the verifier still works afterwards */
    assert_int_equal(verify_jwt(key, alg, jwt, jwt->signature, n), WIF_OK);
    wif_jwt_free(jwt);
    free(token);
  }
}

/* C2: an ECDSA signature in DER (what OpenSSL produces) is not JOSE. */
static void test_c2_der_signature(void **state) {
  struct fixture *f = *state;
  char *token = wif_test_sign("es256", "ES256", NULL, claims);
  struct wif_jwt *jwt = parse(token);
  ECDSA_SIG *es = ECDSA_SIG_new();
  unsigned char *der = NULL;
  int der_len;

  assert_non_null(es);
  assert_int_equal(ECDSA_SIG_set0(es, BN_bin2bn(jwt->signature, 32, NULL),
                                  BN_bin2bn(jwt->signature + 32, 32, NULL)),
                   1);
  der_len = i2d_ECDSA_SIG(es, &der);
  assert_true(der_len > 0);
  assert_int_equal(verify_jwt(key_of(f->set, "es256"), WIF_ALG_ES256, jwt, der,
                              (size_t)der_len),
                   WIF_E_BAD_SIGNATURE);
  OPENSSL_free(der);
  ECDSA_SIG_free(es);
  wif_jwt_free(jwt);
  free(token);
}

/* C1: r or s of 0, 1, n-1, n, or above n. */
static void test_c1_ecdsa_special_values(void **state) {
  static const unsigned char p256_n[32] = {
      0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
      0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17,
      0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};
  struct fixture *f = *state;
  struct wif_jwk *key = key_of(f->set, "es256");
  char *token = wif_test_sign("es256", "ES256", NULL, claims);
  struct wif_jwt *jwt = parse(token);
  unsigned char vals[5][32], sig[64];
  (void)state;

  memset(vals, 0, sizeof(vals));
  vals[1][31] = 1;             /* 1 */
  memcpy(vals[2], p256_n, 32); /* n - 1 */
  vals[2][31] = 0x50;
  memcpy(vals[3], p256_n, 32); /* n */
  memset(vals[4], 0xff, 32);   /* > n */
  for (int r = 0; r < 5; r++) {
    for (int s = 0; s < 5; s++) {
      memcpy(sig, vals[r], 32);
      memcpy(sig + 32, vals[s], 32);
      assert_int_equal(verify_jwt(key, WIF_ALG_ES256, jwt, sig, 64),
                       WIF_E_BAD_SIGNATURE);
    }
    /* Paired with the genuine other half. */
    memcpy(sig, vals[r], 32);
    memcpy(sig + 32, jwt->signature + 32, 32);
    assert_int_equal(verify_jwt(key, WIF_ALG_ES256, jwt, sig, 64),
                     WIF_E_BAD_SIGNATURE);
    memcpy(sig, jwt->signature, 32);
    memcpy(sig + 32, vals[r], 32);
    assert_int_equal(verify_jwt(key, WIF_ALG_ES256, jwt, sig, 64),
                     WIF_E_BAD_SIGNATURE);
  }
  /* r + n (an unreduced r) with a valid s: 33 octets, so wrong size. */
  assert_int_equal(verify_jwt(key, WIF_ALG_ES256, jwt, jwt->signature, 64),
                   WIF_OK);
  wif_jwt_free(jwt);
  free(token);
}

/* C7: RSA signature integers 0, 1, n-1, n and above n. */
static void test_c7_rsa_special_values(void **state) {
  struct fixture *f = *state;
  struct wif_jwk *key = key_of(f->set, "ps256");
  char *token = wif_test_sign("ps256", "PS256", NULL, claims);
  struct wif_jwt *jwt = parse(token);
  BIGNUM *n = NULL;
  unsigned char v[256];

  assert_int_equal(jwt->signature_len, 256);
  assert_int_equal(EVP_PKEY_get_bn_param(wif_jwk_pkey(key), "n", &n), 1);
  memset(v, 0, sizeof(v));
  assert_int_equal(verify_jwt(key, WIF_ALG_PS256, jwt, v, 256),
                   WIF_E_BAD_SIGNATURE);
  v[255] = 1;
  assert_int_equal(verify_jwt(key, WIF_ALG_PS256, jwt, v, 256),
                   WIF_E_BAD_SIGNATURE);
  assert_int_equal(BN_bn2binpad(n, v, 256), 256);
  assert_int_equal(verify_jwt(key, WIF_ALG_PS256, jwt, v, 256),
                   WIF_E_BAD_SIGNATURE);
  v[255] ^= 1; /* n is odd: n - 1 */
  assert_int_equal(verify_jwt(key, WIF_ALG_PS256, jwt, v, 256),
                   WIF_E_BAD_SIGNATURE);
  memset(v, 0xff, sizeof(v));
  assert_int_equal(verify_jwt(key, WIF_ALG_PS256, jwt, v, 256),
                   WIF_E_BAD_SIGNATURE);
  /* Signature + n (not reduced) does not fit in 256 octets or is >= n. */
  assert_int_equal(verify_jwt(key, WIF_ALG_PS256, jwt, jwt->signature, 256),
                   WIF_OK);
  BN_free(n);
  wif_jwt_free(jwt);
  free(token);
}

/* Signs input with PSS under the given salt length and MGF1 digest. */
static size_t sign_pss(const char *kid, const char *md, const char *mgf_md,
                       int salt, const char *input, unsigned char *sig) {
  char name[64];
  char *path;
  FILE *fp;
  EVP_PKEY *pkey;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX *pctx = NULL;
  size_t len = 1024;

  snprintf(name, sizeof(name), "%s.key.pem", kid);
  path = wif_test_key_path(name);
  fp = fopen(path, "r");
  assert_non_null(fp);
  pkey = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
  fclose(fp);
  assert_non_null(pkey);
  assert_int_equal(
      EVP_DigestSignInit_ex(ctx, &pctx, md, NULL, NULL, pkey, NULL), 1);
  assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING),
                   1);
  assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, salt), 1);
  assert_int_equal(EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, mgf_md, NULL), 1);
  assert_int_equal(EVP_DigestSign(ctx, sig, &len, (const unsigned char *)input,
                                  strlen(input)),
                   1);
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(pkey);
  free(path);
  return len;
}

/* C5/C6: PSS salt must equal the hash length; MGF1 must use the same hash;
 * PS384 material is not PS256. */
static void test_c5_c6_pss_params(void **state) {
  static const int salts[] = {0, 1, 20, 31, 33, 64};
  struct fixture *f = *state;
  struct wif_jwk *key = key_of(f->set, "ps256");
  const char *input = "eyJhbGciOiJQUzI1NiJ9.eyJhIjoxfQ";
  unsigned char sig[1024];
  size_t len;

  len = sign_pss("ps256", "SHA256", "SHA256", 32, input, sig);
  assert_int_equal(wif_verify_signature(key, WIF_ALG_PS256,
                                        (const unsigned char *)input,
                                        strlen(input), sig, len),
                   WIF_OK);
  for (size_t i = 0; i < sizeof(salts) / sizeof(*salts); i++) {
    len = sign_pss("ps256", "SHA256", "SHA256", salts[i], input, sig);
    assert_int_equal(wif_verify_signature(key, WIF_ALG_PS256,
                                          (const unsigned char *)input,
                                          strlen(input), sig, len),
                     WIF_E_BAD_SIGNATURE);
  }
  len = sign_pss("ps256", "SHA256", "SHA1", 32, input, sig);
  assert_int_equal(wif_verify_signature(key, WIF_ALG_PS256,
                                        (const unsigned char *)input,
                                        strlen(input), sig, len),
                   WIF_E_BAD_SIGNATURE);
  /* A PS384 signature by the same (unhinted) key checked as PS256. */
  key = key_of(f->noalg, "ps256");
  len = sign_pss("ps256", "SHA384", "SHA384", 48, input, sig);
  assert_int_equal(wif_verify_signature(key, WIF_ALG_PS256,
                                        (const unsigned char *)input,
                                        strlen(input), sig, len),
                   WIF_E_BAD_SIGNATURE);
  assert_int_equal(wif_verify_signature(key, WIF_ALG_PS384,
                                        (const unsigned char *)input,
                                        strlen(input), sig, len),
                   WIF_OK);
  /* Same key, RS256 verifier next to the PSS one: no cross-talk. */
  assert_int_equal(wif_verify_signature(key, WIF_ALG_RS384,
                                        (const unsigned char *)input,
                                        strlen(input), sig, len),
                   WIF_E_BAD_SIGNATURE);
}

/* C9: Ed25519 with S + L (malleated), and wrong lengths. */
static void test_c9_ed25519_malleability(void **state) {
  static const unsigned char order[32] = {
      0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
      0xa2, 0xde, 0xf9, 0xde, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10};
  struct fixture *f = *state;
  struct wif_jwk *key = key_of(f->set, "eddsa");
  char *token = wif_test_sign("eddsa", "EdDSA", NULL, claims);
  struct wif_jwt *jwt = parse(token);
  unsigned char sig[65];
  unsigned carry = 0;

  assert_int_equal(jwt->signature_len, 64);
  memcpy(sig, jwt->signature, 64);
  /* S is little-endian in the second half; add the group order L. */
  for (int i = 0; i < 32; i++) {
    unsigned sum = sig[32 + i] + order[i] + carry;
    sig[32 + i] = (unsigned char)sum;
    carry = sum >> 8;
  }
  assert_int_equal(verify_jwt(key, WIF_ALG_EDDSA, jwt, sig, 64),
                   WIF_E_BAD_SIGNATURE);
  assert_int_equal(verify_jwt(key, WIF_ALG_EDDSA, jwt, jwt->signature, 63),
                   WIF_E_BAD_SIGNATURE);
  memcpy(sig, jwt->signature, 64);
  sig[64] = 0;
  assert_int_equal(verify_jwt(key, WIF_ALG_EDDSA, jwt, sig, 65),
                   WIF_E_BAD_SIGNATURE);
  assert_int_equal(verify_jwt(key, WIF_ALG_EDDSA, jwt, jwt->signature, 64),
                   WIF_OK);
  wif_jwt_free(jwt);
  free(token);
}

/* C10: one flipped bit anywhere in header, payload or signature. C11: an
 * expired token with a bad signature is a signature failure here (claims
 * are not looked at before the signature). */
static void test_c10_c11_bit_flips(void **state) {
  struct fixture *f = *state;

  for (size_t i = 0; i < NKEYS; i++) {
    struct wif_jwk *key = key_of(f->set, kids[i]);
    enum wif_alg alg;
    struct wif_jwt *jwt;
    char *token;
    size_t positions[3];

    assert_true(wif_jwk_alg(key, &alg));
    token = wif_test_sign(kids[i], wif_alg_name(alg), NULL,
                          "{\"sub\":\"a\",\"exp\":1}");
    jwt = parse(token);
    positions[0] = 3;
    positions[1] = jwt->signing_input_len - 2;
    positions[2] = jwt->signing_input_len / 2;
    for (size_t p = 0; p < 3; p++) {
      jwt->signing_input[positions[p]] ^= 0x01;
      assert_int_equal(
          verify_jwt(key, alg, jwt, jwt->signature, jwt->signature_len),
          WIF_E_BAD_SIGNATURE);
      jwt->signing_input[positions[p]] ^= 0x01;
    }
    for (size_t p = 0; p < jwt->signature_len; p += 7) {
      jwt->signature[p] ^= 0x80;
      assert_int_equal(
          verify_jwt(key, alg, jwt, jwt->signature, jwt->signature_len),
          WIF_E_BAD_SIGNATURE);
      jwt->signature[p] ^= 0x80;
    }
    assert_int_equal(
        verify_jwt(key, alg, jwt, jwt->signature, jwt->signature_len), WIF_OK);
    wif_jwt_free(jwt);
    free(token);
  }
}

/* Verification is over the exact signing input: whitespace inside the
 * header JSON is part of what was signed (C10). */
static void test_c10_whitespace_header(void **state) {
  struct fixture *f = *state;
  char *token =
      wif_test_sign("es384", "ES384",
                    "{ \"alg\" : \"ES384\" ,\n \"kid\":\"es384\" }", claims);

  assert_int_equal(verify_token(key_of(f->set, "es384"), token), WIF_OK);
  free(token);
}

static void test_bad_arguments(void **state) {
  struct fixture *f = *state;
  unsigned char sig[64] = {0};

  assert_int_equal(wif_verify_signature(NULL, WIF_ALG_RS256,
                                        (const unsigned char *)"a", 1, sig, 64),
                   WIF_E_INTERNAL);
  assert_int_equal(wif_verify_signature(key_of(f->set, "eddsa"), WIF_ALG_EDDSA,
                                        NULL, 5, sig, 64),
                   WIF_E_INTERNAL);
  assert_int_equal(wif_verify_signature(key_of(f->set, "eddsa"), WIF_ALG_COUNT,
                                        (const unsigned char *)"a", 1, sig, 64),
                   WIF_E_ALG_NOT_ALLOWED);
  /* Empty input is a valid (if odd) message; the signature still fails. */
  assert_int_equal(wif_verify_signature(key_of(f->set, "eddsa"), WIF_ALG_EDDSA,
                                        NULL, 0, sig, 64),
                   WIF_E_BAD_SIGNATURE);
  wif_verifier_free(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_valid_all_algs),
      cmocka_unit_test(test_b3_b4_wrong_alg),
      cmocka_unit_test(test_a7_empty_signature),
      cmocka_unit_test(test_a8_a9_c2_lengths),
      cmocka_unit_test(test_c2_der_signature),
      cmocka_unit_test(test_c1_ecdsa_special_values),
      cmocka_unit_test(test_c7_rsa_special_values),
      cmocka_unit_test(test_c5_c6_pss_params),
      cmocka_unit_test(test_c9_ed25519_malleability),
      cmocka_unit_test(test_c10_c11_bit_flips),
      cmocka_unit_test(test_c10_whitespace_header),
      cmocka_unit_test(test_bad_arguments),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
