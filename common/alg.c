/* SPDX-License-Identifier: Apache-2.0 */
/* Algorithm names and properties. */
#include "alg.h"

#include <string.h>

struct alg_info {
  const char *name;
  const char *digest;
  size_t hash_size;
};

static const struct alg_info algs[WIF_ALG_COUNT] = {
    [WIF_ALG_RS256] = {"RS256", "SHA256", 32},
    [WIF_ALG_RS384] = {"RS384", "SHA384", 48},
    [WIF_ALG_RS512] = {"RS512", "SHA512", 64},
    [WIF_ALG_PS256] = {"PS256", "SHA256", 32},
    [WIF_ALG_PS384] = {"PS384", "SHA384", 48},
    [WIF_ALG_PS512] = {"PS512", "SHA512", 64},
    [WIF_ALG_ES256] = {"ES256", "SHA256", 32},
    [WIF_ALG_ES384] = {"ES384", "SHA384", 48},
    [WIF_ALG_ES512] = {"ES512", "SHA512", 64},
    [WIF_ALG_EDDSA] = {"EdDSA", NULL, 64},
};

bool wif_alg_from_name(const char *name, size_t len, enum wif_alg *out) {
  if (name == NULL)
    return false;
  for (int a = 0; a < WIF_ALG_COUNT; a++) {
    if (strlen(algs[a].name) == len && memcmp(algs[a].name, name, len) == 0) {
      if (out != NULL)
        *out = (enum wif_alg)a;
      return true;
    }
  }
  return false;
}

const char *wif_alg_name(enum wif_alg alg) {
  if ((int)alg < 0 || alg >= WIF_ALG_COUNT)
    return "?";
  return algs[alg].name;
}

size_t wif_alg_hash_size(enum wif_alg alg) {
  if ((int)alg < 0 || alg >= WIF_ALG_COUNT)
    return 0;
  return algs[alg].hash_size;
}

const char *wif_alg_digest_name(enum wif_alg alg) {
  if ((int)alg < 0 || alg >= WIF_ALG_COUNT)
    return NULL;
  return algs[alg].digest;
}

bool wif_alg_is_rsa(enum wif_alg alg) {
  return alg >= WIF_ALG_RS256 && alg <= WIF_ALG_PS512;
}

bool wif_alg_is_pss(enum wif_alg alg) {
  return alg >= WIF_ALG_PS256 && alg <= WIF_ALG_PS512;
}

bool wif_alg_is_ec(enum wif_alg alg) {
  return alg >= WIF_ALG_ES256 && alg <= WIF_ALG_ES512;
}
