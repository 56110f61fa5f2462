/* SPDX-License-Identifier: Apache-2.0 */
/* The fixed configuration, keys and clock the token fuzz targets use. */
#ifndef WIF_FUZZ_FIXTURE_H
#define WIF_FUZZ_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "log.h"

/* 2026-01-01T00:00:00Z: the seeds made by make_corpus.py are valid then. */
#define WIF_FUZZ_NOW INT64_C(1767225600)

/*
 * Two providers built in memory (no file, no network):
 *   main    https://issuer.example/fuzz, aud fuzz-aud or other-aud,
 *           RS256 PS256 ES256 EdDSA, require tid = tenant-*,
 *           max_token_age 86400
 *   second  https://other.example/fuzz, aud fuzz-aud, group authorization,
 *           user claim /nested/user, RS256 ES256 EdDSA
 * Returns NULL (after printing why) when it cannot be built. Owned by the
 * caller (wif_config_free); fuzz targets keep it for the whole process.
 */
struct wif_config *fuzz_config(void);

/* The text of WIF_FUZZ_KEYS (tests/fuzz/keys/jwks.json); NULL on error.
 * Caller frees. */
char *fuzz_read_keys(size_t *len);

/*
 * A debug-enabled log whose sink checks each line against the secret set
 * by fuzz_log_watch: a line containing it is a finding (fuzz_fail).
 */
extern const struct wif_log fuzz_log;

/* Lines logged from now on must not contain s[0..len) (len >= 16; shorter
 * needles are ignored). NULL clears. Borrowed until cleared. */
void fuzz_log_watch(const char *s, size_t len);

/* Fails when the watched text occurs in the NUL-terminated msg. */
void fuzz_check_no_secret(const char *what, const char *msg);

#endif
