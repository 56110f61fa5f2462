/* SPDX-License-Identifier: Apache-2.0 */
/* The workload-side token cache: one file per request, reused until shortly
 * before the token expires. */
#ifndef WIF_TOKEN_CACHE_H
#define WIF_TOKEN_CACHE_H

#include <stdint.h>
#include <sys/types.h>

#include "error.h"

/* A token is reused until this many seconds before its exp. */
#define WIF_TOKEN_CACHE_MARGIN 300

/*
 * The cache directory: "<runtime_dir>/pam_wif" when runtime_dir (the
 * caller's $XDG_RUNTIME_DIR) is an absolute path, else "/tmp/pam_wif-<uid>".
 * *out_dir is new (free()). Nothing is created or checked here.
 */
wif_rc wif_token_cache_dir(const char *runtime_dir, uid_t uid, char **out_dir,
                           struct wif_error *err);

/*
 * Looks key up in dir. The directory must be owned by the effective user
 * with no group or other permissions (0700), and is made so when missing;
 * the entry must be a regular file owned by that user, mode 0600 or
 * stricter, not a symlink. WIF_OK with *out_token (new, wipe and free
 * with wif_source_token_free) and *out_exp when an entry exists and
 * now < exp - WIF_TOKEN_CACHE_MARGIN. WIF_E_TOKEN_UNAVAILABLE on a miss
 * (absent, expiring, unreadable format); WIF_E_CONFIG_INSECURE when the
 * directory or the file breaks the rules (the caller then does without
 * the cache). key is any string (hashed into the file name).
 */
wif_rc wif_token_cache_get(const char *dir, const char *key, int64_t now,
                           char **out_token, int64_t *out_exp,
                           struct wif_error *err);

/*
 * Stores token under key, atomically replacing an older entry (temporary
 * file, fsync, rename). A token that would not be reused (exp unknown or
 * within the margin of now) is not stored, and WIF_OK is returned.
 */
wif_rc wif_token_cache_put(const char *dir, const char *key, const char *token,
                           int64_t exp, int64_t now, struct wif_error *err);

/* Removes the entry of key, if any. */
wif_rc wif_token_cache_drop(const char *dir, const char *key,
                            struct wif_error *err);

#endif
