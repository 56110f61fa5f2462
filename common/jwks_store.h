/* SPDX-License-Identifier: Apache-2.0 */
/* The JWKS cache on disk: file names, the file format, the lock file. */
#ifndef WIF_JWKS_STORE_H
#define WIF_JWKS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "error.h"
#include "jwk.h"

/* Freshness in seconds (the policy is in jwks_cache.h): a response's
 * max-age is clamped to FRESH_MIN..FRESH_MAX, FRESH_DEFAULT without one,
 * and a cached set serves up to STALE_MAX past its freshness. */
#define WIF_JWKS_FRESH_MIN 300
#define WIF_JWKS_FRESH_MAX 86400
#define WIF_JWKS_FRESH_DEFAULT 3600
#define WIF_JWKS_STALE_MAX 86400

/* Largest cache file read: the JWKS text (each byte may be escaped into
 * two) and a few URLs. */
#define WIF_JWKS_STORE_FILE_MAX (2 * WIF_JWKS_SIZE_MAX + 64 * 1024)

/* One cached key set. Owned; release with wif_jwks_cache_entry_clear. */
struct wif_jwks_cache_entry {
  struct wif_jwks *keys;
  int64_t fetched_at;  /* 0 for a jwks_file */
  int64_t fresh_until; /* 0 for a jwks_file */
  char *source;        /* URL or jwks_file path */
  char *path;          /* the cache file; NULL for a jwks_file */
  char *text;          /* the JWKS as served, text_len bytes; NULL for a
                          jwks_file */
  size_t text_len;
};

void wif_jwks_cache_entry_clear(struct wif_jwks_cache_entry *e);

/*
 * The cache file and lock file of provider p in dir: "<dir>/<h>.json" and
 * "<dir>/<h>.lock", h the hex SHA-256 of the configured issuer and
 * jwks_uri (never anything from a token). Both new (free).
 */
wif_rc wif_jwks_store_paths(const char *dir, const struct wif_provider *p,
                            char **out_cache, char **out_lock,
                            struct wif_error *err);

/*
 * The file content: one flat JSON object {"version":1, "issuer",
 * "jwks_uri" (the configured one, "" when discovered), "source" (the URL
 * the keys came from), "fetched_at", "fresh_until" (seconds since the
 * epoch), "jwks" (the JWKS text as a string)}. jwks must be valid UTF-8
 * (it passed wif_jwks_parse). *out is new (free), *out_len bytes.
 */
wif_rc wif_jwks_store_encode(const struct wif_provider *p, const char *source,
                             int64_t fetched_at, int64_t fresh_until,
                             const char *jwks, size_t jwks_len, char **out,
                             size_t *out_len, struct wif_error *err);

/*
 * Parses a cache file's content for provider p. Everything is checked:
 * the strict JSON parser, version 1, issuer and jwks_uri equal to p's,
 * source an https URL, integers with fetched_at + WIF_JWKS_FRESH_MIN <=
 * fresh_until <= fetched_at + WIF_JWKS_FRESH_MAX, and the key set through
 * wif_jwks_parse. Failures give WIF_E_MALFORMED (or what
 * wif_jwks_parse said, or WIF_E_NOMEM). *out is cleared first; on success
 * path stays NULL.
 */
wif_rc wif_jwks_store_decode(const char *text, size_t len,
                             const struct wif_provider *p,
                             struct wif_jwks_cache_entry *out,
                             struct wif_error *err);

/*
 * Reads and decodes the cache file at path, checked with
 * wif_file_read_trusted(owner) and at most WIF_JWKS_STORE_FILE_MAX bytes.
 * WIF_E_KEY_NOT_FOUND when the file does not exist (a plain miss); any
 * other failure means the file is unusable and err says why.
 */
wif_rc wif_jwks_store_read(const char *path, uid_t owner,
                           const struct wif_provider *p,
                           struct wif_jwks_cache_entry *out,
                           struct wif_error *err);

/* When the last fetch started, as recorded in the locked file, and in
 * why (sanitized; "" when it did not fail or is still running) why it
 * failed; false when nothing (or garbage) is recorded. */
bool wif_jwks_store_attempt_get(int fd, int64_t *out, char *why,
                                size_t why_size);

/* Records that a fetch starts at t (before the request), or, with a
 * failure message, that the one started at t failed and why. */
wif_rc wif_jwks_store_attempt_set(int fd, int64_t t, const char *failure,
                                  struct wif_error *err);

#endif
