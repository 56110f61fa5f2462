/* SPDX-License-Identifier: Apache-2.0 */
/* JWK and JWKS to OpenSSL keys, under pam_wif's key policy. */
#ifndef WIF_JWK_H
#define WIF_JWK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <openssl/evp.h>

#include "alg.h"
#include "error.h"
#include "json.h"
#include "log.h"

#define WIF_JWKS_KEYS_MAX 64
#define WIF_JWKS_SIZE_MAX (1024 * 1024)
#define WIF_RSA_BITS_MIN 2048
#define WIF_RSA_BITS_MAX 8192

enum wif_kty { WIF_KTY_RSA, WIF_KTY_EC, WIF_KTY_OKP };

struct wif_jwk;  /* opaque: one public key and its metadata */
struct wif_jwks; /* opaque: a key set */

/*
 * Key policy, applied to every key:
 *   - kty RSA: modulus WIF_RSA_BITS_MIN..WIF_RSA_BITS_MAX bits (counted
 *     after leading zero octets), e odd and >= 3 and at most 2^256;
 *   - kty EC: crv P-256, P-384 or P-521, x and y of exactly the curve's
 *     size, point on the curve and not at infinity (EVP_PKEY_public_check);
 *   - kty OKP: crv Ed25519, x of 32 bytes;
 *   - no private members (d, p, q, dp, dq, qi, oth, k);
 *   - an `alg` member, when present, must name an algorithm that fits kty
 *     and crv (an RSA key saying HS256 is rejected);
 *   - `use`, when present, must be "sig"; `key_ops`, when present, must be
 *     an array of strings containing "verify";
 *   - `kid`, when present, a string of at most WIF_KID_MAX bytes.
 *
 * Parses one JWK object. On success *out is new (wif_jwk_free). A key that
 * breaks policy gives WIF_E_KEY_REJECTED with the reason in err.
 */
wif_rc wif_jwk_parse(const struct wif_json_doc *doc, const struct wif_json *v,
                     struct wif_jwk **out, struct wif_error *err);

void wif_jwk_free(struct wif_jwk *key);

/*
 * Parses a JWKS text ({"keys": [...]}), at most WIF_JWKS_SIZE_MAX bytes.
 * The whole set is rejected (WIF_E_JWKS_INVALID) when it is not an object
 * with a `keys` array, holds more than WIF_JWKS_KEYS_MAX entries, contains
 * an `oct` key or private key members, has two keys with the same kid, or
 * ends up with no usable key. Other keys that break policy (unknown kty,
 * small RSA, off-curve points, wrong use) are skipped, each with a
 * LOG_WARNING line naming the kid and the reason; the rest stay usable.
 * On success *out is new (wif_jwks_free).
 */
wif_rc wif_jwks_parse(const char *text, size_t len, const struct wif_log *log,
                      struct wif_jwks **out, struct wif_error *err);

/*
 * A provider's pinned key set (jwks_file): read with wif_file_read_trusted
 * (the file and every directory above it owned by owner or root, not
 * writable by group or others), then wif_jwks_parse. The messages name
 * the provider and the file. A missing, unreadable or oversized file is
 * WIF_E_JWKS_UNAVAILABLE; unsafe ownership WIF_E_CONFIG_INSECURE.
 */
wif_rc wif_jwks_load_file(const char *provider, const char *path, uid_t owner,
                          const struct wif_log *log, struct wif_jwks **out,
                          struct wif_error *err);

/* Wraps one already-parsed key into a set of one (takes ownership of key,
 * also on failure). */
wif_rc wif_jwks_from_key(struct wif_jwk *key, struct wif_jwks **out);

void wif_jwks_free(struct wif_jwks *set);

size_t wif_jwks_count(const struct wif_jwks *set);

/* The i-th usable key; borrowed from set. */
struct wif_jwk *wif_jwks_at(const struct wif_jwks *set, size_t i);

/* The key with exactly this kid (byte comparison), or NULL. Borrowed. */
struct wif_jwk *wif_jwks_find(const struct wif_jwks *set, const char *kid,
                              size_t kid_len);

/* NULL when the JWK had no kid. Borrowed from key. */
const char *wif_jwk_kid(const struct wif_jwk *key);
enum wif_kty wif_jwk_kty(const struct wif_jwk *key);
/* Modulus or curve size in bits. */
unsigned wif_jwk_bits(const struct wif_jwk *key);
/* The JWK's own alg hint; false when it had none. */
bool wif_jwk_alg(const struct wif_jwk *key, enum wif_alg *out);

/*
 * True when key may verify alg: kty and curve fit (RSA for RS* and PS*, P-256
 * for ES256, P-384 for ES384, P-521 for ES512, Ed25519 for EdDSA), and the
 * key's own alg hint, when present, is exactly alg.
 */
bool wif_jwk_allows(const struct wif_jwk *key, enum wif_alg alg);

/* The OpenSSL key; borrowed from key. */
EVP_PKEY *wif_jwk_pkey(const struct wif_jwk *key);

/*
 * A slot in which verify.c caches a prepared verifier for (key, alg). Owned
 * by the key, which frees it with free_fn (verify.c's own: the key knows
 * nothing else of verifiers). Keys, and so key sets, must not be used by
 * two threads at once.
 */
struct wif_verifier;
typedef void (*wif_verifier_free_fn)(struct wif_verifier *v);
struct wif_verifier **wif_jwk_verifier_slot(struct wif_jwk *key,
                                            enum wif_alg alg,
                                            wif_verifier_free_fn free_fn);

#endif
