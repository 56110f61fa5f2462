/* SPDX-License-Identifier: Apache-2.0 */
/* Compact JWS: size cap, split, header policy and claims decoding. */
#ifndef WIF_JWT_H
#define WIF_JWT_H

#include <stdbool.h>
#include <stddef.h>

#include "alg.h"
#include "error.h"
#include "json.h"

#define WIF_TOKEN_MAX 16384 /* bytes, checked before anything else */
#define WIF_KID_MAX 1024    /* bytes of a kid string */
#define WIF_JWT_HEADER_DEPTH 8
#define WIF_JWT_CLAIMS_DEPTH 32

/*
 * A split and header-checked token. Owns copies of everything it points
 * to; the caller's token text may be freed after parsing. Nothing here has
 * been verified.
 */
struct wif_jwt {
  struct wif_json_doc *header; /* decoded protected header */
  bool alg_known;              /* false: alg names none, HS*, or unknown */
  enum wif_alg alg;            /* valid when alg_known */
  const char *alg_name;        /* the header's alg, borrowed from header */
  const char *kid;             /* NULL when absent; borrowed from header */
  size_t kid_len;
  char *signing_input; /* "b64(header).b64(payload)", NUL-terminated */
  size_t signing_input_len;
  unsigned char *payload; /* decoded payload bytes (not NUL-terminated) */
  size_t payload_len;
  unsigned char *signature; /* decoded signature */
  size_t signature_len;
};

/*
 * Parses a compact JWS of `len` bytes: rejects inputs over WIF_TOKEN_MAX
 * (TOO_LARGE) before any allocation, anything but exactly three
 * base64url segments (MALFORMED), and headers that are not a JSON object,
 * lack a string `alg`, carry a non-string `kid`, `crit` or `b64`
 * (UNSUPPORTED_CRIT), `zip`, `enc` or `cty: JWT` (UNSUPPORTED), or a `typ`
 * other than JWT / at+jwt (TYP_MISMATCH; compared case-insensitively with
 * an optional "application/" prefix). `jku`, `x5u`, `jwk`, `x5c` are
 * ignored. An unknown alg is not an error here (alg_known = false): the
 * caller rejects it against its allow-list. The payload is not parsed.
 *
 * On success *out is new (free with wif_jwt_free); on failure NULL.
 */
wif_rc wif_jwt_parse(const char *token, size_t len, struct wif_jwt **out,
                     struct wif_error *err);

/*
 * Parses the payload as a JWT claims set: a JSON object (MALFORMED
 * otherwise). *out is new; free with wif_json_free.
 */
wif_rc wif_jwt_claims(const struct wif_jwt *jwt, struct wif_json_doc **out,
                      struct wif_error *err);

/* Wipes and frees; NULL does nothing. */
void wif_jwt_free(struct wif_jwt *jwt);

#endif
