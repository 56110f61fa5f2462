/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes JWKS and JWK import under the key policy. */
#include "fuzz.h"

#include <string.h>

#include "jwk.h"

/*
 * Every key a parsed set hands out must obey the policy the header
 * promises: RSA 2048..8192 bits, EC and OKP of a supported curve, at most
 * WIF_JWKS_KEYS_MAX keys, distinct kids, and a usable OpenSSL key.
 */

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  return 0;
}

static void log_sink(void *ctx, int priority, const char *msg) {
  (void)ctx;
  (void)priority;
  if (strlen(msg) >= 1024)
    fuzz_fail("log line not bounded");
}

static const struct wif_log fuzz_jwks_log = {log_sink, NULL, true};

static void check_key(const struct wif_jwk *key) {
  unsigned bits = wif_jwk_bits(key);

  if (wif_jwk_pkey(key) == NULL)
    fuzz_fail("key without an OpenSSL key");
  switch (wif_jwk_kty(key)) {
  case WIF_KTY_RSA:
    if (bits < WIF_RSA_BITS_MIN || bits > WIF_RSA_BITS_MAX)
      fuzz_fail("RSA key of %u bits accepted", bits);
    if (wif_jwk_allows(key, WIF_ALG_ES256) ||
        wif_jwk_allows(key, WIF_ALG_EDDSA))
      fuzz_fail("RSA key allows a non-RSA algorithm");
    break;
  case WIF_KTY_EC:
    if (bits != 256 && bits != 384 && bits != 521)
      fuzz_fail("EC key of %u bits accepted", bits);
    if (wif_jwk_allows(key, WIF_ALG_RS256) ||
        wif_jwk_allows(key, WIF_ALG_EDDSA))
      fuzz_fail("EC key allows a non-EC algorithm");
    break;
  case WIF_KTY_OKP:
    if (wif_jwk_allows(key, WIF_ALG_RS256) ||
        wif_jwk_allows(key, WIF_ALG_ES256))
      fuzz_fail("OKP key allows a non-EdDSA algorithm");
    break;
  default:
    fuzz_fail("unknown kty");
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct wif_jwks *set = NULL;
  struct wif_error err;
  size_t n;

  if (wif_jwks_parse((const char *)data, size, &fuzz_jwks_log, &set, &err) !=
      WIF_OK) {
    if (set != NULL)
      fuzz_fail("failed parse left an output");
    return 0;
  }
  n = wif_jwks_count(set);
  if (n == 0 || n > WIF_JWKS_KEYS_MAX)
    fuzz_fail("set of %zu keys accepted", n);
  for (size_t i = 0; i < n; i++) {
    const struct wif_jwk *key = wif_jwks_at(set, i);
    const char *kid = wif_jwk_kid(key);
    check_key(key);
    if (kid != NULL && wif_jwks_find(set, kid, strlen(kid)) != key)
      fuzz_fail("kid does not find its own key");
  }
  wif_jwks_free(set);
  return 0;
}
