/* SPDX-License-Identifier: Apache-2.0 */
/* JWS signature verification, one code path per algorithm family. */
#ifndef WIF_VERIFY_H
#define WIF_VERIFY_H

#include <stddef.h>

#include "alg.h"
#include "error.h"
#include "jwk.h"

/*
 * Verifies sig over input with key under alg. alg must be one the caller
 * allows; this function checks again that the key allows it
 * (wif_jwk_allows), else WIF_E_ALG_NOT_ALLOWED.
 *
 *   - RS*: RSASSA-PKCS1-v1_5; the signature must be exactly the modulus
 *     size;
 *   - PS*: RSASSA-PSS with MGF1 of the same hash and salt length equal to
 *     the hash length (never "auto");
 *   - ES*: raw r||s of exactly twice the curve's byte size, converted to
 *     DER here;
 *   - EdDSA: Ed25519, 64-byte signature.
 *
 * The first use of (key, alg) prepares a verifier that later calls reuse
 * (the hash and public-key contexts are set up once per key, not once per
 * token). Returns WIF_OK or WIF_E_BAD_SIGNATURE; WIF_E_NOMEM or
 * WIF_E_INTERNAL when OpenSSL fails for other reasons.
 */
wif_rc wif_verify_signature(struct wif_jwk *key, enum wif_alg alg,
                            const unsigned char *input, size_t input_len,
                            const unsigned char *sig, size_t sig_len);

/* Frees a prepared verifier; NULL does nothing. The key that holds one
 * calls it through the slot (jwk.h). */
void wif_verifier_free(struct wif_verifier *v);

#endif
