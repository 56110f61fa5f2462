/* SPDX-License-Identifier: Apache-2.0 */
/* pam_wif.conf: the global settings and the trusted providers. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "glob.h"
#include "text.h"

#define NAME_MAX_LEN 64
#define CLAIM_MAX_LEN 256

/*
 * The public struct is the first member, so a struct wif_config * from
 * wif_config_new converts back. The masks record which keys a file set
 * explicitly: that tells a duplicate from a default, and lets the first
 * explicit list value replace the default list instead of extending it.
 */
struct config_priv {
  struct wif_config pub;
  uint32_t global_set;
  uint32_t *provider_set; /* parallel to pub.providers */
  size_t cap;
};

enum key_id {
  K_MAP_FILE,
  K_CACHE_DIR,
  K_HTTP_TIMEOUT,
  K_CLOCK_SKEW,
  K_LOG_CLAIMS,
  K_HTTPS_PROXY,
  K_ISSUER,
  K_AUDIENCE,
  K_AUTHORIZATION,
  K_USER_CLAIM,
  K_GROUPS_CLAIM,
  K_ALGORITHMS,
  K_JWKS_URI,
  K_JWKS_FILE,
  K_CA_FILE,
  K_REQUIRE,
  K_MAX_TOKEN_AGE,
  K_ONE_TIME,
  K_SPACE_DELIMITED
};

enum key_kind {
  KIND_SCALAR, /* once per section */
  KIND_LIST,   /* appends; the first use replaces the default */
  KIND_REPEAT  /* one entry per line */
};

struct key_def {
  const char *name;
  enum key_id id;
  bool provider;
  enum key_kind kind;
};

static const struct key_def keys[] = {
    {"map_file", K_MAP_FILE, false, KIND_SCALAR},
    {"cache_dir", K_CACHE_DIR, false, KIND_SCALAR},
    {"http_timeout", K_HTTP_TIMEOUT, false, KIND_SCALAR},
    {"clock_skew", K_CLOCK_SKEW, false, KIND_SCALAR},
    {"log_claims", K_LOG_CLAIMS, false, KIND_LIST},
    {"https_proxy", K_HTTPS_PROXY, false, KIND_SCALAR},
    {"issuer", K_ISSUER, true, KIND_SCALAR},
    {"audience", K_AUDIENCE, true, KIND_LIST},
    {"authorization", K_AUTHORIZATION, true, KIND_LIST},
    {"user_claim", K_USER_CLAIM, true, KIND_SCALAR},
    {"groups_claim", K_GROUPS_CLAIM, true, KIND_SCALAR},
    {"algorithms", K_ALGORITHMS, true, KIND_LIST},
    {"jwks_uri", K_JWKS_URI, true, KIND_SCALAR},
    {"jwks_file", K_JWKS_FILE, true, KIND_SCALAR},
    {"ca_file", K_CA_FILE, true, KIND_SCALAR},
    {"require", K_REQUIRE, true, KIND_REPEAT},
    {"max_token_age", K_MAX_TOKEN_AGE, true, KIND_SCALAR},
    {"one_time", K_ONE_TIME, true, KIND_SCALAR},
    {"space_delimited", K_SPACE_DELIMITED, true, KIND_LIST},
};

const char *wif_authz_name(enum wif_authz t) {
  switch (t) {
  case WIF_AUTHZ_USER:
    return "user";
  case WIF_AUTHZ_GROUP:
    return "group";
  case WIF_AUTHZ_CLAIM:
    return "claim";
  }
  return "unknown";
}

static struct config_priv *priv(struct wif_config *cfg) {
  return (struct config_priv *)cfg;
}

static void free_list(char **list, size_t n) {
  if (list == NULL)
    return;
  for (size_t i = 0; i < n; i++)
    free(list[i]);
  free(list);
}

static void provider_clear(struct wif_provider *p) {
  free(p->name);
  free(p->issuer);
  free_list(p->audiences, p->n_audiences);
  free(p->user_claim);
  free(p->groups_claim);
  free(p->jwks_uri);
  free(p->jwks_file);
  free(p->ca_file);
  free_list(p->space_delimited, p->n_space_delimited);
  for (size_t i = 0; i < p->n_requires; i++) {
    free(p->requires[i].claim);
    free(p->requires[i].pattern);
  }
  free(p->requires);
  memset(p, 0, sizeof(*p));
}

void wif_config_free(struct wif_config *cfg) {
  struct config_priv *cp;

  if (cfg == NULL)
    return;
  cp = priv(cfg);
  free(cfg->path);
  free(cfg->map_file);
  free(cfg->cache_dir);
  free_list(cfg->log_claims, cfg->n_log_claims);
  free(cfg->https_proxy);
  free(cfg->dropin_dir);
  for (size_t i = 0; i < cfg->n_files; i++)
    free(cfg->files[i]);
  free(cfg->files);
  for (size_t i = 0; i < cfg->n_providers; i++)
    provider_clear(&cfg->providers[i]);
  free(cfg->providers);
  free(cp->provider_set);
  free(cp);
}

/* Appends a copy of s[0..len) to a list of at most WIF_LIST_MAX. */
static wif_rc list_add(char ***list, size_t *n, const char *s, size_t len) {
  char **nl;
  char *copy;

  if (*n >= WIF_LIST_MAX)
    return WIF_E_TOO_LARGE;
  if ((copy = strndup(s, len)) == NULL)
    return WIF_E_NOMEM;
  if ((nl = realloc(*list, (*n + 1) * sizeof(*nl))) == NULL) {
    free(copy);
    return WIF_E_NOMEM;
  }
  nl[*n] = copy;
  *list = nl;
  (*n)++;
  return WIF_OK;
}

struct wif_config *wif_config_new(const char *path) {
  struct config_priv *cp = NULL;
  struct wif_config *cfg = NULL;
  struct wif_config *ret = NULL;

  if ((cp = calloc(1, sizeof(*cp))) == NULL)
    goto out;
  cfg = &cp->pub;
  cfg->http_timeout = 5;
  cfg->clock_skew = 60;
  if (path != NULL && (cfg->path = strdup(path)) == NULL)
    goto out;
  if ((cfg->map_file = strdup(WIF_MAP_PATH)) == NULL ||
      (cfg->cache_dir = strdup(WIF_CACHE_DIR)) == NULL)
    goto out;
  if (list_add(&cfg->log_claims, &cfg->n_log_claims, "iss", 3) != WIF_OK ||
      list_add(&cfg->log_claims, &cfg->n_log_claims, "sub", 3) != WIF_OK)
    goto out;
  ret = cfg;
  cfg = NULL;
out:
  wif_config_free(cfg);
  return ret;
}

static bool valid_provider_name(const char *name) {
  size_t n = strlen(name);

  if (n == 0 || n > NAME_MAX_LEN)
    return false;
  for (size_t i = 0; i < n; i++) {
    char c = name[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
          (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
      return false;
  }
  return true;
}

wif_rc wif_config_add_provider(struct wif_config *cfg, const char *name,
                               struct wif_provider **out,
                               struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;
  struct config_priv *cp;
  struct wif_provider *p;
  char qb[WIF_TEXT_QUOTE_MAX + 4];

  if (out != NULL)
    *out = NULL;
  if (cfg == NULL || name == NULL) {
    rc =
        wif_error_set(err, WIF_E_INTERNAL, "wif_config_add_provider: bad call");
    goto out;
  }
  cp = priv(cfg);
  if (!valid_provider_name(name)) {
    rc = wif_error_set(err, WIF_E_CONFIG_INVALID,
                       "invalid provider name \"%s\" (1 to 64 of A-Z a-z 0-9 "
                       "_ . -)",
                       wif_text_quote(name, qb, sizeof(qb)));
    goto out;
  }
  for (size_t i = 0; i < cfg->n_providers; i++) {
    if (strcmp(cfg->providers[i].name, name) != 0)
      continue;
    if (cfg->providers[i].line > 0 && cfg->providers[i].file != NULL)
      rc = wif_error_set(err, WIF_E_CONFIG_INVALID,
                         "duplicate provider \"%s\" (first at %s:%u)", name,
                         cfg->providers[i].file, cfg->providers[i].line);
    else if (cfg->providers[i].line > 0)
      rc = wif_error_set(err, WIF_E_CONFIG_INVALID,
                         "duplicate provider \"%s\" (first at line %u)", name,
                         cfg->providers[i].line);
    else
      rc = wif_error_set(err, WIF_E_CONFIG_INVALID, "duplicate provider \"%s\"",
                         name);
    goto out;
  }
  if (cfg->n_providers >= WIF_PROVIDERS_MAX) {
    rc = wif_error_set(err, WIF_E_CONFIG_INVALID,
                       "too many providers (at most %d)", WIF_PROVIDERS_MAX);
    goto out;
  }
  if (cfg->n_providers == cp->cap) {
    size_t ncap = cp->cap == 0 ? 4 : cp->cap * 2;
    struct wif_provider *np;
    uint32_t *nset;

    if ((np = realloc(cfg->providers, ncap * sizeof(*np))) == NULL) {
      rc = wif_error_set(err, WIF_E_NOMEM, "out of memory");
      goto out;
    }
    cfg->providers = np;
    if ((nset = realloc(cp->provider_set, ncap * sizeof(*nset))) == NULL) {
      rc = wif_error_set(err, WIF_E_NOMEM, "out of memory");
      goto out;
    }
    cp->provider_set = nset;
    cp->cap = ncap;
  }
  p = &cfg->providers[cfg->n_providers];
  memset(p, 0, sizeof(*p));
  p->authz_types = WIF_AUTHZ_BIT(WIF_AUTHZ_USER);
  p->algorithms = WIF_ALG_SET_DEFAULT;
  p->max_token_age = WIF_MAX_TOKEN_AGE_DEFAULT + cfg->clock_skew;
  if ((p->name = strdup(name)) == NULL ||
      (p->user_claim = strdup("sub")) == NULL ||
      (p->groups_claim = strdup("groups")) == NULL ||
      list_add(&p->space_delimited, &p->n_space_delimited, "scope", 5) !=
          WIF_OK) {
    provider_clear(p);
    rc = wif_error_set(err, WIF_E_NOMEM, "out of memory");
    goto out;
  }
  cp->provider_set[cfg->n_providers] = 0;
  cfg->n_providers++;
  if (out != NULL)
    *out = p;
  rc = WIF_OK;
out:
  return rc;
}

static bool is_abs_path(const char *s) {
  return s[0] == '/';
}

/* Scheme, then a non-empty host; no byte a URL never carries raw. */
static bool valid_url(const char *s, const char *scheme) {
  size_t n = strlen(scheme);

  if (strncmp(s, scheme, n) != 0)
    return false;
  if (s[n] == '\0' || s[n] == '/' || s[n] == '?' || s[n] == '#')
    return false;
  for (const char *c = s; *c != '\0'; c++)
    if ((unsigned char)*c <= 0x20 || (unsigned char)*c == 0x7f)
      return false;
  return true;
}

/* A claim name (no space, control character or comma) or an RFC 6901
 * JSON pointer with non-empty segments and only ~0 / ~1 escapes. */
static bool valid_claim(const char *s, size_t len) {
  if (len == 0 || len > CLAIM_MAX_LEN)
    return false;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c <= 0x20 || c == 0x7f || c == ',' || c == '"')
      return false;
  }
  if (s[0] != '/')
    return true;
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '/' && (i + 1 == len || s[i + 1] == '/'))
      return false;
    if (s[i] == '~' && (i + 1 == len || (s[i + 1] != '0' && s[i + 1] != '1')))
      return false;
  }
  return true;
}

bool wif_config_claim_valid(const char *s, size_t len) {
  return s != NULL && valid_claim(s, len);
}

static wif_rc set_string(char **dst, const char *value, struct wif_error *err) {
  char *copy = strdup(value);

  if (copy == NULL)
    return wif_error_set(err, WIF_E_NOMEM, "out of memory");
  free(*dst);
  *dst = copy;
  return WIF_OK;
}

static wif_rc set_path(char **dst, const char *key, const char *value,
                       struct wif_error *err) {
  char qb[WIF_TEXT_QUOTE_MAX + 4];

  if (!is_abs_path(value))
    return wif_error_set(err, WIF_E_CONFIG_INVALID,
                         "%s must be an absolute path, not \"%s\"", key,
                         wif_text_quote(value, qb, sizeof(qb)));
  return set_string(dst, value, err);
}

static wif_rc set_https(char **dst, const char *key, const char *value,
                        struct wif_error *err) {
  char qb[WIF_TEXT_QUOTE_MAX + 4];

  if (!valid_url(value, "https://"))
    return wif_error_set(err, WIF_E_CONFIG_INVALID,
                         "%s must be an https:// URL, not \"%s\"", key,
                         wif_text_quote(value, qb, sizeof(qb)));
  return set_string(dst, value, err);
}

/*
 * An issuer is an https:// URL, or (Google's accounts.google.com,
 * Kubernetes' rke) any name without blanks or control characters: such a
 * provider must then name its keys (jwks_uri or jwks_file), checked by
 * wif_config_finish, since discovery needs a URL. Anything starting like
 * an http(s) URL must be a valid https one: http:// is a mistake.
 */
static bool issuer_is_name(const char *s) {
  if (s[0] == '\0' || wif_text_ncasecmp(s, "http://", 7) == 0 ||
      wif_text_ncasecmp(s, "https://", 8) == 0)
    return false;
  for (const char *c = s; *c != '\0'; c++)
    if ((unsigned char)*c <= 0x20 || (unsigned char)*c == 0x7f)
      return false;
  return true;
}

static wif_rc set_issuer(char **dst, const char *value, struct wif_error *err) {
  char qb[WIF_TEXT_QUOTE_MAX + 4];

  if (valid_url(value, "https://") || issuer_is_name(value))
    return set_string(dst, value, err);
  if (wif_text_ncasecmp(value, "http", 4) == 0)
    return wif_error_set(err, WIF_E_CONFIG_INVALID,
                         "issuer must be an https:// URL, not \"%s\"",
                         wif_text_quote(value, qb, sizeof(qb)));
  return wif_error_set(err, WIF_E_CONFIG_INVALID,
                       "issuer must be an https:// URL or, with jwks_uri or "
                       "jwks_file, a name without blanks or control "
                       "characters, not \"%s\"",
                       wif_text_quote(value, qb, sizeof(qb)));
}

static wif_rc set_claim(char **dst, const char *key, const char *value,
                        struct wif_error *err) {
  char qb[WIF_TEXT_QUOTE_MAX + 4];

  if (!valid_claim(value, strlen(value)))
    return wif_error_set(err, WIF_E_CONFIG_INVALID,
                         "%s must be a claim name or a JSON pointer, not "
                         "\"%s\"",
                         key, wif_text_quote(value, qb, sizeof(qb)));
  return set_string(dst, value, err);
}

static wif_rc set_int(int64_t *dst, const char *key, const char *value,
                      long long min, long long max, struct wif_error *err) {
  char qb[WIF_TEXT_QUOTE_MAX + 4];
  char *end = NULL;
  long long v;

  /* strtoll alone would accept blanks, a sign and "5s". */
  if (value[0] < '0' || value[0] > '9')
    goto bad;
  errno = 0;
  v = strtoll(value, &end, 10);
  if (errno != 0 || end == NULL || *end != '\0' || v < min || v > max)
    goto bad;
  *dst = (int64_t)v;
  return WIF_OK;
bad:
  return wif_error_set(err, WIF_E_CONFIG_INVALID,
                       "%s must be a number from %lld to %lld, not \"%s\"", key,
                       min, max, wif_text_quote(value, qb, sizeof(qb)));
}

/* yes or no, nothing else: a typo must not switch a security check off. */
static wif_rc set_bool(bool *dst, const char *key, const char *value,
                       struct wif_error *err) {
  char qb[WIF_TEXT_QUOTE_MAX + 4];

  if (strcmp(value, "yes") == 0)
    *dst = true;
  else if (strcmp(value, "no") == 0)
    *dst = false;
  else
    return wif_error_set(err, WIF_E_CONFIG_INVALID,
                         "%s must be \"yes\" or \"no\", not \"%s\"", key,
                         wif_text_quote(value, qb, sizeof(qb)));
  return WIF_OK;
}

static bool is_sep(char c) {
  return c == ' ' || c == '\t' || c == ',';
}

static bool list_has(char **list, size_t n, const char *s, size_t len) {
  for (size_t i = 0; i < n; i++)
    if (strlen(list[i]) == len && memcmp(list[i], s, len) == 0)
      return true;
  return false;
}

/* Splits a list value on spaces and commas and adds each item. */
static wif_rc set_list(struct wif_config *cfg, struct wif_provider *p,
                       const struct key_def *k, const char *value, bool first,
                       struct wif_error *err) {
  char qb[WIF_TEXT_QUOTE_MAX + 4];
  char item[CLAIM_MAX_LEN + 1];
  const char *s = value;
  size_t count = 0;

  if (first && k->id == K_LOG_CLAIMS) {
    free_list(cfg->log_claims, cfg->n_log_claims);
    cfg->log_claims = NULL;
    cfg->n_log_claims = 0;
  }
  if (first && k->id == K_ALGORITHMS)
    p->algorithms = 0;
  if (first && k->id == K_AUTHORIZATION)
    p->authz_types = 0;
  if (first && k->id == K_SPACE_DELIMITED) {
    free_list(p->space_delimited, p->n_space_delimited);
    p->space_delimited = NULL;
    p->n_space_delimited = 0;
  }
  for (;;) {
    size_t len;
    wif_rc rc;

    while (is_sep(*s))
      s++;
    if (*s == '\0')
      break;
    for (len = 0; s[len] != '\0' && !is_sep(s[len]); len++)
      ;
    count++;
    /* item is s[0..len) as a string, for messages and name lookups. */
    memcpy(item, s, len < CLAIM_MAX_LEN ? len : CLAIM_MAX_LEN);
    item[len < CLAIM_MAX_LEN ? len : CLAIM_MAX_LEN] = '\0';
    if (k->id == K_ALGORITHMS) {
      enum wif_alg alg;

      if (!wif_alg_from_name(s, len, &alg)) {
        if (wif_text_ncasecmp(item, "none", 5) == 0 ||
            (len > 2 && wif_text_ncasecmp(item, "HS", 2) == 0))
          return wif_error_set(err, WIF_E_CONFIG_INVALID,
                               "algorithm \"%s\" is never allowed",
                               wif_text_quote(item, qb, sizeof(qb)));
        return wif_error_set(err, WIF_E_CONFIG_INVALID,
                             "unknown algorithm \"%s\"",
                             wif_text_quote(item, qb, sizeof(qb)));
      }
      if ((p->algorithms & WIF_ALG_BIT(alg)) != 0)
        return wif_error_set(err, WIF_E_CONFIG_INVALID,
                             "\"%s\" is listed twice in algorithms", item);
      p->algorithms |= WIF_ALG_BIT(alg);
    } else if (k->id == K_AUTHORIZATION) {
      enum wif_authz t;

      if (len == 4 && memcmp(s, "user", 4) == 0)
        t = WIF_AUTHZ_USER;
      else if (len == 5 && memcmp(s, "group", 5) == 0)
        t = WIF_AUTHZ_GROUP;
      else if (len == 5 && memcmp(s, "claim", 5) == 0)
        t = WIF_AUTHZ_CLAIM;
      else
        return wif_error_set(err, WIF_E_CONFIG_INVALID,
                             "authorization lists \"user\", \"group\" or "
                             "\"claim\", not \"%s\"",
                             wif_text_quote(item, qb, sizeof(qb)));
      if ((p->authz_types & WIF_AUTHZ_BIT(t)) != 0)
        return wif_error_set(err, WIF_E_CONFIG_INVALID,
                             "\"%s\" is listed twice in authorization", item);
      p->authz_types |= WIF_AUTHZ_BIT(t);
    } else {
      char ***list = k->id == K_AUDIENCE          ? &p->audiences
                     : k->id == K_SPACE_DELIMITED ? &p->space_delimited
                                                  : &cfg->log_claims;
      size_t *n = k->id == K_AUDIENCE          ? &p->n_audiences
                  : k->id == K_SPACE_DELIMITED ? &p->n_space_delimited
                                               : &cfg->n_log_claims;

      if ((k->id == K_LOG_CLAIMS || k->id == K_SPACE_DELIMITED) &&
          !valid_claim(s, len))
        return wif_error_set(err, WIF_E_CONFIG_INVALID,
                             "%s must be a claim name or a JSON "
                             "pointer, not \"%s\"",
                             k->name, wif_text_quote(item, qb, sizeof(qb)));
      if (list_has(*list, *n, s, len))
        return wif_error_set(err, WIF_E_CONFIG_INVALID,
                             "\"%s\" is listed twice in %s",
                             wif_text_quote(item, qb, sizeof(qb)), k->name);
      rc = list_add(list, n, s, len);
      if (rc == WIF_E_TOO_LARGE)
        return wif_error_set(err, WIF_E_CONFIG_INVALID,
                             "%s takes at most %d values", k->name,
                             WIF_LIST_MAX);
      if (rc != WIF_OK)
        return wif_error_set(err, rc, "out of memory");
    }
    s += len;
  }
  if (count == 0)
    return wif_error_set(err, WIF_E_CONFIG_INVALID,
                         "%s needs at least one value", k->name);
  return WIF_OK;
}

char *wif_config_trim(char *s) {
  char *e;

  while (*s == ' ' || *s == '\t')
    s++;
  e = s + strlen(s);
  while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
    *--e = '\0';
  return s;
}

static wif_rc add_require(struct wif_provider *p, const char *value,
                          struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;
  char qb[WIF_TEXT_QUOTE_MAX + 4];
  char *copy = NULL;
  char *eq;
  const char *claim;
  const char *pattern;
  const char *why = "";
  struct wif_require *nr;
  struct wif_require r = {NULL, NULL};

  if ((copy = strdup(value)) == NULL) {
    rc = wif_error_set(err, WIF_E_NOMEM, "out of memory");
    goto out;
  }
  eq = strchr(copy, '=');
  if (eq != NULL)
    *eq = '\0';
  claim = wif_config_trim(copy);
  pattern = eq != NULL ? wif_config_trim(eq + 1) : "";
  if (eq == NULL || claim[0] == '\0' || pattern[0] == '\0') {
    rc = wif_error_set(err, WIF_E_CONFIG_INVALID,
                       "require must be \"CLAIM = GLOB\", not \"%s\"",
                       wif_text_quote(value, qb, sizeof(qb)));
    goto out;
  }
  if (!valid_claim(claim, strlen(claim))) {
    rc = wif_error_set(err, WIF_E_CONFIG_INVALID,
                       "require must name a claim or a JSON pointer, not "
                       "\"%s\"",
                       wif_text_quote(claim, qb, sizeof(qb)));
    goto out;
  }
  if (!wif_glob_valid(pattern, strlen(pattern), &why)) {
    rc = wif_error_set(err, WIF_E_CONFIG_INVALID,
                       "require glob \"%s\" is malformed: %s",
                       wif_text_quote(pattern, qb, sizeof(qb)), why);
    goto out;
  }
  if (p->n_requires >= WIF_LIST_MAX) {
    rc = wif_error_set(err, WIF_E_CONFIG_INVALID,
                       "require may appear at most %d times", WIF_LIST_MAX);
    goto out;
  }
  if ((r.claim = strdup(claim)) == NULL ||
      (r.pattern = strdup(pattern)) == NULL) {
    rc = wif_error_set(err, WIF_E_NOMEM, "out of memory");
    goto out;
  }
  nr = realloc(p->requires, (p->n_requires + 1) * sizeof(*nr));
  if (nr == NULL) {
    rc = wif_error_set(err, WIF_E_NOMEM, "out of memory");
    goto out;
  }
  p->requires = nr;
  p->requires[p->n_requires++] = r;
  r.claim = NULL;
  r.pattern = NULL;
  rc = WIF_OK;
out:
  free(r.claim);
  free(r.pattern);
  free(copy);
  return rc;
}

static wif_rc apply(struct wif_config *cfg, struct wif_provider *p,
                    const struct key_def *k, const char *value, bool first,
                    struct wif_error *err) {
  char qb[WIF_TEXT_QUOTE_MAX + 4];

  switch (k->id) {
  case K_MAP_FILE:
    return set_path(&cfg->map_file, k->name, value, err);
  case K_CACHE_DIR:
    return set_path(&cfg->cache_dir, k->name, value, err);
  case K_HTTP_TIMEOUT:
    return set_int(&cfg->http_timeout, k->name, value, 1, 60, err);
  case K_CLOCK_SKEW:
    return set_int(&cfg->clock_skew, k->name, value, 0, 600, err);
  case K_HTTPS_PROXY:
    if (!valid_url(value, "http://") && !valid_url(value, "https://"))
      return wif_error_set(err, WIF_E_CONFIG_INVALID,
                           "https_proxy must be an http:// or https:// URL, "
                           "not \"%s\"",
                           wif_text_quote(value, qb, sizeof(qb)));
    return set_string(&cfg->https_proxy, value, err);
  case K_LOG_CLAIMS:
  case K_AUDIENCE:
  case K_ALGORITHMS:
  case K_AUTHORIZATION:
  case K_SPACE_DELIMITED:
    return set_list(cfg, p, k, value, first, err);
  case K_ISSUER:
    return set_issuer(&p->issuer, value, err);
  case K_JWKS_URI:
    return set_https(&p->jwks_uri, k->name, value, err);
  case K_USER_CLAIM:
    return set_claim(&p->user_claim, k->name, value, err);
  case K_GROUPS_CLAIM:
    return set_claim(&p->groups_claim, k->name, value, err);
  case K_JWKS_FILE:
    return set_path(&p->jwks_file, k->name, value, err);
  case K_CA_FILE:
    return set_path(&p->ca_file, k->name, value, err);
  case K_REQUIRE:
    return add_require(p, value, err);
  case K_MAX_TOKEN_AGE:
    /* 0 lifts the default cap, and only when written out. */
    if (strcmp(value, "0") == 0) {
      p->max_token_age = 0;
      return WIF_OK;
    }
    if (set_int(&p->max_token_age, k->name, value, 60, 31536000, err) == WIF_OK)
      return WIF_OK;
    return wif_error_set(err, WIF_E_CONFIG_INVALID,
                         "max_token_age must be 0 (no limit) or a number "
                         "from 60 to 31536000, not \"%s\"",
                         wif_text_quote(value, qb, sizeof(qb)));
  case K_ONE_TIME:
    /* A provider-scope key always comes with its provider. */
    if (p == NULL)
      return wif_error_set(err, WIF_E_INTERNAL, "one_time outside a provider");
    return set_bool(&p->one_time, k->name, value, err);
  }
  return wif_error_set(err, WIF_E_INTERNAL, "unhandled key \"%s\"", k->name);
}

wif_rc wif_config_set(struct wif_config *cfg, struct wif_provider *provider,
                      const char *key, const char *value,
                      struct wif_error *err) {
  const struct key_def *k = NULL;
  struct config_priv *cp;
  uint32_t *mask;
  uint32_t bit;
  char qb[WIF_TEXT_QUOTE_MAX + 4];
  char sect[NAME_MAX_LEN + 16];
  wif_rc rc;

  if (cfg == NULL || key == NULL || value == NULL)
    return wif_error_set(err, WIF_E_INTERNAL, "wif_config_set: bad call");
  cp = priv(cfg);
  if (provider == NULL) {
    mask = &cp->global_set;
    (void)snprintf(sect, sizeof(sect), "[global]");
  } else {
    /* The provider must be one of ours: its index finds its mask. */
    if (provider < cfg->providers ||
        provider >= cfg->providers + cfg->n_providers)
      return wif_error_set(err, WIF_E_INTERNAL,
                           "wif_config_set: unknown provider");
    mask = &cp->provider_set[provider - cfg->providers];
    (void)snprintf(sect, sizeof(sect), "[provider %s]", provider->name);
  }
  for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
    if (strcmp(keys[i].name, key) == 0 &&
        keys[i].provider == (provider != NULL)) {
      k = &keys[i];
      break;
    }
  }
  if (k == NULL)
    return wif_error_set(err, WIF_E_CONFIG_INVALID, "unknown key \"%s\" in %s",
                         wif_text_quote(key, qb, sizeof(qb)), sect);
  bit = UINT32_C(1) << (unsigned)k->id;
  if (k->kind == KIND_SCALAR && (*mask & bit) != 0)
    return wif_error_set(err, WIF_E_CONFIG_INVALID,
                         "duplicate key \"%s\" in %s", key, sect);
  if (value[0] == '\0')
    return wif_error_set(err, WIF_E_CONFIG_INVALID, "empty value for \"%s\"",
                         key);
  rc = apply(cfg, provider, k, value, (*mask & bit) == 0, err);
  if (rc == WIF_OK)
    *mask |= bit;
  return rc;
}

wif_rc wif_config_finish(struct wif_config *cfg, struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;
  const struct wif_provider *p = NULL;

  if (cfg == NULL)
    return wif_error_set(err, WIF_E_INTERNAL, "wif_config_finish: bad call");
  if (cfg->n_providers == 0) {
    rc = wif_error_set(err, WIF_E_CONFIG_INVALID, "no [provider] section");
    goto out;
  }
  for (size_t i = 0; i < cfg->n_providers; i++) {
    p = &cfg->providers[i];
    /* clock_skew may come after the provider in the file. */
    if ((priv(cfg)->provider_set[i] & (UINT32_C(1) << K_MAX_TOKEN_AGE)) == 0)
      cfg->providers[i].max_token_age =
          WIF_MAX_TOKEN_AGE_DEFAULT + cfg->clock_skew;
    if (p->issuer == NULL) {
      rc = wif_error_set(err, WIF_E_CONFIG_INVALID,
                         "[provider %s] has no issuer", p->name);
      goto out;
    }
    /* Checked again: wifctl may fill a provider without wif_config_set. */
    if (!valid_url(p->issuer, "https://") &&
        (!issuer_is_name(p->issuer) ||
         (p->jwks_uri == NULL && p->jwks_file == NULL))) {
      char qb[WIF_TEXT_QUOTE_MAX + 4];

      if (issuer_is_name(p->issuer))
        rc = wif_error_set(err, WIF_E_CONFIG_INVALID,
                           "[provider %s] issuer \"%s\" is not an https:// "
                           "URL: discovery needs one, so set jwks_uri or "
                           "jwks_file",
                           p->name, wif_text_quote(p->issuer, qb, sizeof(qb)));
      else
        rc = wif_error_set(err, WIF_E_CONFIG_INVALID,
                           "[provider %s] issuer must be an https:// URL",
                           p->name);
      goto out;
    }
    if (p->jwks_uri != NULL && !valid_url(p->jwks_uri, "https://")) {
      rc = wif_error_set(err, WIF_E_CONFIG_INVALID,
                         "[provider %s] jwks_uri must be an https:// URL",
                         p->name);
      goto out;
    }
    if (p->n_audiences == 0) {
      rc = wif_error_set(err, WIF_E_CONFIG_INVALID,
                         "[provider %s] has no audience", p->name);
      goto out;
    }
    if (p->algorithms == 0) {
      rc = wif_error_set(err, WIF_E_CONFIG_INVALID,
                         "[provider %s] allows no algorithm", p->name);
      goto out;
    }
    if (p->jwks_uri != NULL && p->jwks_file != NULL) {
      rc = wif_error_set(err, WIF_E_CONFIG_INVALID,
                         "[provider %s] sets both jwks_uri and jwks_file",
                         p->name);
      goto out;
    }
    for (size_t j = 0; j < i; j++) {
      if (strcmp(cfg->providers[j].issuer, p->issuer) == 0) {
        rc = wif_error_set(
            err, WIF_E_CONFIG_INVALID,
            "[provider %s] has the same issuer as [provider "
            "%s]%s%s",
            p->name, cfg->providers[j].name,
            cfg->providers[j].file != NULL ? " in " : "",
            cfg->providers[j].file != NULL ? cfg->providers[j].file : "");
        goto out;
      }
    }
  }
  p = NULL;
  if (cfg->https_proxy != NULL && !valid_url(cfg->https_proxy, "http://") &&
      !valid_url(cfg->https_proxy, "https://")) {
    rc = wif_error_set(err, WIF_E_CONFIG_INVALID,
                       "https_proxy must be an http:// or https:// URL");
    goto out;
  }
  rc = WIF_OK;
out:
  if (rc != WIF_OK)
    wif_text_prefix_error(err,
                          p != NULL && p->file != NULL ? p->file : cfg->path,
                          p != NULL ? p->line : 0);
  return rc;
}

const struct wif_provider *
wif_config_provider_by_issuer(const struct wif_config *cfg, const char *issuer,
                              size_t len) {
  if (cfg == NULL || issuer == NULL)
    return NULL;
  for (size_t i = 0; i < cfg->n_providers; i++) {
    const struct wif_provider *p = &cfg->providers[i];
    if (p->issuer != NULL && strlen(p->issuer) == len &&
        memcmp(p->issuer, issuer, len) == 0)
      return p;
  }
  return NULL;
}

const struct wif_provider *
wif_config_provider_by_name(const struct wif_config *cfg, const char *name) {
  if (cfg == NULL || name == NULL)
    return NULL;
  for (size_t i = 0; i < cfg->n_providers; i++)
    if (strcmp(cfg->providers[i].name, name) == 0)
      return &cfg->providers[i];
  return NULL;
}
