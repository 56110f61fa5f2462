/* SPDX-License-Identifier: Apache-2.0 */
/* pam_wif.map: which identities and groups may use which local accounts. */
#ifndef WIF_MAP_H
#define WIF_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "claims.h"
#include "config.h"
#include "error.h"

#define WIF_MAP_SIZE_MAX (1024 * 1024)
#define WIF_MAP_LINE_MAX 4096
#define WIF_MAP_ACCOUNTS_MAX 64 /* accounts on one line */
#define WIF_ACCOUNT_LEN_MAX 32  /* bytes of an account name, with its $ */

/*
 * One line: `provider type identifier account[,account...]`. Every string
 * is owned by the map. The identifier is compared byte for byte with the
 * user claim (type user), with each element of the groups claim (type
 * group), or with the claim a `claim:NAME` rule names, as
 * wif_claims_match compares (booleans as true/false, numbers as their
 * JSON text, any element of an array, words of a space_delimited claim);
 * there is no globbing, no case folding, no normalisation.
 */
struct wif_map_rule {
  char *provider; /* the provider section's name */
  enum wif_authz type;
  char *claim; /* type claim: the claim name or JSON pointer; else NULL */
  char *identifier;
  size_t identifier_len;
  char **accounts;
  size_t n_accounts;
  unsigned line;
  const char *file; /* the drop-in file of the line (owned by the map's
                       files); NULL: the map's name */
};

struct wif_map {
  char *name; /* as given to the parser, for messages */
  struct wif_map_rule *rules;
  size_t n_rules;
  char **files; /* the drop-in files read, in order */
  size_t n_files;
};

/*
 * Parses map text already in memory against cfg (borrowed, only read
 * during the call): every provider named must exist in cfg, and each
 * line's type must be one its provider's `authorization` lists. `name` prefixes
 * messages: `name:12: unknown provider "azure-prd"`. Lines are split on
 * blanks; `#` at the start of a line or after a blank starts a comment;
 * one trailing CR is dropped. NUL bytes, control characters, invalid UTF-8
 * and lines over WIF_MAP_LINE_MAX bytes are errors. Every error is
 * WIF_E_CONFIG_INVALID (WIF_E_NOMEM on allocation failure).
 *
 * Account names are only checked for syntax (wif_map_account_valid): the
 * parser never consults the password database, so `root` parses; the
 * decision refuses uid 0 (auth.h) and `wifctl check` reports it.
 * On success *out is new (free with wif_map_free); on failure NULL.
 */
wif_rc wif_map_parse(const char *text, size_t len, const char *name,
                     const struct wif_config *cfg, struct wif_map **out,
                     struct wif_error *err);

/*
 * Reads path, then each NAME.map file of cfg->dropin_dir (when not NULL) in
 * strcmp order with the same rules (at most WIF_DROPIN_FILES_MAX; all
 * together at most WIF_MAP_SIZE_MAX bytes; errors name the drop-in
 * file:line). Each file is read with wif_file_read_trusted (owned by `owner` or
 * root, not group/other writable, the same for every parent directory; else
 * WIF_E_CONFIG_INSECURE) and parses it, naming errors by path. A file
 * that is missing or cannot be read is WIF_E_CONFIG_INVALID too: the
 * mapping is required configuration, not a runtime resource.
 */
wif_rc wif_map_load(const char *path, uid_t owner, const struct wif_config *cfg,
                    struct wif_map **out, struct wif_error *err);

void wif_map_free(struct wif_map *map);

/* "file:line" of a rule into buf, for messages. */
const char *wif_map_rule_where(const struct wif_map *map,
                               const struct wif_map_rule *r, char *buf,
                               size_t size);

/*
 * True for a portable account name: [a-z_][a-z0-9_.-]*, optionally ending
 * in one `$` (machine accounts), at most WIF_ACCOUNT_LEN_MAX bytes in all.
 * NULL and "" are invalid. This is useradd's default rule, narrowed to
 * what never needs quoting in a path, a log line or a shell.
 */
bool wif_map_account_valid(const char *name);

/* True when rule lists account (exact comparison). */
bool wif_map_rule_grants(const struct wif_map_rule *rule, const char *account);

/*
 * The first rule of provider p, of a type p's authorization lists, that
 * grants `account` to identity id: a user rule whose identifier equals
 * id->subject, a group rule whose identifier equals one of id->groups, or
 * a claim rule whose claim (in id->claims) matches its identifier.
 * *out_rule (may be NULL) borrows the rule from map. WIF_OK, or, when no
 * line grants it: WIF_E_CLAIM_TYPE or WIF_E_CLAIM_MISSING (Entra's
 * overage) when a claim rule for this account could not be compared,
 * else WIF_E_NO_MAPPING; err (may be NULL) says why for the first two.
 */
wif_rc wif_map_match(const struct wif_map *map, const struct wif_provider *p,
                     const struct wif_identity *id, const char *account,
                     const struct wif_map_rule **out_rule,
                     struct wif_error *err);

#endif
