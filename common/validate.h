/* SPDX-License-Identifier: Apache-2.0 */
/* The token pipeline: parse, choose the provider, find the key, verify,
 * check claims. Knows nothing of accounts or PAM. */
#ifndef WIF_VALIDATE_H
#define WIF_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "claims.h"
#include "config.h"
#include "error.h"
#include "jwk.h"
#include "jwt.h"
#include "log.h"

/*
 * Supplies a provider's key set. `refresh` asks for fresh keys because a
 * kid was not found (the loader applies its own rate limit). *out is
 * borrowed: the loader keeps ownership and keeps it alive until the
 * validator is freed.
 */
typedef wif_rc (*wif_keys_loader)(void *ctx, const struct wif_provider *p,
                                  bool refresh, struct wif_jwks **out,
                                  struct wif_error *err);

struct wif_validator; /* opaque; one per config, single-threaded */

/*
 * A validator over cfg (borrowed; must outlive the validator). Without a
 * loader, providers' keys come from their jwks_file, read with
 * wif_file_read_trusted(owner). log may be NULL.
 */
struct wif_validator *wif_validator_new(const struct wif_config *cfg,
                                        uid_t owner, const struct wif_log *log);

void wif_validator_free(struct wif_validator *v);

void wif_validator_set_loader(struct wif_validator *v, wif_keys_loader fn,
                              void *ctx);

/* Gives provider p the key set keys (ownership moves to v, also on
 * failure). Used by the CLI's --jwks and by tests and benchmarks. */
wif_rc wif_validator_set_keys(struct wif_validator *v,
                              const struct wif_provider *p,
                              struct wif_jwks *keys);

/*
 * Everything known about one token, valid or not. Filled as far as
 * validation got, so a failure can still be logged with its provider and
 * kid. Owned pieces are released by wif_result_clear.
 */
struct wif_result {
  const struct wif_provider *provider; /* borrowed from cfg; NULL if none */
  struct wif_jwt *jwt;                 /* NULL if unparseable */
  struct wif_json_doc *claims;         /* NULL if unparseable */
  struct wif_identity identity;        /* set only on WIF_OK */
};

/*
 * Validates token (len bytes) at time now. Steps, each with its reason on
 * failure: size cap and framing (wif_jwt_parse), claims JSON, provider by
 * exact iss (ISS_MISMATCH), alg in the provider's allow-list
 * (ALG_NOT_ALLOWED), key by kid (KEY_NOT_FOUND, after one refresh request)
 * or, without a kid, every key that allows alg, signature (BAD_SIGNATURE),
 * then wif_claims_check, then for a one_time provider the presence of a
 * jti (wif_replay_jti: JTI_MISSING; the replay store itself is consulted
 * by wif_auth_authenticate). *out is cleared first; call wif_result_clear
 * after any outcome.
 */
wif_rc wif_validate(struct wif_validator *v, const char *token, size_t len,
                    int64_t now, struct wif_result *out, struct wif_error *err);

void wif_result_clear(struct wif_result *r);

#endif
