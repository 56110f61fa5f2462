/* SPDX-License-Identifier: Apache-2.0 */
/* Provider keys: discovery, fetch, the shared disk cache, refresh, revoke. */
#ifndef WIF_JWKS_CACHE_H
#define WIF_JWKS_CACHE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "error.h"
#include "http.h"
#include "jwk.h"
#include "jwks_store.h"
#include "log.h"

/*
 * The policy (DESIGN.md, "Keys and the cache"):
 *
 *   - A provider with jwks_file reads that file (owned by `owner` or root,
 *     checked like the config) and never touches the network.
 *   - Otherwise keys come from jwks_uri, or from the jwks_uri of the
 *     issuer's discovery document, over HTTPS (http.h) within http_timeout
 *     seconds for the whole exchange, through https_proxy when set.
 *   - Fetched key sets are kept in `dir`, one file per provider named by a
 *     hash of the configured issuer and jwks_uri (never of token data),
 *     mode 0600, written through a temporary file, fsync and rename. The
 *     file holds fetched_at, fresh_until, the source URL and the JWKS
 *     text; every load re-parses it with wif_jwks_parse. A corrupt,
 *     truncated, oversized or foreign file is ignored and replaced.
 *   - Fresh for the response's Cache-Control max-age clamped to
 *     WIF_JWKS_FRESH_MIN..WIF_JWKS_FRESH_MAX, WIF_JWKS_FRESH_DEFAULT when
 *     absent or unparsable. Timestamps in the future count as stale.
 *   - A lock file beside the cache (flock, bounded wait) makes one process
 *     fetch while the others wait and reuse its result. The lock file also
 *     records when the last fetch started: an unknown kid (refresh) causes
 *     a fetch at most once per WIF_JWKS_REFRESH_MIN seconds per provider
 *     across processes, failed fetches included.
 *   - When a fetch fails, a cached set keeps serving until
 *     WIF_JWKS_STALE_MAX seconds past its freshness, with a LOG_WARNING;
 *     after that, or with no cache at all, the result is
 *     WIF_E_JWKS_UNAVAILABLE. A failed stale refresh is not retried
 *     within WIF_JWKS_REFRESH_MIN seconds while the stale set can serve.
 *   - A response that is not a usable key set never replaces the cache.
 *   - A cache directory that cannot be created or written leaves the
 *     cache working in memory only (a fetch per process), with the reason
 *     logged once per process. One that fails the ownership and mode
 *     checks, itself or any directory above it, is WIF_E_CONFIG_INSECURE
 *     for every provider that fetches.
 */
/* WIF_JWKS_FRESH_MIN, _MAX, _DEFAULT and WIF_JWKS_STALE_MAX: jwks_store.h,
 * whose decoder checks them. */
#define WIF_JWKS_REFRESH_MIN 60
#define WIF_JWKS_LOCK_WAIT_EXTRA_MS 2000 /* beyond http_timeout */
#define WIF_CA_FILE_MAX (1024 * 1024)    /* a provider's ca_file */
#define WIF_JWKS_RETRY_EMPTY 10 /* s between failed fetches with no keys */

struct wif_jwks_cache; /* opaque; single-threaded, one per config */

/*
 * A cache over cfg (borrowed: must outlive the cache). dir is the cache
 * directory (copied; NULL: in memory only); it is created with mode 0700
 * when missing, and must be owned by `owner` and not writable by group or
 * others, as must every directory above it. Files read from dir and
 * jwks_file must be owned by owner or root. log is copied (NULL: silent).
 * NULL on ENOMEM.
 */
struct wif_jwks_cache *wif_jwks_cache_new(const struct wif_config *cfg,
                                          const char *dir, uid_t owner,
                                          const struct wif_log *log);

/* Frees the cache and every key set it handed out. NULL does nothing. */
void wif_jwks_cache_free(struct wif_jwks_cache *c);

/*
 * The wif_keys_loader of validate.h: ctx is a struct wif_jwks_cache. *out
 * is borrowed and stays valid until the cache is freed (sets replaced by
 * a refresh are kept, not freed). Results: WIF_OK, WIF_E_JWKS_UNAVAILABLE
 * (no usable keys; err says why), WIF_E_JWKS_INVALID or
 * WIF_E_CONFIG_INSECURE for a bad jwks_file, WIF_E_NOMEM.
 */
wif_rc wif_jwks_cache_loader(void *cache, const struct wif_provider *p,
                             bool refresh, struct wif_jwks **out,
                             struct wif_error *err);

/*
 * Fetches p's keys now, ignoring freshness and the refresh rate limit, and
 * stores them (wifctl jwks fetch). A provider with jwks_file is read and
 * checked instead. Results as for the loader, except that a failed fetch
 * is reported even when a cached set could serve.
 */
wif_rc wif_jwks_cache_fetch(struct wif_jwks_cache *c,
                            const struct wif_provider *p,
                            struct wif_error *err);

/*
 * Drops p's cached key set, on disk and in memory, then fetches anew
 * (wifctl jwks revoke): the response to a leaked signing key. Logs the
 * revocation at LOG_NOTICE. When the fetch fails the cache stays empty and
 * logins get WIF_E_JWKS_UNAVAILABLE until a fetch succeeds. A provider
 * with jwks_file gives WIF_E_CONFIG_INVALID (there is nothing to drop).
 */
wif_rc wif_jwks_cache_revoke(struct wif_jwks_cache *c,
                             const struct wif_provider *p,
                             struct wif_error *err);

/*
 * Reads p's cached set without any network (a jwks_file provider: the
 * file). WIF_E_JWKS_UNAVAILABLE when nothing usable is cached. *out is
 * cleared first.
 */
wif_rc wif_jwks_cache_read(struct wif_jwks_cache *c,
                           const struct wif_provider *p,
                           struct wif_jwks_cache_entry *out,
                           struct wif_error *err);

/* Seconds since the epoch; tests inject a clock. */
typedef int64_t (*wif_clock_fn)(void *ctx);

/* Replaces time(NULL). fn NULL restores it. */
void wif_jwks_cache_set_clock(struct wif_jwks_cache *c, wif_clock_fn fn,
                              void *ctx);

/* Performs one HTTP request; wif_http_perform's contract. */
typedef wif_rc (*wif_http_fn)(void *ctx, const struct wif_http_request *req,
                              struct wif_http_response *out,
                              struct wif_error *err);

/*
 * How keys not on disk are fetched. A new cache has no way to fetch (a
 * fetch is WIF_E_UNAVAILABLE, "no network in this process"): the PAM
 * module never loads network code. Front ends with network code set the
 * transport (wif_http_perform: pam_wif-helper, wifctl run by a user; a
 * fake in unit tests); the module sets the helper instead.
 */
void wif_jwks_cache_set_transport(struct wif_jwks_cache *c, wif_http_fn fn,
                                  void *ctx);

/*
 * Fetches through the helper program (helper.h) with config_path: when
 * the disk has no set that serves, the helper takes the lock, applies the
 * whole policy above, writes the cache and hands the current set back; it
 * is parsed here like a cache file. The cache never takes the lock
 * itself then, so a caller who stops this process holds up nobody. Both
 * strings are copied. WIF_E_NOMEM.
 */
wif_rc wif_jwks_cache_set_helper(struct wif_jwks_cache *c, const char *helper,
                                 const char *config_path);

/* Lock waits and fetches end by this CLOCK_MONOTONIC time (ms); the
 * helper sets its own so that the module's wait covers it. */
void wif_jwks_cache_set_deadline(struct wif_jwks_cache *c,
                                 int64_t mono_deadline_ms);

/*
 * p's current set in the cache file format (jwks_store.h), as a new
 * string: what the helper hands to the module. WIF_E_JWKS_UNAVAILABLE
 * when nothing fetched is loaded.
 */
wif_rc wif_jwks_cache_export(struct wif_jwks_cache *c,
                             const struct wif_provider *p, char **out,
                             size_t *out_len, struct wif_error *err);

/*
 * Freshness in seconds from a response's Cache-Control header lines:
 * the smallest max-age found in any of them (duplicated headers),
 * clamped to WIF_JWKS_FRESH_MIN..WIF_JWKS_FRESH_MAX; no-store and
 * no-cache count as max-age=0; WIF_JWKS_FRESH_DEFAULT when no usable
 * max-age is present. Non-numeric, negative or overflowing values are
 * ignored.
 */
int64_t wif_jwks_cache_freshness(const struct wif_http_response *r);

#endif
