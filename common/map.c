/* SPDX-License-Identifier: Apache-2.0 */
/* pam_wif.map: parsing (with file:line errors) kept apart from matching. */
#include "map.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claims.h"
#include "dropin.h"
#include "file.h"
#include "text.h"

bool wif_map_account_valid(const char *name) {
  size_t n;

  if (name == NULL)
    return false;
  n = strnlen(name, WIF_ACCOUNT_LEN_MAX + 1);
  if (n == 0 || n > WIF_ACCOUNT_LEN_MAX)
    return false;
  if (name[n - 1] == '$')
    n--;
  if (n == 0 || !((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_'))
    return false;
  for (size_t i = 1; i < n; i++) {
    char c = name[i];

    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '.' || c == '-'))
      return false;
  }
  return true;
}

static void rule_clear(struct wif_map_rule *r) {
  free(r->provider);
  free(r->claim);
  free(r->identifier);
  for (size_t i = 0; i < r->n_accounts; i++)
    free(r->accounts[i]);
  free(r->accounts);
  memset(r, 0, sizeof(*r));
}

void wif_map_free(struct wif_map *map) {
  if (map == NULL)
    return;
  for (size_t i = 0; i < map->n_rules; i++)
    rule_clear(&map->rules[i]);
  free(map->rules);
  for (size_t i = 0; i < map->n_files; i++)
    free(map->files[i]);
  free(map->files);
  free(map->name);
  free(map);
}

/* Next blank-separated field of *cursor, NUL-terminated in place; NULL at
 * the end of the line. */
static char *next_field(char **cursor) {
  char *s = *cursor;
  char *start;

  while (*s == ' ' || *s == '\t')
    s++;
  if (*s == '\0') {
    *cursor = s;
    return NULL;
  }
  start = s;
  while (*s != '\0' && *s != ' ' && *s != '\t')
    s++;
  if (*s != '\0')
    *s++ = '\0';
  *cursor = s;
  return start;
}

/* Splits "a,b,c" into r->accounts, each checked. */
static wif_rc parse_accounts(struct wif_map_rule *r, const char *list,
                             struct wif_error *err) {
  char qb[WIF_TEXT_QUOTE_MAX + 4];
  const char *s = list;

  for (;;) {
    const char *comma = strchr(s, ',');
    size_t n = comma != NULL ? (size_t)(comma - s) : strlen(s);
    char *name;

    if (n == 0)
      return wif_error_set(err, WIF_E_CONFIG_INVALID,
                           "empty account name in \"%s\"",
                           wif_text_quote(list, qb, sizeof(qb)));
    if ((name = strndup(s, n)) == NULL)
      return wif_error_set(err, WIF_E_NOMEM, "out of memory");
    if (!wif_map_account_valid(name)) {
      wif_error_set(err, WIF_E_CONFIG_INVALID,
                    "invalid account name \"%s\" (a-z 0-9 _ . -, starting "
                    "with a-z or _, an optional final $, at most %d bytes)",
                    wif_text_quote(name, qb, sizeof(qb)), WIF_ACCOUNT_LEN_MAX);
      free(name);
      return WIF_E_CONFIG_INVALID;
    }
    if (wif_map_rule_grants(r, name)) {
      free(name); /* a repeated name grants nothing more */
    } else if (r->n_accounts == WIF_MAP_ACCOUNTS_MAX) {
      free(name);
      return wif_error_set(err, WIF_E_CONFIG_INVALID,
                           "more than %d accounts on one line",
                           WIF_MAP_ACCOUNTS_MAX);
    } else {
      r->accounts[r->n_accounts++] = name;
    }
    if (comma == NULL)
      return WIF_OK;
    s = comma + 1;
  }
}

static wif_rc parse_rule(struct wif_map *map, const struct wif_config *cfg,
                         char *line, unsigned lineno, const char *file,
                         struct wif_error *err) {
  char qb[WIF_TEXT_QUOTE_MAX + 4];
  char *cursor = line;
  char *provider, *type, *identifier, *accounts, *extra;
  const struct wif_provider *p;
  struct wif_map_rule r;
  struct wif_map_rule *grown;
  wif_rc rc = WIF_E_INTERNAL;

  memset(&r, 0, sizeof(r));
  /* `#` starts a comment at the start of the line or after a blank, so an
   * identifier may still contain one. */
  for (char *c = line; *c != '\0'; c++) {
    if (*c == '#' && (c == line || c[-1] == ' ' || c[-1] == '\t')) {
      *c = '\0';
      break;
    }
  }
  provider = next_field(&cursor);
  if (provider == NULL)
    return WIF_OK;
  type = next_field(&cursor);
  identifier = next_field(&cursor);
  accounts = next_field(&cursor);
  extra = next_field(&cursor);
  if (type == NULL || identifier == NULL) {
    rc = wif_error_set(err, WIF_E_CONFIG_INVALID,
                       "expected \"provider type identifier accounts\"");
    goto out;
  }
  p = wif_config_provider_by_name(cfg, provider);
  if (p == NULL) {
    rc = wif_error_set(err, WIF_E_CONFIG_INVALID, "unknown provider \"%s\"",
                       wif_text_quote(provider, qb, sizeof(qb)));
    goto out;
  }
  if (strcmp(type, "user") == 0) {
    r.type = WIF_AUTHZ_USER;
  } else if (strcmp(type, "group") == 0) {
    r.type = WIF_AUTHZ_GROUP;
  } else if (strncmp(type, "claim:", 6) == 0) {
    r.type = WIF_AUTHZ_CLAIM;
    if (!wif_config_claim_valid(type + 6, strlen(type + 6))) {
      rc = wif_error_set(err, WIF_E_CONFIG_INVALID,
                         "type \"%s\" must name a claim or a JSON pointer "
                         "after \"claim:\"",
                         wif_text_quote(type, qb, sizeof(qb)));
      goto out;
    }
  } else {
    rc = wif_error_set(err, WIF_E_CONFIG_INVALID,
                       "unknown type \"%s\" (expected user, group or "
                       "claim:NAME)",
                       wif_text_quote(type, qb, sizeof(qb)));
    goto out;
  }
  if ((p->authz_types & WIF_AUTHZ_BIT(r.type)) == 0) {
    char list[32] = "";

    for (unsigned t = WIF_AUTHZ_USER; t <= WIF_AUTHZ_CLAIM; t++)
      if ((p->authz_types & WIF_AUTHZ_BIT(t)) != 0)
        (void)snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
                       list[0] != '\0' ? " " : "",
                       wif_authz_name((enum wif_authz)t));
    rc = wif_error_set(err, WIF_E_CONFIG_INVALID,
                       "type %s is not in the authorization of provider "
                       "\"%s\" (%s)",
                       wif_authz_name(r.type), p->name, list);
    goto out;
  }
  r.identifier_len = strlen(identifier);
  /* Longer than any user claim or group the core accepts: it could never
   * match, so it is a mistake worth reporting. Claim values are held to
   * the group limit. */
  if (r.identifier_len >
      (r.type == WIF_AUTHZ_USER ? WIF_SUBJECT_LEN_MAX : WIF_GROUP_LEN_MAX)) {
    rc = wif_error_set(
        err, WIF_E_CONFIG_INVALID, "identifier longer than %d bytes",
        r.type == WIF_AUTHZ_USER ? WIF_SUBJECT_LEN_MAX : WIF_GROUP_LEN_MAX);
    goto out;
  }
  if (r.type == WIF_AUTHZ_CLAIM && (r.claim = strdup(type + 6)) == NULL) {
    rc = wif_error_set(err, WIF_E_NOMEM, "out of memory");
    goto out;
  }
  if (accounts == NULL) {
    rc = wif_error_set(err, WIF_E_CONFIG_INVALID, "empty account list");
    goto out;
  }
  if (extra != NULL) {
    rc = wif_error_set(err, WIF_E_CONFIG_INVALID,
                       "unexpected \"%s\" after the account list (separate "
                       "accounts with commas, without blanks)",
                       wif_text_quote(extra, qb, sizeof(qb)));
    goto out;
  }
  r.line = lineno;
  r.file = file;
  r.provider = strdup(p->name);
  r.identifier = strdup(identifier);
  r.accounts = calloc(WIF_MAP_ACCOUNTS_MAX, sizeof(*r.accounts));
  if (r.provider == NULL || r.identifier == NULL || r.accounts == NULL) {
    rc = wif_error_set(err, WIF_E_NOMEM, "out of memory");
    goto out;
  }
  rc = parse_accounts(&r, accounts, err);
  if (rc != WIF_OK)
    goto out;
  grown = realloc(map->rules, (map->n_rules + 1) * sizeof(*map->rules));
  if (grown == NULL) {
    rc = wif_error_set(err, WIF_E_NOMEM, "out of memory");
    goto out;
  }
  map->rules = grown;
  map->rules[map->n_rules++] = r;
  memset(&r, 0, sizeof(r));
  rc = WIF_OK;
out:
  rule_clear(&r);
  return rc;
}

/* Parses one file's text into map. */
static wif_rc parse_into(struct wif_map *map, const struct wif_config *cfg,
                         const char *text, size_t len, const char *name,
                         const char *file, struct wif_error *err) {
  wif_rc rc = WIF_OK;
  char line[WIF_MAP_LINE_MAX + 1];
  unsigned lineno = 0;
  size_t pos = 0;

  while (pos < len) {
    lineno++;
    rc = wif_text_next_line(text, len, &pos, WIF_MAP_LINE_MAX, line, err);
    if (rc == WIF_OK)
      rc = parse_rule(map, cfg, line, lineno, file, err);
    if (rc != WIF_OK) {
      wif_text_prefix_error(err, name, lineno);
      break;
    }
  }
  return rc;
}

static struct wif_map *map_new(const char *name) {
  struct wif_map *map = calloc(1, sizeof(*map));

  if (map != NULL && (map->name = strdup(name)) == NULL) {
    free(map);
    map = NULL;
  }
  return map;
}

wif_rc wif_map_parse(const char *text, size_t len, const char *name,
                     const struct wif_config *cfg, struct wif_map **out,
                     struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;
  struct wif_map *map = NULL;

  if (out != NULL)
    *out = NULL;
  wif_error_clear(err);
  if (out == NULL || cfg == NULL || name == NULL || (text == NULL && len > 0)) {
    rc = wif_error_set(err, WIF_E_INTERNAL, "wif_map_parse: bad call");
    goto out;
  }
  if ((map = map_new(name)) == NULL) {
    rc = wif_error_set(err, WIF_E_NOMEM, "out of memory");
    goto out;
  }
  if ((rc = parse_into(map, cfg, text, len, name, NULL, err)) != WIF_OK)
    goto out;
  *out = map;
  map = NULL;
out:
  wif_map_free(map);
  return rc;
}

/* Missing, unreadable or oversized: the configuration is wrong. */
static wif_rc read_map_file(const char *path, uid_t owner, char **text,
                            size_t *len, struct wif_error *err) {
  wif_rc rc =
      wif_file_read_trusted(path, owner, WIF_MAP_SIZE_MAX, text, len, err);

  if (rc == WIF_E_SYSTEM || rc == WIF_E_TOO_LARGE) {
    rc = WIF_E_CONFIG_INVALID;
    if (err != NULL)
      err->rc = rc;
  }
  return rc;
}

/* What a drop-in map parses into. */
struct dropin_ctx {
  struct wif_map *map;
  const struct wif_config *cfg;
};

static wif_rc parse_dropin(void *ctx, const char *path, const char *text,
                           size_t len, struct wif_error *err) {
  struct dropin_ctx *d = ctx;

  return parse_into(d->map, d->cfg, text, len, path, path, err);
}

/* Reads cfg->dropin_dir/NAME.map into map, in order. */
static wif_rc load_dropins(struct wif_map *map, const struct wif_config *cfg,
                           uid_t owner, size_t budget, struct wif_error *err) {
  struct dropin_ctx d = {map, cfg};

  if (cfg->dropin_dir == NULL)
    return WIF_OK;
  if ((map->files = calloc(WIF_DROPIN_FILES_MAX, sizeof(*map->files))) == NULL)
    return wif_error_set(err, WIF_E_NOMEM, "out of memory");
  return wif_dropin_load(cfg->dropin_dir, ".map", "map", WIF_MAP_SIZE_MAX,
                         owner, budget, map->files, &map->n_files, parse_dropin,
                         &d, err);
}

wif_rc wif_map_load(const char *path, uid_t owner, const struct wif_config *cfg,
                    struct wif_map **out, struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;
  struct wif_map *map = NULL;
  char *text = NULL;
  size_t len = 0;

  if (out != NULL)
    *out = NULL;
  wif_error_clear(err);
  if (out == NULL || path == NULL || cfg == NULL) {
    rc = wif_error_set(err, WIF_E_INTERNAL, "wif_map_load: bad call");
    goto out;
  }
  rc = read_map_file(path, owner, &text, &len, err);
  if (rc != WIF_OK)
    goto out;
  if ((map = map_new(path)) == NULL) {
    rc = wif_error_set(err, WIF_E_NOMEM, "out of memory");
    goto out;
  }
  if ((rc = parse_into(map, cfg, text, len, path, NULL, err)) != WIF_OK)
    goto out;
  if ((rc = load_dropins(map, cfg, owner, WIF_MAP_SIZE_MAX - len, err)) !=
      WIF_OK)
    goto out;
  *out = map;
  map = NULL;
out:
  wif_map_free(map);
  wif_file_free_buffer(text, len);
  return rc;
}

const char *wif_map_rule_where(const struct wif_map *map,
                               const struct wif_map_rule *r, char *buf,
                               size_t size) {
  (void)snprintf(buf, size, "%s:%u", r->file != NULL ? r->file : map->name,
                 r->line);
  return buf;
}

bool wif_map_rule_grants(const struct wif_map_rule *rule, const char *account) {
  if (rule == NULL || account == NULL)
    return false;
  for (size_t i = 0; i < rule->n_accounts; i++)
    if (strcmp(rule->accounts[i], account) == 0)
      return true;
  return false;
}

static bool same_bytes(const struct wif_map_rule *r, const char *s,
                       size_t len) {
  return s != NULL && r->identifier_len == len &&
         memcmp(r->identifier, s, len) == 0;
}

wif_rc wif_map_match(const struct wif_map *map, const struct wif_provider *p,
                     const struct wif_identity *id, const char *account,
                     const struct wif_map_rule **out_rule,
                     struct wif_error *err) {
  wif_rc rc = WIF_E_NO_MAPPING;
  struct wif_error why;

  if (out_rule != NULL)
    *out_rule = NULL;
  wif_error_clear(&why);
  if (map == NULL || p == NULL || id == NULL || account == NULL)
    return wif_error_set(err, WIF_E_INTERNAL, "wif_map_match: bad call");
  for (size_t i = 0; i < map->n_rules; i++) {
    const struct wif_map_rule *r = &map->rules[i];
    bool hit = false;

    if (strcmp(r->provider, p->name) != 0 ||
        (p->authz_types & WIF_AUTHZ_BIT(r->type)) == 0 ||
        !wif_map_rule_grants(r, account))
      continue;
    if (r->type == WIF_AUTHZ_USER) {
      hit = same_bytes(r, id->subject, id->subject_len);
    } else if (r->type == WIF_AUTHZ_GROUP) {
      for (size_t g = 0; !hit && id->groups != NULL && g < id->n_groups; g++)
        hit = same_bytes(r, id->groups[g], strlen(id->groups[g]));
    } else if (id->claims != NULL) {
      struct wif_error e;
      wif_rc m = wif_claims_match(id->claims, p, r->claim, r->identifier, false,
                                  &hit, &e);

      /* A value that cannot be compared is never a match; another line
       * may still grant, else it is the reason given. An absent claim is
       * simply no match, except for Entra's overage, which says what to
       * do. */
      if (m != WIF_OK)
        hit = false;
      if (rc == WIF_E_NO_MAPPING &&
          (m == WIF_E_CLAIM_TYPE ||
           (m == WIF_E_CLAIM_MISSING &&
            wif_claims_overage(id->claims, r->claim)))) {
        rc = m;
        char where[WIF_ERROR_MSG_MAX];

        (void)wif_error_set(&why, m, "%s: %s",
                            wif_map_rule_where(map, r, where, sizeof(where)),
                            e.msg);
      }
    }
    if (hit) {
      if (out_rule != NULL)
        *out_rule = r;
      return WIF_OK;
    }
  }
  if (rc != WIF_E_NO_MAPPING)
    return wif_error_set(err, rc, "%s", why.msg);
  return WIF_E_NO_MAPPING;
}
