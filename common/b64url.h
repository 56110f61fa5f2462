/* SPDX-License-Identifier: Apache-2.0 */
/* Strict base64url (RFC 4648 section 5) without padding. */
#ifndef WIF_B64URL_H
#define WIF_B64URL_H

#include <stdbool.h>
#include <stddef.h>

/* Decoded size for an input of `len` characters (an upper bound). */
#define WIF_B64URL_DECODED_MAX(len) (((len) / 4) * 3 + 2)
/* Encoded size for `len` bytes, without NUL. */
#define WIF_B64URL_ENCODED_LEN(len)                                            \
  (((len) / 3) * 4 + ((len) % 3 ? (len) % 3 + 1 : 0))

/*
 * Decodes `len` characters into out (capacity out_size, at least
 * WIF_B64URL_DECODED_MAX(len)). Rejects anything outside [A-Za-z0-9_-],
 * padding, a length of 1 mod 4, and non-zero unused trailing bits.
 * Returns false on any of those; *out_len is then 0.
 */
bool wif_b64url_decode(const char *in, size_t len, unsigned char *out,
                       size_t out_size, size_t *out_len);

/* Encodes into out (capacity >= WIF_B64URL_ENCODED_LEN(len) + 1) and
 * NUL-terminates. Returns the encoded length. */
size_t wif_b64url_encode(const unsigned char *in, size_t len, char *out);

#endif
