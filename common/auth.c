/* SPDX-License-Identifier: Apache-2.0 */
/* The one decision: configuration + account + token -> verdict. */
#include "auth.h"

#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <openssl/crypto.h>

#include "jwks_cache.h"
#include "map.h"
#include "prompt.h"
#include "replay.h"
#include "validate.h"
#include "wipe.h"

#define PW_BUF_START 16384
#define PW_BUF_MAX (1024 * 1024)
#define LOG_LINE_MAX 1024
#define LOG_VALUE_MAX 160 /* bytes of one logged value, after encoding */

static void clear_identity(struct wif_verdict *v);

static void verdict_reset(struct wif_verdict *v) {
  memset(v, 0, sizeof(*v));
  v->rc = WIF_E_INTERNAL;
}

void wif_verdict_clear(struct wif_verdict *v) {
  if (v == NULL)
    return;
  free(v->provider);
  free(v->kid);
  clear_identity(v);
  verdict_reset(v);
}

/* Appends to a fixed line; silently stops at its end (the line is cut,
 * never overrun). */
static void append(char *line, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void append(char *line, size_t size, const char *fmt, ...) {
  size_t used = strlen(line);
  va_list ap;

  if (used + 1 >= size)
    return;
  va_start(ap, fmt);
  (void)vsnprintf(line + used, size - used, fmt, ap);
  va_end(ap);
}

static void append_value(char *line, size_t size, const char *key,
                         const char *value, size_t len) {
  char v[LOG_VALUE_MAX];

  wif_log_sanitize_value(value, len, v, sizeof(v));
  append(line, size, " %s=\"%s\"", key, v);
}

/*
 * Claims count as verified once the signature has: these are the codes
 * that only claim checks (after the signature) and the mapping produce.
 * Anything else, including codes added later, logs no claim.
 */
static bool signature_verified(wif_rc rc, const struct wif_result *r) {
  if (r == NULL || r->jwt == NULL || r->claims == NULL || r->provider == NULL)
    return false;
  switch (rc) {
  case WIF_OK:
  case WIF_E_EXPIRED:
  case WIF_E_NOT_YET_VALID:
  case WIF_E_IAT_INVALID:
  case WIF_E_LIFETIME:
  case WIF_E_CLAIM_MISSING:
  case WIF_E_CLAIM_TYPE:
  case WIF_E_AUD_MISMATCH:
  case WIF_E_SUB_INVALID:
  case WIF_E_CLAIM_MISMATCH:
  case WIF_E_TOO_LARGE: /* with a parsed jwt: the groups claim */
  case WIF_E_NO_MAPPING:
  case WIF_E_JTI_MISSING:
  case WIF_E_REPLAYED:
  case WIF_E_REPLAY_FULL:
  case WIF_E_REPLAY_CORRUPT:
    return true;
  default:
    return false;
  }
}

static const char *outcome_word(wif_rc rc, int *priority) {
  switch (wif_rc_classify(rc)) {
  case WIF_CLASS_OK:
    *priority = LOG_INFO;
    return "success";
  case WIF_CLASS_INVALID:
    *priority = LOG_NOTICE;
    return "denied";
  case WIF_CLASS_UNAVAILABLE:
    *priority = LOG_ERR;
    return "unavailable";
  case WIF_CLASS_CONFIG:
    /* An unusable configuration locks everyone out. */
    *priority = LOG_ALERT;
    return "error";
  case WIF_CLASS_SYSTEM:
    break;
  }
  *priority = LOG_ERR;
  return "error";
}

/* The decision's one log line. claims (and cfg) may be NULL. */
static void log_decision(const struct wif_auth_params *params,
                         const char *account, const struct wif_verdict *v,
                         const struct wif_config *cfg,
                         const struct wif_result *r) {
  char line[LOG_LINE_MAX];
  char detail[WIF_ERROR_MSG_MAX];
  int priority = LOG_ERR;
  const char *word = outcome_word(v->rc, &priority);

  if (!params->log_decision || params->log == NULL)
    return;
  line[0] = '\0';
  append(line, sizeof(line), "%s outcome=%s reason=%s",
         params->service != NULL ? params->service : "auth", word,
         wif_rc_name(v->rc));
  append_value(line, sizeof(line), "account", account,
               account != NULL ? strnlen(account, LOG_VALUE_MAX) : 0);
  if (v->provider != NULL)
    append_value(line, sizeof(line), "provider", v->provider,
                 strlen(v->provider));
  if (v->kid != NULL)
    append_value(line, sizeof(line), "kid", v->kid, strlen(v->kid));
  if (cfg != NULL && signature_verified(v->rc, r)) {
    const struct wif_json *root = wif_json_root(r->claims);

    for (size_t i = 0; i < cfg->n_log_claims; i++) {
      const struct wif_json *c =
          wif_json_pointer(r->claims, root, cfg->log_claims[i]);
      const char *s;
      size_t len;
      int64_t n;
      char key[LOG_VALUE_MAX];

      wif_log_sanitize_value(cfg->log_claims[i], strlen(cfg->log_claims[i]),
                             key, sizeof(key));
      if (c != NULL && wif_json_string(c, &s, &len))
        append_value(line, sizeof(line), key, s, len);
      else if (c != NULL && wif_json_int64(c, &n))
        append(line, sizeof(line), " %s=%" PRId64, key, n);
    }
  }
  if (v->rc == WIF_OK && v->map_file != NULL) {
    char where[LOG_VALUE_MAX];

    wif_log_sanitize_value(v->map_file, strlen(v->map_file), where,
                           sizeof(where));
    append(line, sizeof(line), " rule=\"%s:%u\"", where, v->grant_line);
  }
  if (v->rc != WIF_OK) {
    /* Last on the line, so its own quotes cannot shift a field. */
    wif_log_sanitize(v->message, strlen(v->message), detail, sizeof(detail));
    append(line, sizeof(line), " -- %s", detail);
  }
  wif_log(params->log, priority, "%s", line);
}

/* The account name is checked before any file is touched. */
static wif_rc check_account_name(const char *account, struct wif_error *err) {
  char shown[LOG_VALUE_MAX];

  if (wif_map_account_valid(account))
    return WIF_OK;
  if (account == NULL)
    return wif_error_set(err, WIF_E_NO_MAPPING, "no account name");
  wif_log_sanitize_value(account, strnlen(account, LOG_VALUE_MAX), shown,
                         sizeof(shown));
  return wif_error_set(err, WIF_E_NO_MAPPING, "invalid account name \"%s\"",
                       shown);
}

/* The granted account must exist and must not be root. */
static wif_rc check_passwd(const char *account, struct wif_error *err) {
  wif_rc rc = WIF_E_SYSTEM;
  struct passwd pw, *found = NULL;
  size_t size = PW_BUF_START;
  char *buf = NULL;
  int e;

  for (;;) {
    buf = malloc(size);
    if (buf == NULL) {
      rc = wif_error_set(err, WIF_E_NOMEM, "out of memory");
      goto out;
    }
    e = getpwnam_r(account, &pw, buf, size, &found);
    if (e != ERANGE || size >= PW_BUF_MAX)
      break;
    free(buf);
    buf = NULL;
    size *= 2;
  }
  if (e == ENOENT || e == ESRCH)
    e = 0; /* some NSS modules say "not found" this way */
  if (e != 0) {
    rc = wif_error_set(err, WIF_E_SYSTEM, "cannot look up account \"%s\": %s",
                       account, strerror(e));
    goto out;
  }
  if (found == NULL) {
    rc = wif_error_set(err, WIF_E_NO_MAPPING,
                       "account \"%s\" does not exist on this host", account);
    goto out;
  }
  if (pw.pw_uid == 0 || pw.pw_gid == 0) {
    rc = wif_error_set(err, WIF_E_NO_MAPPING,
                       "account \"%s\" has uid %lu and gid %lu: pam_wif never "
                       "grants uid 0 or gid 0",
                       account, (unsigned long)pw.pw_uid,
                       (unsigned long)pw.pw_gid);
    goto out;
  }
  rc = WIF_OK;
out:
  free(buf);
  return rc;
}

static const char *config_path(const struct wif_auth_params *params) {
  return params->config_path != NULL ? params->config_path : WIF_CONFIG_PATH;
}

/*
 * accounts=names has no passwd entry to look at, but the name root is
 * still never granted: a stack given accounts=names by mistake (sshd,
 * su) must not become a root login through a map line naming root.
 */
static wif_rc check_account(const struct wif_auth_params *params,
                            const char *account, struct wif_error *err) {
  if (params->accounts != WIF_ACCOUNTS_NAMES)
    return check_passwd(account, err);
  if (strcmp(account, "root") == 0)
    return wif_error_set(err, WIF_E_NO_MAPPING,
                         "account \"root\": pam_wif never grants root, not "
                         "even with accounts=names");
  return WIF_OK;
}

static wif_rc load_files(const struct wif_auth_params *params,
                         struct wif_config **out_cfg, struct wif_map **out_map,
                         struct wif_error *err) {
  wif_rc rc;

  rc = wif_config_load(config_path(params), params->owner, out_cfg, err);
  if (rc == WIF_E_SYSTEM) {
    /* A missing or unreadable config is the administrator's to fix, like
     * an invalid one (PAM_SERVICE_ERR), not a failing system call. */
    rc = WIF_E_CONFIG_INVALID;
    if (err != NULL)
      err->rc = rc;
  }
  if (rc != WIF_OK)
    return rc;
  return wif_map_load((*out_cfg)->map_file, params->owner, *out_cfg, out_map,
                      err);
}

/* The validator and the cache that supplies its keys. */
struct keys {
  struct wif_validator *v;
  struct wif_jwks_cache *cache;
};

/*
 * THE place where the validator is made: keys come from the JWKS cache
 * (jwks_cache.h: a pinned jwks_file, or HTTPS with the on-disk cache in
 * cache_dir), owned by the same owner rules as the config.
 */
static wif_rc make_validator(const struct wif_config *cfg,
                             const struct wif_auth_params *p, struct keys *k,
                             struct wif_error *err) {
  const char *dir = p->cache_dir == NULL ? cfg->cache_dir : p->cache_dir;

  k->cache =
      wif_jwks_cache_new(cfg, dir[0] != '\0' ? dir : NULL, p->owner, p->log);
  k->v = wif_validator_new(cfg, p->owner, p->log);
  if (k->cache == NULL || k->v == NULL)
    return wif_error_set(err, WIF_E_NOMEM, "out of memory");
  if (p->helper != NULL) {
    if (wif_jwks_cache_set_helper(k->cache, p->helper, config_path(p)) !=
        WIF_OK)
      return wif_error_set(err, WIF_E_NOMEM, "out of memory");
  } else {
    wif_jwks_cache_set_transport(k->cache, p->http, NULL);
  }
  wif_validator_set_loader(k->v, wif_jwks_cache_loader, k->cache);
  return WIF_OK;
}

static void drop_validator(struct keys *k) {
  wif_validator_free(k->v); /* before the cache that lent it keys */
  wif_jwks_cache_free(k->cache);
  k->v = NULL;
  k->cache = NULL;
}

static char *dup_bytes(const char *s, size_t len) {
  char *d = malloc(len + 1);

  if (d != NULL) {
    memcpy(d, s, len);
    d[len] = '\0';
  }
  return d;
}

/*
 * One-time providers: after the mapping granted and the account exists,
 * so that a token refused for any other reason keeps its jti usable. The
 * store lives beside the key cache; without a directory nothing could be
 * remembered, so a recording caller is refused.
 */
static wif_rc check_replay(const struct wif_auth_params *params,
                           const struct wif_config *cfg,
                           const struct wif_result *r, struct wif_error *err) {
  const char *dir =
      params->cache_dir == NULL ? cfg->cache_dir : params->cache_dir;
  const char *jti;
  size_t jti_len;
  wif_rc rc;

  if (r->provider == NULL)
    return wif_error_set(err, WIF_E_INTERNAL, "no provider after validation");
  if (!r->provider->one_time)
    return WIF_OK;
  if ((rc = wif_replay_jti(r->claims, &jti, &jti_len, err)) != WIF_OK)
    return rc;
  if (dir[0] == '\0') {
    if (params->replay_peek)
      return WIF_OK;
    return wif_error_set(err, WIF_E_CONFIG_INVALID,
                         "provider \"%s\" is one_time and there is no "
                         "cache_dir for its replay store",
                         r->provider->name);
  }
  return wif_replay_use(
      dir, params->owner, r->provider, jti, jti_len, r->identity.exp,
      cfg->clock_skew, params->now,
      params->replay_peek ? WIF_REPLAY_PEEK : WIF_REPLAY_RECORD, err);
}

static wif_rc fill_success(struct wif_verdict *out, const struct wif_result *r,
                           const struct wif_map_rule *rule,
                           const char *map_file, struct wif_error *err) {
  const struct wif_identity *id = &r->identity;

  out->issuer = strdup(id->issuer);
  out->subject = dup_bytes(id->subject, id->subject_len);
  out->subject_len = id->subject_len;
  out->grant_identifier = strdup(rule->identifier);
  /* A drop-in rule names its own file in the decision line. */
  out->map_file = strdup(rule->file != NULL ? rule->file : map_file);
  if (rule->claim != NULL && (out->grant_claim = strdup(rule->claim)) == NULL)
    return wif_error_set(err, WIF_E_NOMEM, "out of memory");
  if (id->n_groups > 0)
    out->groups = calloc(id->n_groups, sizeof(*out->groups));
  if (out->issuer == NULL || out->subject == NULL ||
      out->grant_identifier == NULL || out->map_file == NULL ||
      (id->n_groups > 0 && out->groups == NULL))
    return wif_error_set(err, WIF_E_NOMEM, "out of memory");
  for (size_t i = 0; i < id->n_groups; i++) {
    if ((out->groups[i] = strdup(id->groups[i])) == NULL)
      return wif_error_set(err, WIF_E_NOMEM, "out of memory");
    out->n_groups = i + 1;
  }
  out->exp = id->exp;
  out->grant_type = rule->type;
  out->grant_line = rule->line;
  return WIF_OK;
}

static wif_rc no_mapping(const struct wif_result *r, const char *account,
                         const char *map_file, struct wif_error *err) {
  char who[LOG_VALUE_MAX];
  const struct wif_identity *id = &r->identity;

  if (r->provider->authz_types == WIF_AUTHZ_BIT(WIF_AUTHZ_USER)) {
    wif_log_sanitize_value(id->subject, id->subject_len, who, sizeof(who));
    return wif_error_set(err, WIF_E_NO_MAPPING,
                         "no rule in %s grants account \"%s\" to user \"%s\" "
                         "of provider \"%s\"",
                         map_file, account, who, r->provider->name);
  }
  if (r->provider->authz_types == WIF_AUTHZ_BIT(WIF_AUTHZ_GROUP))
    return wif_error_set(err, WIF_E_NO_MAPPING,
                         "no rule in %s grants account \"%s\" to any of the "
                         "%zu groups of this identity of provider \"%s\"",
                         map_file, account, id->n_groups, r->provider->name);
  wif_log_sanitize_value(id->subject, id->subject_len, who, sizeof(who));
  return wif_error_set(err, WIF_E_NO_MAPPING,
                       "no rule in %s grants account \"%s\" to user \"%s\", "
                       "its %zu groups or its claims, of provider \"%s\"",
                       map_file, account, who, id->n_groups, r->provider->name);
}

static void finish(const struct wif_auth_params *params, const char *account,
                   wif_rc rc, const struct wif_error *err,
                   struct wif_verdict *out, const struct wif_config *cfg,
                   const struct wif_result *r) {
  out->rc = rc;
  snprintf(out->message, sizeof(out->message), "%s",
           rc != WIF_OK && err->msg[0] != '\0' ? err->msg
                                               : wif_rc_describe(rc));
  if (params != NULL)
    log_decision(params, account, out, cfg, r);
}

static const char *binding_dir(const struct wif_auth_params *p,
                               const struct wif_config *cfg) {
  return p->binding_dir != NULL
             ? p->binding_dir
             : wif_handover_key_dir(p->owner, cfg->cache_dir);
}

/* The hand-over of a granted verdict, under the binding key. */
static wif_rc hand_over(const struct wif_auth_params *params,
                        const struct wif_config *cfg, const char *account,
                        const char *service, const struct wif_verdict *v,
                        struct wif_handover *out_h, struct wif_error *err) {
  unsigned char key[WIF_HANDOVER_KEY_LEN];
  const unsigned char *k = key;
  struct wif_handover_facts f;
  wif_rc rc;

  rc =
      wif_handover_key(binding_dir(params, cfg), params->owner, true, key, err);
  /* A service user (postgres) may have no usable cache_dir; its auth and
   * account share a process, where the record suffices. Root always has
   * /run, so there a key failure is the decision's outcome. */
  if (rc != WIF_OK && params->owner != 0) {
    wif_log(params->log, LOG_WARNING,
            "no binding key (%s): the grant holds in this process only",
            err->msg);
    wif_error_clear(err);
    k = NULL;
  } else if (rc != WIF_OK) {
    return rc;
  }
  f.provider = v->provider;
  f.subject = v->subject;
  f.subject_len = v->subject_len;
  f.issuer = v->issuer;
  f.exp = v->exp;
  f.type = v->grant_type;
  f.claim = v->grant_claim;
  f.identifier = v->grant_identifier;
  f.identifier_len = strlen(v->grant_identifier);
  rc = wif_handover_make(&f, account, service, k, out_h, err);
  OPENSSL_cleanse(key, sizeof(key));
  return rc;
}

/* A token cut to ssh's (or pam_exec's) answer limit rarely parses; the
 * detail then says so, and how to send it whole. */
static void explain_cut(size_t len, wif_rc rc, struct wif_error *err) {
  char detail[WIF_ERROR_MSG_MAX];

  if (rc != WIF_E_MALFORMED || !wif_prompt_cut_length(len))
    return;
  (void)snprintf(detail, sizeof(detail), "%s", err->msg);
  wif_error_set(err, rc,
                "the token is exactly %zu bytes and does not parse: it was "
                "probably truncated (ssh cuts an answer at %d bytes, "
                "pam_exec at %d); send it in parts with `wifctl askpass` or "
                "`wifctl ssh` (%s)",
                len, WIF_PROMPT_SSH_CUT, WIF_PROMPT_EXEC_CUT, detail);
}

static wif_rc decide(const struct wif_auth_params *params, const char *account,
                     const char *token, size_t len, const char *service,
                     struct wif_verdict *out, struct wif_handover *out_h) {
  wif_rc rc = WIF_E_INTERNAL;
  struct wif_config *cfg = NULL;
  struct wif_map *map = NULL;
  struct keys keys = {NULL, NULL};
  const struct wif_map_rule *rule = NULL;
  struct wif_result res;
  struct wif_error err;

  memset(&res, 0, sizeof(res));
  wif_error_clear(&err);
  if (out == NULL)
    return WIF_E_INTERNAL;
  verdict_reset(out);
  if (params == NULL) {
    rc = wif_error_set(&err, WIF_E_INTERNAL, "no parameters");
    goto out;
  }
  rc = check_account_name(account, &err);
  if (rc != WIF_OK)
    goto out;
  rc = load_files(params, &cfg, &map, &err);
  if (rc != WIF_OK)
    goto out;
  rc = make_validator(cfg, params, &keys, &err);
  if (rc != WIF_OK)
    goto out;
  rc = wif_validate(keys.v, token, len, params->now, &res, &err);
  explain_cut(len, rc, &err);
  if (res.provider != NULL &&
      (out->provider = strdup(res.provider->name)) == NULL) {
    rc = wif_error_set(&err, WIF_E_NOMEM, "out of memory");
    goto out;
  }
  if (res.jwt != NULL && res.jwt->kid != NULL) {
    char kid[LOG_VALUE_MAX];

    wif_log_sanitize(res.jwt->kid, res.jwt->kid_len, kid, sizeof(kid));
    if ((out->kid = strdup(kid)) == NULL) {
      rc = wif_error_set(&err, WIF_E_NOMEM, "out of memory");
      goto out;
    }
  }
  if (rc != WIF_OK)
    goto out;
  rc = wif_map_match(map, res.provider, &res.identity, account, &rule, &err);
  if (rc == WIF_E_NO_MAPPING)
    rc = no_mapping(&res, account, map->name, &err);
  if (rc != WIF_OK)
    goto out;
  rc = check_account(params, account, &err);
  if (rc != WIF_OK)
    goto out;
  rc = check_replay(params, cfg, &res, &err);
  if (rc != WIF_OK)
    goto out;
  rc = fill_success(out, &res, rule, map->name, &err);
  if (rc == WIF_OK && out_h != NULL)
    rc = hand_over(params, cfg, account, service, out, out_h, &err);
out:
  if (rc != WIF_OK)
    clear_identity(out); /* promised only on success */
  finish(params, account, rc, &err, out, cfg, &res);
  wif_result_clear(&res);
  drop_validator(&keys);
  wif_map_free(map);
  wif_config_free(cfg);
  return rc;
}

wif_rc wif_auth_authenticate(const struct wif_auth_params *params,
                             const char *account, const char *token, size_t len,
                             struct wif_verdict *out) {
  return decide(params, account, token, len, NULL, out, NULL);
}

wif_rc wif_auth_authenticate_bound(const struct wif_auth_params *params,
                                   const char *account, const char *token,
                                   size_t len, const char *service,
                                   struct wif_verdict *out,
                                   struct wif_handover *out_h) {
  if (out_h == NULL || service == NULL) {
    if (out != NULL)
      verdict_reset(out);
    return WIF_E_INTERNAL;
  }
  memset(out_h, 0, sizeof(*out_h));
  return decide(params, account, token, len, service, out, out_h);
}

static void clear_identity(struct wif_verdict *v) {
  free(v->issuer);
  wif_wipe_free(v->subject, v->subject_len);
  for (size_t i = 0; i < v->n_groups; i++)
    free(v->groups[i]);
  free(v->groups);
  free(v->grant_identifier);
  free(v->grant_claim);
  free(v->map_file);
  v->issuer = v->subject = v->grant_identifier = v->map_file = NULL;
  v->grant_claim = NULL;
  v->groups = NULL;
  v->subject_len = v->n_groups = 0;
  v->exp = 0;
  v->grant_line = 0;
}

/* The rule of provider p, of a type p still authorizes, whose encoded
 * grant is `grant` and which lists account; NULL when none. */
static const struct wif_map_rule *find_grant(const struct wif_map *map,
                                             const struct wif_provider *p,
                                             const char *grant,
                                             const char *account) {
  char enc[WIF_HANDOVER_GRANT_MAX];

  for (size_t i = 0; i < map->n_rules; i++) {
    const struct wif_map_rule *r = &map->rules[i];

    if (strcmp(r->provider, p->name) != 0 ||
        (p->authz_types & WIF_AUTHZ_BIT(r->type)) == 0 ||
        !wif_map_rule_grants(r, account))
      continue;
    if (wif_handover_grant_encode(r->type, r->claim, r->identifier,
                                  r->identifier_len, enc, sizeof(enc)) &&
        strcmp(enc, grant) == 0)
      return r;
  }
  return NULL;
}

/* The grant that auth handed over, once verified as bound to account. */
static wif_rc bound_grant(const struct wif_auth_params *params,
                          const struct wif_config *cfg, const char *account,
                          const struct wif_handover_input *in,
                          struct wif_handover_grant *g, struct wif_error *err) {
  wif_rc rc = wif_handover_verify(in, account, binding_dir(params, cfg),
                                  params->owner, err);

  if (rc != WIF_OK)
    return rc;
  return wif_handover_parse(in->values, g, err);
}

wif_rc wif_auth_recheck(const struct wif_auth_params *params,
                        const char *account,
                        const struct wif_handover_input *in,
                        struct wif_verdict *out) {
  wif_rc rc = WIF_E_INTERNAL;
  struct wif_config *cfg = NULL;
  struct wif_map *map = NULL;
  const struct wif_provider *p;
  const struct wif_map_rule *rule;
  struct wif_handover_grant g;
  struct wif_error err;
  int64_t exp;

  wif_error_clear(&err);
  if (out == NULL)
    return WIF_E_INTERNAL;
  verdict_reset(out);
  if (params == NULL || in == NULL) {
    rc = wif_error_set(&err, WIF_E_INTERNAL, "no parameters");
    goto out;
  }
  rc = check_account_name(account, &err);
  if (rc != WIF_OK)
    goto out;
  if (in->values[WIF_HO_PROVIDER] != NULL &&
      (out->provider = strndup(in->values[WIF_HO_PROVIDER], LOG_VALUE_MAX)) ==
          NULL) {
    rc = wif_error_set(&err, WIF_E_NOMEM, "out of memory");
    goto out;
  }
  rc = load_files(params, &cfg, &map, &err);
  if (rc != WIF_OK)
    goto out;
  rc = bound_grant(params, cfg, account, in, &g, &err);
  if (rc != WIF_OK)
    goto out;
  exp = g.exp;
  p = wif_config_provider_by_name(cfg, g.provider);
  if (p == NULL || strcmp(p->issuer, g.issuer) != 0) {
    rc = wif_error_set(&err, WIF_E_NO_MAPPING,
                       "the provider that authenticated is no longer "
                       "configured with this issuer");
    goto out;
  }
  /* Saturating: exp near INT64_MAX must not wrap. */
  if (exp <= INT64_MAX - cfg->clock_skew &&
      params->now >= exp + cfg->clock_skew) {
    rc = wif_error_set(&err, WIF_E_EXPIRED,
                       "the token expired at %" PRId64 " (now %" PRId64 ")",
                       exp, params->now);
    goto out;
  }
  rule = find_grant(map, p, g.grant, account);
  if (rule == NULL) {
    rc = wif_error_set(&err, WIF_E_NO_MAPPING,
                       "no rule in %s grants account \"%s\" to this %s of "
                       "provider \"%s\" any more",
                       map->name, account, wif_authz_name(g.type), p->name);
    goto out;
  }
  rc = check_account(params, account, &err);
  if (rc != WIF_OK)
    goto out;
  out->issuer = strdup(p->issuer);
  out->grant_identifier = strdup(rule->identifier);
  out->map_file = strdup(rule->file != NULL ? rule->file : map->name);
  if (rule->claim != NULL)
    out->grant_claim = strdup(rule->claim);
  if (out->issuer == NULL || out->grant_identifier == NULL ||
      out->map_file == NULL ||
      (rule->claim != NULL && out->grant_claim == NULL)) {
    rc = wif_error_set(&err, WIF_E_NOMEM, "out of memory");
    goto out;
  }
  out->exp = exp;
  out->grant_type = rule->type;
  out->grant_line = rule->line;
  rc = WIF_OK;
out:
  if (rc != WIF_OK)
    clear_identity(out);
  finish(params, account, rc, &err, out, cfg, NULL);
  wif_map_free(map);
  wif_config_free(cfg);
  return rc;
}

wif_rc wif_auth_reject(const struct wif_auth_params *params,
                       const char *account, wif_rc rc, const char *message,
                       struct wif_verdict *out) {
  struct wif_error err;

  if (out == NULL)
    return WIF_E_INTERNAL;
  verdict_reset(out);
  if (rc == WIF_OK)
    rc = WIF_E_INTERNAL; /* a rejection is never a success */
  wif_error_set(&err, rc, "%s", message != NULL ? message : "");
  finish(params, account, rc, &err, out, NULL, NULL);
  return rc;
}
