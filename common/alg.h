/* SPDX-License-Identifier: Apache-2.0 */
/* JWS signature algorithms pam_wif implements, and their names. */
#ifndef WIF_ALG_H
#define WIF_ALG_H

#include <stdbool.h>
#include <stddef.h>

/* `none` and HS* are deliberately absent: they can never be named. */
enum wif_alg {
  WIF_ALG_RS256,
  WIF_ALG_RS384,
  WIF_ALG_RS512,
  WIF_ALG_PS256,
  WIF_ALG_PS384,
  WIF_ALG_PS512,
  WIF_ALG_ES256,
  WIF_ALG_ES384,
  WIF_ALG_ES512,
  WIF_ALG_EDDSA,
  WIF_ALG_COUNT
};

/* A set of algorithms, bit (1u << alg). */
typedef unsigned wif_alg_set;
#define WIF_ALG_BIT(a) (1u << (unsigned)(a))
#define WIF_ALG_SET_DEFAULT WIF_ALG_BIT(WIF_ALG_RS256)

/* Exact, case-sensitive lookup ("RS256"). False for none, HS*, anything
 * unknown. */
bool wif_alg_from_name(const char *name, size_t len, enum wif_alg *out);

/* "RS256"; never NULL for a valid alg. */
const char *wif_alg_name(enum wif_alg alg);

/* Digest size in bytes of the hash the algorithm uses (64 for EdDSA). */
size_t wif_alg_hash_size(enum wif_alg alg);

/* OpenSSL digest name ("SHA256"); NULL for EdDSA, which hashes itself. */
const char *wif_alg_digest_name(enum wif_alg alg);

bool wif_alg_is_rsa(enum wif_alg alg);
bool wif_alg_is_pss(enum wif_alg alg);
bool wif_alg_is_ec(enum wif_alg alg);

#endif
