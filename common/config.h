/* SPDX-License-Identifier: Apache-2.0 */
/* pam_wif.conf: the global settings and the trusted providers. */
#ifndef WIF_CONFIG_H
#define WIF_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "alg.h"
#include "dropin.h"
#include "error.h"

#define WIF_CONFIG_PATH "/etc/security/pam_wif.conf"
#define WIF_MAP_PATH "/etc/security/pam_wif.map"
#define WIF_CACHE_DIR "/var/cache/pam_wif"
#define WIF_CONFIG_SIZE_MAX (256 * 1024)
#define WIF_CONFIG_LINE_MAX 4096
#define WIF_PROVIDERS_MAX 64
/* Drop-in files: DIR/pam_wif.d/NAME.conf and NAME.map beside the config,
 * at most this many of each kind. The size caps hold for all files of a
 * kind together. */
#define WIF_DROPIN_DIR_NAME "pam_wif.d"
#define WIF_LIST_MAX 32 /* audiences, log_claims, require lines */
/* max_token_age unless set: a day and an hour, so that Azure managed
 * identity tokens (24 h, iat set a few minutes early) and Auth0's 24 h
 * default pass while month-long or never-expiring tokens do not.
 * clock_skew is added to it. */
#define WIF_MAX_TOKEN_AGE_DEFAULT 90000

/* Map rule types: `user` (the user claim), `group` (an element of the
 * groups claim), `claim:NAME` (any claim, by name or JSON pointer). */
enum wif_authz { WIF_AUTHZ_USER, WIF_AUTHZ_GROUP, WIF_AUTHZ_CLAIM };
#define WIF_AUTHZ_BIT(t) (1u << (unsigned)(t))

/* "user", "group" or "claim". */
const char *wif_authz_name(enum wif_authz t);

/* True for a claim name (no blank, control character, comma or quote) or
 * an RFC 6901 JSON pointer with non-empty segments, of 1..256 bytes: what
 * user_claim, groups_claim, require, space_delimited and map rules take. */
bool wif_config_claim_valid(const char *s, size_t len);

/* A `require = CLAIM = GLOB` line: the claim (a name or JSON pointer) must
 * match the glob (glob.h: `*` and `?` never match `/`, `**` does). */
struct wif_require {
  char *claim;
  char *pattern;
};

/* A [provider NAME] section. Every string is owned by the config. */
struct wif_provider {
  char *name;
  char *issuer;     /* required; exact match with iss; an https URL, or a name
                       when jwks_uri or jwks_file is set */
  char **audiences; /* required, at least one */
  size_t n_audiences;
  unsigned authz_types;   /* `authorization`: WIF_AUTHZ_BIT()s the map lines
                             of this provider may use; default user */
  char *user_claim;       /* default "sub" */
  char *groups_claim;     /* default "groups" */
  wif_alg_set algorithms; /* default RS256 */
  char *jwks_uri;         /* NULL: from discovery */
  char *jwks_file;        /* NULL: over HTTPS */
  char *ca_file;          /* NULL: system trust store */
  struct wif_require *requires;
  size_t n_requires;
  /* Seconds: exp - iat (exp - now without iat) may not exceed it. Unless
   * set, WIF_MAX_TOKEN_AGE_DEFAULT + clock_skew (filled in by
   * wif_config_add_provider and again by wif_config_finish); 0, only when
   * written, is no limit. */
  int64_t max_token_age;
  /* String claims that are sets of space-separated words (RFC 8693
   * section 4.2): `require` and claim rules match each word. Default
   * "scope"; names compare exactly with the name a rule uses. */
  char **space_delimited;
  size_t n_space_delimited;
  /* A token's jti is accepted once on this host (replay.h). */
  bool one_time;
  unsigned line;    /* where the section starts, for messages */
  const char *file; /* the drop-in file of the section (owned by the
                       config's files); NULL: the config's path */
};

struct wif_config {
  char *path;           /* as given to the loader, for messages */
  char *map_file;       /* default WIF_MAP_PATH */
  char *cache_dir;      /* default WIF_CACHE_DIR */
  int64_t http_timeout; /* seconds, default 5, 1..60 */
  int64_t clock_skew;   /* seconds, default 60, 0..600 */
  char **log_claims;    /* default iss sub */
  size_t n_log_claims;
  char *https_proxy; /* NULL: direct */
  struct wif_provider *providers;
  size_t n_providers;
  /* The drop-in directory wif_config_load looked in (wif_map_load reads
   * its *.map files); NULL when parsed from memory. */
  char *dropin_dir;
  char **files; /* the drop-in files read, in order */
  size_t n_files;
};

/* An empty config holding the defaults and no provider; NULL on ENOMEM. */
struct wif_config *wif_config_new(const char *path);

void wif_config_free(struct wif_config *cfg);

/*
 * Reads and parses the file at path. The file, and every directory above
 * it, must be owned by `owner` (root for the module) or root, and not
 * writable by group or others; the file must be regular, not a symlink,
 * and at most WIF_CONFIG_SIZE_MAX bytes (else WIF_E_CONFIG_INSECURE or
 * WIF_E_CONFIG_INVALID). Syntax and semantic errors give
 * WIF_E_CONFIG_INVALID with "path:line: message". *out is new on success.
 */
wif_rc wif_config_load(const char *path, uid_t owner, struct wif_config **out,
                       struct wif_error *err);

/*
 * After path, wif_config_load reads each NAME.conf file of
 * wif_config_dropin_dir(path) in strcmp order, with the same file rules,
 * into the same config: a drop-in may add providers and set [global]
 * keys that no earlier file set (a second setting is an error naming the
 * drop-in file:line). At most WIF_DROPIN_FILES_MAX files; all files
 * together at most WIF_CONFIG_SIZE_MAX bytes. A missing directory is no
 * error.
 */

/* "DIR/pam_wif.d" for a config at DIR/NAME; new (free it), NULL on
 * ENOMEM. */
char *wif_config_dropin_dir(const char *path);

/* Parses text already in memory; `name` is used in messages. */
wif_rc wif_config_parse(const char *text, size_t len, const char *name,
                        struct wif_config **out, struct wif_error *err);

/*
 * Adds a provider section called name (unique, [A-Za-z0-9_.-], 1..64
 * chars). The parser and `wifctl verify --issuer ...` both build providers
 * this way. *out borrows the new provider (valid until the next add).
 */
wif_rc wif_config_add_provider(struct wif_config *cfg, const char *name,
                               struct wif_provider **out,
                               struct wif_error *err);

/*
 * Sets one key. provider NULL means [global]. Unknown keys and bad values
 * give WIF_E_CONFIG_INVALID with a message naming the key (the caller
 * prefixes path:line). List keys append; `require` repeats.
 */
wif_rc wif_config_set(struct wif_config *cfg, struct wif_provider *provider,
                      const char *key, const char *value,
                      struct wif_error *err);

/* Checks what a finished config needs: each provider has an issuer and an
 * audience, issuers are unique, URLs are https. */
wif_rc wif_config_finish(struct wif_config *cfg, struct wif_error *err);

/* Provider with exactly this issuer, or NULL. Borrowed. */
const struct wif_provider *
wif_config_provider_by_issuer(const struct wif_config *cfg, const char *issuer,
                              size_t len);

/* Provider by section name, or NULL. Borrowed. */
const struct wif_provider *
wif_config_provider_by_name(const struct wif_config *cfg, const char *name);

#endif
