/* SPDX-License-Identifier: Apache-2.0 */
/* The token pipeline: parse, choose the provider, find the key, verify,
 * check claims. */
#include "validate.h"

#include <stdlib.h>
#include <string.h>

#include "replay.h"
#include "verify.h"

/* Without a kid, a token is tried against at most this many keys, so a
 * large set cannot multiply the cost of one bad token. */
#define KIDLESS_TRIES_MAX 8

struct wif_validator {
  const struct wif_config *cfg;
  uid_t owner;
  struct wif_log log;
  struct wif_jwks **keys; /* per provider, owned; NULL until loaded */
  wif_keys_loader loader;
  void *loader_ctx;
};

struct wif_validator *wif_validator_new(const struct wif_config *cfg,
                                        uid_t owner,
                                        const struct wif_log *log) {
  struct wif_validator *v;

  if (cfg == NULL)
    return NULL;
  v = calloc(1, sizeof(*v));
  if (v == NULL)
    return NULL;
  v->keys = calloc(cfg->n_providers ? cfg->n_providers : 1, sizeof(*v->keys));
  if (v->keys == NULL) {
    free(v);
    return NULL;
  }
  v->cfg = cfg;
  v->owner = owner;
  if (log != NULL)
    v->log = *log;
  return v;
}

void wif_validator_free(struct wif_validator *v) {
  if (v == NULL)
    return;
  for (size_t i = 0; i < v->cfg->n_providers; i++)
    wif_jwks_free(v->keys[i]);
  free(v->keys);
  free(v);
}

void wif_validator_set_loader(struct wif_validator *v, wif_keys_loader fn,
                              void *ctx) {
  if (v == NULL)
    return;
  v->loader = fn;
  v->loader_ctx = ctx;
}

static bool provider_index(const struct wif_validator *v,
                           const struct wif_provider *p, size_t *out) {
  if (p < v->cfg->providers || p >= v->cfg->providers + v->cfg->n_providers)
    return false;
  *out = (size_t)(p - v->cfg->providers);
  return true;
}

wif_rc wif_validator_set_keys(struct wif_validator *v,
                              const struct wif_provider *p,
                              struct wif_jwks *keys) {
  size_t i;

  if (v == NULL || !provider_index(v, p, &i)) {
    wif_jwks_free(keys);
    return WIF_E_INTERNAL;
  }
  wif_jwks_free(v->keys[i]);
  v->keys[i] = keys;
  return WIF_OK;
}

/* The provider's keys, borrowed. `refresh` only matters to a loader: keys
 * installed directly or read from a pinned file cannot get any fresher. */
static wif_rc get_keys(struct wif_validator *v, const struct wif_provider *p,
                       bool refresh, struct wif_jwks **out,
                       struct wif_error *err) {
  size_t i;
  wif_rc rc;

  *out = NULL;
  if (!provider_index(v, p, &i))
    return wif_error_set(err, WIF_E_INTERNAL, "unknown provider");
  if (v->keys[i] != NULL) {
    *out = v->keys[i];
    return WIF_OK;
  }
  if (v->loader != NULL)
    return v->loader(v->loader_ctx, p, refresh, out, err);
  if (p->jwks_file == NULL)
    return wif_error_set(err, WIF_E_JWKS_UNAVAILABLE,
                         "provider \"%s\" has no jwks_file, and keys over "
                         "HTTPS are not available here",
                         p->name);
  rc = wif_jwks_load_file(p->name, p->jwks_file, v->owner, &v->log, &v->keys[i],
                          err);
  *out = v->keys[i];
  return rc;
}

/* s[0..len) without a leading "https://" or "http://" and one trailing
 * slash, so near misses can be named. */
static void issuer_core(const char *s, size_t len, const char **out,
                        size_t *out_len) {
  if (len >= 8 && memcmp(s, "https://", 8) == 0) {
    s += 8;
    len -= 8;
  } else if (len >= 7 && memcmp(s, "http://", 7) == 0) {
    s += 7;
    len -= 7;
  }
  if (len > 0 && s[len - 1] == '/')
    len--;
  *out = s;
  *out_len = len;
}

/* A configured provider whose issuer differs from iss only by a trailing
 * slash or the scheme: named in the refusal, never accepted. */
static const struct wif_provider *near_issuer(const struct wif_config *cfg,
                                              const char *s, size_t len) {
  const char *a, *b;
  size_t alen, blen;

  issuer_core(s, len, &a, &alen);
  for (size_t i = 0; i < cfg->n_providers; i++) {
    const char *iss = cfg->providers[i].issuer;

    if (iss == NULL)
      continue;
    issuer_core(iss, strlen(iss), &b, &blen);
    if (alen == blen && memcmp(a, b, alen) == 0)
      return &cfg->providers[i];
  }
  return NULL;
}

static wif_rc choose_provider(struct wif_validator *v, struct wif_result *r,
                              struct wif_error *err) {
  const struct wif_json *iss;
  const char *s;
  size_t len;
  char shown[128];

  /* Like any other issuer that is not configured. */
  iss = wif_json_get(r->claims, wif_json_root(r->claims), "iss");
  if (iss == NULL)
    return wif_error_set(err, WIF_E_ISS_MISMATCH, "the token has no iss");
  if (!wif_json_string(iss, &s, &len))
    return wif_error_set(err, WIF_E_ISS_MISMATCH,
                         "the token's iss is not a string");
  r->provider = wif_config_provider_by_issuer(v->cfg, s, len);
  if (r->provider == NULL) {
    const struct wif_provider *near = near_issuer(v->cfg, s, len);

    wif_log_sanitize(s, len, shown, sizeof(shown));
    if (near != NULL)
      return wif_error_set(err, WIF_E_ISS_MISMATCH,
                           "issuer \"%s\" is not configured; provider "
                           "\"%s\" has \"%s\", which differs only by a "
                           "trailing slash or the scheme (issuers compare "
                           "exactly)",
                           shown, near->name, near->issuer);
    return wif_error_set(err, WIF_E_ISS_MISMATCH,
                         "issuer \"%s\" is not configured", shown);
  }
  return WIF_OK;
}

static wif_rc verify_key(const struct wif_jwt *jwt, struct wif_jwk *key) {
  if (!wif_jwk_allows(key, jwt->alg))
    return WIF_E_ALG_NOT_ALLOWED;
  return wif_verify_signature(
      key, jwt->alg, (const unsigned char *)jwt->signing_input,
      jwt->signing_input_len, jwt->signature, jwt->signature_len);
}

static wif_rc verify_with_kid(struct wif_validator *v, struct wif_result *r,
                              struct wif_error *err) {
  const struct wif_provider *p = r->provider;
  const struct wif_jwt *jwt = r->jwt;
  struct wif_jwks *keys = NULL, *before;
  struct wif_jwk *key;
  bool refreshed = false;
  char kid[80];
  wif_rc rc;

  wif_log_sanitize(jwt->kid, jwt->kid_len, kid, sizeof(kid));
  rc = get_keys(v, p, false, &keys, err);
  if (rc != WIF_OK)
    return rc;
  key = wif_jwks_find(keys, jwt->kid, jwt->kid_len);
  if (key == NULL) {
    /* An unknown kid may be a rotation the cache has not seen yet: ask
     * for fresh keys once (the loader rate-limits the network). */
    rc = get_keys(v, p, true, &keys, err);
    if (rc != WIF_OK)
      return rc;
    refreshed = true;
    key = wif_jwks_find(keys, jwt->kid, jwt->kid_len);
  }
  if (key == NULL)
    return wif_error_set(err, WIF_E_KEY_NOT_FOUND,
                         "provider \"%s\" has no key with kid \"%s\"", p->name,
                         kid);
  rc = verify_key(jwt, key);
  if (rc == WIF_E_BAD_SIGNATURE && !refreshed && v->loader != NULL) {
    /* Same kid, new key material: one refresh, one retry. */
    before = keys;
    if (get_keys(v, p, true, &keys, err) == WIF_OK && keys != before) {
      key = wif_jwks_find(keys, jwt->kid, jwt->kid_len);
      if (key != NULL)
        rc = verify_key(jwt, key);
    }
  }
  switch (rc) {
  case WIF_OK:
    return WIF_OK;
  case WIF_E_ALG_NOT_ALLOWED:
    return wif_error_set(err, rc,
                         "key \"%s\" of provider \"%s\" cannot be used "
                         "with %s",
                         kid, p->name, wif_alg_name(jwt->alg));
  case WIF_E_BAD_SIGNATURE:
    return wif_error_set(err, rc,
                         "the signature does not verify with key \"%s\" of "
                         "provider \"%s\"",
                         kid, p->name);
  default:
    return wif_error_set(err, rc, "signature verification failed");
  }
}

static wif_rc verify_without_kid(struct wif_validator *v, struct wif_result *r,
                                 struct wif_error *err) {
  const struct wif_jwt *jwt = r->jwt;
  struct wif_jwks *keys = NULL;
  size_t tries = 0;
  wif_rc rc;

  rc = get_keys(v, r->provider, false, &keys, err);
  if (rc != WIF_OK)
    return rc;
  for (size_t i = 0; i < wif_jwks_count(keys) && tries < KIDLESS_TRIES_MAX;
       i++) {
    struct wif_jwk *key = wif_jwks_at(keys, i);

    if (!wif_jwk_allows(key, jwt->alg))
      continue;
    tries++;
    rc = verify_key(jwt, key);
    if (rc != WIF_E_BAD_SIGNATURE)
      break;
  }
  if (tries == 0)
    return wif_error_set(err, WIF_E_KEY_NOT_FOUND,
                         "the token has no kid and provider \"%s\" has no "
                         "%s key",
                         r->provider->name, wif_alg_name(jwt->alg));
  if (rc == WIF_E_BAD_SIGNATURE)
    return wif_error_set(err, rc,
                         "the token has no kid and the signature verifies "
                         "with none of provider \"%s\"'s %s keys",
                         r->provider->name, wif_alg_name(jwt->alg));
  if (rc != WIF_OK)
    return wif_error_set(err, rc, "signature verification failed");
  return WIF_OK;
}

static wif_rc check_alg(const struct wif_result *r, struct wif_error *err) {
  char shown[32];

  if (!r->jwt->alg_known) {
    wif_log_sanitize(r->jwt->alg_name, strlen(r->jwt->alg_name), shown,
                     sizeof(shown));
    return wif_error_set(err, WIF_E_ALG_NOT_ALLOWED,
                         "alg \"%s\" is never accepted", shown);
  }
  if ((r->provider->algorithms & WIF_ALG_BIT(r->jwt->alg)) == 0)
    return wif_error_set(err, WIF_E_ALG_NOT_ALLOWED,
                         "alg %s is not in the algorithms of provider \"%s\"",
                         wif_alg_name(r->jwt->alg), r->provider->name);
  return WIF_OK;
}

wif_rc wif_validate(struct wif_validator *v, const char *token, size_t len,
                    int64_t now, struct wif_result *out,
                    struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;

  if (out == NULL)
    return wif_error_set(err, WIF_E_INTERNAL, "no result");
  memset(out, 0, sizeof(*out));
  if (v == NULL)
    return wif_error_set(err, WIF_E_INTERNAL, "no validator");

  rc = wif_jwt_parse(token, len, &out->jwt, err);
  if (rc != WIF_OK)
    goto out;
  rc = wif_jwt_claims(out->jwt, &out->claims, err);
  if (rc != WIF_OK)
    goto out;
  /* The issuer only chooses which keys and rules apply; nothing in the
   * claims is trusted until the signature verifies. */
  rc = choose_provider(v, out, err);
  if (rc != WIF_OK)
    goto out;
  rc = check_alg(out, err);
  if (rc != WIF_OK)
    goto out;
  if (out->jwt->kid != NULL)
    rc = verify_with_kid(v, out, err);
  else
    rc = verify_without_kid(v, out, err);
  if (rc != WIF_OK)
    goto out;
  rc = wif_claims_check(out->claims, out->provider, v->cfg->clock_skew, now,
                        &out->identity, err);
  if (rc != WIF_OK)
    goto out;
  /* Only its presence: whether it was used before is the decision's to
   * ask (auth.c), once the mapping has granted. */
  if (out->provider->one_time) {
    const char *jti;
    size_t jti_len;

    rc = wif_replay_jti(out->claims, &jti, &jti_len, err);
    if (rc != WIF_OK)
      wif_identity_clear(&out->identity); /* set only on WIF_OK */
  }
out:
  return rc;
}

void wif_result_clear(struct wif_result *r) {
  if (r == NULL)
    return;
  wif_identity_clear(&r->identity);
  wif_json_free(r->claims);
  wif_jwt_free(r->jwt);
  memset(r, 0, sizeof(*r));
}
