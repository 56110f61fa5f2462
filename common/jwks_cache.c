/* SPDX-License-Identifier: Apache-2.0 */
/* Provider keys: discovery, fetch, the shared disk cache, refresh, revoke. */
#include "jwks_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "discovery.h"
#include "file.h"
#include "helper.h"

/* A key set replaced by a refresh, kept alive for the validator. */
struct retired {
  struct wif_jwks *keys;
  struct retired *next;
};

/* What the cache knows of one provider in this process. */
struct slot {
  struct wif_jwks *keys; /* current set, NULL until loaded */
  int64_t fetched_at;    /* 0 for jwks_file and before any load */
  int64_t fresh_until;
  int64_t last_attempt; /* this process's last fetch, for the no-disk case */
  char *source;
  char *text; /* the current set as served, for wif_jwks_cache_export */
  size_t text_len;
  struct retired *retired; /* earlier sets, newest first */
};

enum dir_state { DIR_UNKNOWN, DIR_OK, DIR_UNUSABLE };

struct wif_jwks_cache {
  const struct wif_config *cfg;
  char *dir;
  enum dir_state dir_state;
  int dir_fd; /* with DIR_OK: dir, checked up to / (writes go through it) */
  struct wif_error dir_err; /* why dir is unusable, when it is */
  uid_t owner;
  struct wif_log log;
  struct slot *slots;
  wif_clock_fn clock;
  void *clock_ctx;
  wif_http_fn http; /* NULL: no network in this process */
  void *http_ctx;
  char *helper; /* or the fetch helper, run with helper_config */
  char *helper_config;
  int64_t deadline; /* CLOCK_MONOTONIC ms; 0: none beyond http_timeout */
};

static int64_t wall_clock(void *ctx) {
  (void)ctx;
  return (int64_t)time(NULL);
}

struct wif_jwks_cache *wif_jwks_cache_new(const struct wif_config *cfg,
                                          const char *dir, uid_t owner,
                                          const struct wif_log *log) {
  struct wif_jwks_cache *c;

  if (cfg == NULL)
    return NULL;
  if ((c = calloc(1, sizeof(*c))) == NULL)
    return NULL;
  c->slots = calloc(cfg->n_providers ? cfg->n_providers : 1, sizeof(*c->slots));
  if (c->slots == NULL || (dir != NULL && (c->dir = strdup(dir)) == NULL)) {
    free(c->slots);
    free(c);
    return NULL;
  }
  c->cfg = cfg;
  c->owner = owner;
  if (log != NULL)
    c->log = *log;
  c->dir_state = dir != NULL ? DIR_UNKNOWN : DIR_UNUSABLE;
  c->dir_fd = -1;
  c->clock = wall_clock;
  return c;
}

static void slot_clear(struct slot *s) {
  wif_jwks_free(s->keys);
  while (s->retired != NULL) {
    struct retired *r = s->retired;

    s->retired = r->next;
    wif_jwks_free(r->keys);
    free(r);
  }
  free(s->source);
  free(s->text);
  memset(s, 0, sizeof(*s));
}

void wif_jwks_cache_free(struct wif_jwks_cache *c) {
  if (c == NULL)
    return;
  for (size_t i = 0; i < c->cfg->n_providers; i++)
    slot_clear(&c->slots[i]);
  free(c->slots);
  if (c->dir_fd >= 0)
    (void)close(c->dir_fd);
  free(c->dir);
  free(c->helper);
  free(c->helper_config);
  free(c);
}

void wif_jwks_cache_set_clock(struct wif_jwks_cache *c, wif_clock_fn fn,
                              void *ctx) {
  if (c == NULL)
    return;
  c->clock = fn != NULL ? fn : wall_clock;
  c->clock_ctx = fn != NULL ? ctx : NULL;
}

void wif_jwks_cache_set_transport(struct wif_jwks_cache *c, wif_http_fn fn,
                                  void *ctx) {
  if (c == NULL)
    return;
  c->http = fn;
  c->http_ctx = fn != NULL ? ctx : NULL;
}

wif_rc wif_jwks_cache_set_helper(struct wif_jwks_cache *c, const char *helper,
                                 const char *config_path) {
  char *h = NULL;
  char *cf = NULL;

  if (c == NULL || helper == NULL || config_path == NULL)
    return WIF_E_INTERNAL;
  if ((h = strdup(helper)) == NULL || (cf = strdup(config_path)) == NULL) {
    free(h);
    return WIF_E_NOMEM;
  }
  free(c->helper);
  free(c->helper_config);
  c->helper = h;
  c->helper_config = cf;
  return WIF_OK;
}

void wif_jwks_cache_set_deadline(struct wif_jwks_cache *c,
                                 int64_t mono_deadline_ms) {
  if (c != NULL)
    c->deadline = mono_deadline_ms;
}

static int64_t now_of(const struct wif_jwks_cache *c) {
  return c->clock(c->clock_ctx);
}

/* A deadline of now + ms, never past the cache's own. */
static int64_t deadline_in(const struct wif_jwks_cache *c, int64_t ms) {
  int64_t d = wif_clock_mono_ms() + ms;

  return c->deadline > 0 && c->deadline < d ? c->deadline : d;
}

/* ---- Cache-Control ---- */

/* One max-age value; false when absent or unusable. */
static bool parse_max_age(const char *v, int64_t *out) {
  const char *p = v;

  while (*p != '\0') {
    const char *end;
    size_t n;

    while (*p == ' ' || *p == '\t' || *p == ',')
      p++;
    end = p + strcspn(p, ",");
    n = (size_t)(end - p);
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
      n--;
    if ((n == 8 && strncasecmp(p, "no-store", 8) == 0) ||
        (n == 8 && strncasecmp(p, "no-cache", 8) == 0)) {
      *out = 0;
      return true;
    }
    if (n > 8 && strncasecmp(p, "max-age=", 8) == 0) {
      char num[24];
      const char *d = p + 8;
      size_t dn = n - 8;
      char *nend;
      long long x;

      if (dn >= 2 && d[0] == '"' && d[dn - 1] == '"') {
        d++;
        dn -= 2;
      }
      /* strtoll alone would accept "+5", " 5" or "-5". */
      if (dn > 0 && dn < sizeof(num) && d[0] >= '0' && d[0] <= '9') {
        memcpy(num, d, dn);
        num[dn] = '\0';
        errno = 0;
        x = strtoll(num, &nend, 10);
        if (errno == 0 && *nend == '\0') {
          *out = (int64_t)x;
          return true;
        }
        if (errno == ERANGE && *nend == '\0') {
          *out = INT64_MAX;
          return true;
        }
      }
    }
    p = end;
  }
  return false;
}

int64_t wif_jwks_cache_freshness(const struct wif_http_response *r) {
  bool found = false;
  int64_t best = 0;

  for (size_t i = 0; r != NULL && i < r->n_headers; i++) {
    const char *h = r->headers[i];
    int64_t v;

    if (strncasecmp(h, "Cache-Control:", 14) != 0)
      continue;
    if (parse_max_age(h + 14, &v) && (!found || v < best)) {
      best = v;
      found = true;
    }
  }
  if (!found)
    return WIF_JWKS_FRESH_DEFAULT;
  if (best < WIF_JWKS_FRESH_MIN)
    return WIF_JWKS_FRESH_MIN;
  if (best > WIF_JWKS_FRESH_MAX)
    return WIF_JWKS_FRESH_MAX;
  return best;
}

/* ---- the cache directory ---- */

/*
 * Makes sure the directory exists, belongs to the owner, is private enough
 * and so is every directory above it: the cache is written through
 * the descriptor checked here. A directory that cannot be used leaves the
 * cache in memory only; logins still work, and the reason is logged
 * once.
 */
static bool dir_usable(struct wif_jwks_cache *c) {
  if (c->dir_state != DIR_UNKNOWN)
    return c->dir_state == DIR_OK;
  c->dir_state = DIR_UNUSABLE;
  if (wif_file_open_dir_trusted(c->dir, c->owner, &c->dir_fd, &c->dir_err) !=
      WIF_OK) {
    if (c->dir_err.rc != WIF_E_CONFIG_INSECURE)
      wif_log(&c->log, LOG_WARNING, "jwks cache: %s; keys are not cached",
              c->dir_err.msg);
    return false;
  }
  c->dir_state = DIR_OK;
  return true;
}

/* Turns the disk cache off for the rest of this process, saying why. */
static void dir_failed(struct wif_jwks_cache *c, const char *why) {
  if (c->dir_state == DIR_OK)
    wif_log(&c->log, LOG_WARNING, "jwks cache: %s; keys are not cached", why);
  c->dir_state = DIR_UNUSABLE;
}

/* ---- slots ---- */

static bool slot_index(const struct wif_jwks_cache *c,
                       const struct wif_provider *p, size_t *out) {
  if (c == NULL || p == NULL || p < c->cfg->providers ||
      p >= c->cfg->providers + c->cfg->n_providers)
    return false;
  *out = (size_t)(p - c->cfg->providers);
  return true;
}

/* Makes e's set current, taking everything e owns (also on failure).
 * The previous set stays alive (the validator may still hold it) until
 * the cache is freed. */
static wif_rc slot_take(struct slot *s, struct wif_jwks_cache_entry *e) {
  wif_rc rc = WIF_OK;

  if (s->keys != NULL) {
    struct retired *r = malloc(sizeof(*r));

    if (r == NULL) {
      wif_jwks_cache_entry_clear(e);
      return WIF_E_NOMEM;
    }
    r->keys = s->keys;
    r->next = s->retired;
    s->retired = r;
  }
  free(s->source);
  free(s->text);
  s->keys = e->keys;
  s->source = e->source;
  s->text = e->text;
  s->text_len = e->text_len;
  s->fetched_at = e->fetched_at;
  s->fresh_until = e->fresh_until;
  e->keys = NULL;
  e->source = NULL;
  e->text = NULL;
  wif_jwks_cache_entry_clear(e);
  return rc;
}

static bool is_fresh(int64_t fetched_at, int64_t fresh_until, int64_t now) {
  /* A fetch time in the future means a clock jump or tampering. */
  return fetched_at > 0 && fetched_at <= now && now < fresh_until;
}

static bool within_stale(int64_t fetched_at, int64_t fresh_until, int64_t now) {
  return fetched_at > 0 && fetched_at <= now &&
         now - fresh_until < WIF_JWKS_STALE_MAX;
}

/* ---- fetching ---- */

/* One GET within the fetch's deadline; anything but a complete 200 is an
 * error naming the URL and the status. */
static wif_rc get(struct wif_jwks_cache *c, const char *ca, size_t ca_len,
                  const char *url, int64_t deadline,
                  struct wif_http_response *resp, struct wif_error *err) {
  struct wif_http_request req;
  int64_t left = deadline - wif_clock_mono_ms();
  wif_rc rc;

  memset(&req, 0, sizeof(req));
  if (left <= 0)
    return wif_error_set(err, WIF_E_UNAVAILABLE,
                         "no time left within http_timeout for %s", url);
  req.url = url;
  req.ca_pem = ca;
  req.ca_pem_len = ca_len;
  req.proxy = c->cfg->https_proxy;
  req.timeout_ms = (long)left;
  req.max_body = WIF_HTTP_BODY_MAX;
  if (c->http == NULL)
    return wif_error_set(err, WIF_E_UNAVAILABLE,
                         "no network in this process for %s", url);
  rc = c->http(c->http_ctx, &req, resp, err);
  if (rc != WIF_OK)
    return rc;
  if (resp->status != 200) {
    char shown[256];

    wif_log_sanitize(url, strcspn(url, "?#"), shown, sizeof(shown));
    rc = wif_error_set(err, WIF_E_UNAVAILABLE, "%s: HTTP status %ld", shown,
                       resp->status);
    wif_http_response_clear(resp);
  }
  return rc;
}

/* The outcome of one successful fetch. */
struct fetched {
  struct wif_jwks *keys;
  char *text; /* the JWKS as served */
  size_t len;
  char *source;
  int64_t fresh_for;
};

static void fetched_clear(struct fetched *f) {
  wif_jwks_free(f->keys);
  free(f->text);
  free(f->source);
  memset(f, 0, sizeof(f[0]));
}

/* Discovery when needed, then the JWKS, all within http_timeout. */
static wif_rc fetch(struct wif_jwks_cache *c, const struct wif_provider *p,
                    struct fetched *out, struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;
  struct wif_http_response resp;
  struct wif_error perr;
  int64_t deadline = deadline_in(c, c->cfg->http_timeout * 1000);
  char *disc = NULL;
  char *uri = NULL;
  char *ca = NULL;
  size_t ca_len = 0;
  char shown[256];

  memset(&resp, 0, sizeof(resp));
  memset(out, 0, sizeof(*out));
  wif_error_clear(&perr);
  /* The anchor is read once, checked like the config, and handed to the
   * transport as bytes: a caller-owned CA file would let its owner mint
   * tokens. */
  if (p->ca_file != NULL &&
      (rc = wif_file_read_trusted(p->ca_file, c->owner, WIF_CA_FILE_MAX, &ca,
                                  &ca_len, err)) != WIF_OK)
    goto out;
  if (p->jwks_uri != NULL) {
    if ((uri = strdup(p->jwks_uri)) == NULL) {
      rc = wif_error_set(err, WIF_E_NOMEM, "out of memory");
      goto out;
    }
  } else {
    if ((rc = wif_discovery_url(p->issuer, &disc, err)) != WIF_OK)
      goto out;
    if ((rc = get(c, ca, ca_len, disc, deadline, &resp, err)) != WIF_OK)
      goto out;
    rc = wif_discovery_parse(resp.body, resp.body_len, p->issuer, &uri, &perr);
    if (rc != WIF_OK) {
      wif_log_sanitize(disc, strlen(disc), shown, sizeof(shown));
      wif_error_set(err, rc, "%s: %s", shown, perr.msg);
      goto out;
    }
    wif_http_response_clear(&resp);
  }
  if ((rc = get(c, ca, ca_len, uri, deadline, &resp, err)) != WIF_OK)
    goto out;
  rc = wif_jwks_parse(resp.body, resp.body_len, &c->log, &out->keys, &perr);
  if (rc != WIF_OK) {
    wif_log_sanitize(uri, strcspn(uri, "?#"), shown, sizeof(shown));
    wif_error_set(err, rc, "%s: HTTP status 200, but not a usable key set: %s",
                  shown, perr.msg);
    goto out;
  }
  out->fresh_for = wif_jwks_cache_freshness(&resp);
  out->text = resp.body;
  out->len = resp.body_len;
  resp.body = NULL;
  resp.body_len = 0;
  out->source = uri;
  uri = NULL;
  rc = WIF_OK;
out:
  if (rc != WIF_OK)
    fetched_clear(out);
  wif_http_response_clear(&resp);
  wif_file_free_buffer(ca, ca_len);
  free(disc);
  free(uri);
  return rc;
}

/* Writes the cache file; a failure only costs later processes a fetch. */
static void store(struct wif_jwks_cache *c, const struct wif_provider *p,
                  const char *path, const struct fetched *f,
                  int64_t fetched_at) {
  char *text = NULL;
  size_t len = 0;
  struct wif_error err;
  char why[WIF_ERROR_MSG_MAX + 32];

  wif_error_clear(&err);
  if (path == NULL || !dir_usable(c))
    return;
  if (wif_jwks_store_encode(p, f->source, fetched_at, fetched_at + f->fresh_for,
                            f->text, f->len, &text, &len, &err) != WIF_OK ||
      wif_file_write_atomic_at(c->dir_fd, c->dir, strrchr(path, '/') + 1, text,
                               len, 0600, &err) != WIF_OK) {
    (void)snprintf(why, sizeof(why), "cannot write: %s", err.msg);
    dir_failed(c, why);
  }
  free(text);
}

/*
 * Fetches, stores and makes the result current. The fetch time is
 * recorded in the lock file first, so a failure starts the refresh
 * interval too.
 */
static wif_rc fetch_now(struct wif_jwks_cache *c, const struct wif_provider *p,
                        struct slot *s, const char *path, int lock_fd,
                        int64_t now, struct wif_error *err) {
  struct fetched f;
  struct wif_jwks_cache_entry e;
  struct wif_error aerr;
  wif_rc rc;

  memset(&e, 0, sizeof(e));
  wif_error_clear(&aerr);
  s->last_attempt = now;
  if (lock_fd >= 0 &&
      wif_jwks_store_attempt_set(lock_fd, now, NULL, &aerr) != WIF_OK)
    wif_log(&c->log, LOG_WARNING, "provider \"%s\": %s", p->name, aerr.msg);
  wif_log(&c->log, LOG_DEBUG, "provider \"%s\": fetching keys", p->name);
  rc = fetch(c, p, &f, err);
  if (rc != WIF_OK) {
    if (lock_fd >= 0)
      (void)wif_jwks_store_attempt_set(lock_fd, now, err->msg, &aerr);
    return rc;
  }
  store(c, p, path, &f, now);
  e.keys = f.keys;
  e.source = f.source;
  e.text = f.text;
  e.text_len = f.len;
  e.fetched_at = now;
  e.fresh_until = now + f.fresh_for;
  memset(&f, 0, sizeof(f));
  rc = slot_take(s, &e);
  if (rc != WIF_OK)
    return wif_error_set(err, rc, "out of memory");
  wif_log(&c->log, LOG_INFO,
          "provider \"%s\": fetched %zu keys, fresh for %" PRId64 " s", p->name,
          wif_jwks_count(s->keys), s->fresh_until - now);
  return WIF_OK;
}

/* ---- jwks_file providers ---- */

static wif_rc load_file(struct wif_jwks_cache *c, const struct wif_provider *p,
                        struct wif_jwks **out, struct wif_error *err) {
  return wif_jwks_load_file(p->name, p->jwks_file, c->owner, &c->log, out, err);
}

/* ---- the policy ---- */

/* Paths of p's files, or NULLs when there is no usable directory. */
static wif_rc paths(struct wif_jwks_cache *c, const struct wif_provider *p,
                    char **cache, char **lock, struct wif_error *err) {
  *cache = NULL;
  *lock = NULL;
  if (!dir_usable(c))
    return WIF_OK;
  return wif_jwks_store_paths(c->dir, p, cache, lock, err);
}

/* Reads the cache file; a broken one is logged and counts as a miss (it
 * is replaced by the next fetch). */
static bool read_entry(struct wif_jwks_cache *c, const struct wif_provider *p,
                       const char *path, struct wif_jwks_cache_entry *e) {
  struct wif_error err;
  wif_rc rc;

  memset(e, 0, sizeof(*e));
  if (path == NULL)
    return false;
  wif_error_clear(&err);
  rc = wif_jwks_store_read(path, c->owner, p, e, &err);
  if (rc == WIF_OK)
    return true;
  if (rc != WIF_E_KEY_NOT_FOUND)
    wif_log(&c->log, LOG_WARNING,
            "provider \"%s\": ignoring the cached keys: %s", p->name, err.msg);
  return false;
}

/* True when entry e serves without a fetch: fresh, and for a refresh
 * newer than what this process already tried. */
static bool serves(const struct slot *s, const struct wif_jwks_cache_entry *e,
                   bool refresh, int64_t now) {
  if (!is_fresh(e->fetched_at, e->fresh_until, now))
    return false;
  return !refresh || e->fetched_at > s->fetched_at;
}

static long lock_wait_ms(const struct wif_jwks_cache *c) {
  int64_t ms = c->cfg->http_timeout * 1000 + WIF_JWKS_LOCK_WAIT_EXTRA_MS;
  int64_t left = deadline_in(c, ms) - wif_clock_mono_ms();

  return (long)(left > 0 ? left : 0);
}

/*
 * Serves the best set at hand after a fetch was skipped or failed: the
 * disk entry e (taken when it serves) or the slot's own set, while within
 * the stale limit. why explains the missing fetch for the warning.
 */
static wif_rc fall_back(struct wif_jwks_cache *c, const struct wif_provider *p,
                        struct slot *s, struct wif_jwks_cache_entry *e,
                        bool have_e, int64_t now, const char *why,
                        struct wif_error *err) {
  int64_t fetched_at, fresh_until;

  if (have_e && within_stale(e->fetched_at, e->fresh_until, now) &&
      e->fetched_at >= s->fetched_at) {
    if (slot_take(s, e) != WIF_OK)
      return wif_error_set(err, WIF_E_NOMEM, "out of memory");
  }
  fetched_at = s->fetched_at;
  fresh_until = s->fresh_until;
  if (s->keys == NULL || !within_stale(fetched_at, fresh_until, now))
    return wif_error_set(err, WIF_E_JWKS_UNAVAILABLE,
                         "provider \"%s\": no usable keys: %s", p->name, why);
  if (now >= fresh_until)
    wif_log(&c->log, LOG_WARNING,
            "provider \"%s\": using cached keys %" PRId64
            " s past their freshness (at most %d s): %s",
            p->name, now - fresh_until, WIF_JWKS_STALE_MAX, why);
  else
    wif_log(&c->log, LOG_WARNING,
            "provider \"%s\": keys not refreshed, the cached ones stay: %s",
            p->name, why);
  return WIF_OK;
}

/*
 * This process fetches: under the lock, unless another process fetched
 * meanwhile or the refresh interval says wait. e (have: it is usable) is
 * what the disk held without the lock.
 */
static wif_rc update_here(struct wif_jwks_cache *c,
                          const struct wif_provider *p, struct slot *s,
                          bool refresh, struct wif_jwks_cache_entry *e,
                          bool have, const char *path, const char *lock,
                          int64_t now, struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;
  struct wif_error lerr;
  struct wif_error ferr;
  int fd = -1;
  bool cooling;
  int64_t attempt = 0;
  char last_failure[WIF_ERROR_MSG_MAX / 2] = "";

  wif_error_clear(&lerr);
  wif_error_clear(&ferr);
  if (lock != NULL) {
    rc = wif_file_lock_at(c->dir_fd, c->dir, strrchr(lock, '/') + 1, c->owner,
                          lock_wait_ms(c), &fd, &lerr);
    if (rc == WIF_OK) {
      /* Whoever held the lock may have just fetched. */
      wif_jwks_cache_entry_clear(e);
      have = read_entry(c, p, path, e);
      if (have && serves(s, e, refresh, now)) {
        rc = slot_take(s, e);
        goto out;
      }
      (void)wif_jwks_store_attempt_get(fd, &attempt, last_failure,
                                       sizeof(last_failure));
    } else if (rc == WIF_E_UNAVAILABLE) {
      wif_log(&c->log, LOG_WARNING, "provider \"%s\": %s", p->name, lerr.msg);
    } else {
      dir_failed(c, lerr.msg);
    }
  }
  if (s->last_attempt > attempt)
    attempt = s->last_attempt;
  /* Any fetch in the last minute, failed or not, stands in for this one
   * when there are keys to serve meanwhile; a time in the future is
   * a clock jump and is ignored. */
  cooling =
      attempt > 0 && attempt <= now && now - attempt < WIF_JWKS_REFRESH_MIN &&
      ((have && within_stale(e->fetched_at, e->fresh_until, now)) ||
       (s->keys != NULL && within_stale(s->fetched_at, s->fresh_until, now)));
  /* With nothing to serve, a failed fetch still holds off the next one
   * for a while: a caller looping on logins must not make us flood the
   * issuer. */
  if (!cooling && last_failure[0] != '\0' && attempt <= now &&
      now - attempt < WIF_JWKS_RETRY_EMPTY) {
    char why[WIF_ERROR_MSG_MAX];

    (void)snprintf(why, sizeof(why),
                   "the last fetch, %" PRId64 " s ago, failed (%s); the "
                   "next may start %d s after it",
                   now - attempt, last_failure, WIF_JWKS_RETRY_EMPTY);
    rc = fall_back(c, p, s, e, have, now, why, err);
    goto out;
  }
  if (cooling) {
    if (refresh && is_fresh(s->fetched_at, s->fresh_until, now)) {
      /* Nothing newer on disk: the caller's kid stays unknown. */
      wif_log(&c->log, LOG_DEBUG,
              "provider \"%s\": refresh skipped, keys were fetched less "
              "than %d s ago",
              p->name, WIF_JWKS_REFRESH_MIN);
      rc = WIF_OK;
      goto out;
    }
    rc = fall_back(c, p, s, e, have, now,
                   "a fetch was tried less than a minute ago", err);
    goto out;
  }
  rc = fetch_now(c, p, s, path, fd, now, &ferr);
  if (rc == WIF_OK)
    goto out;
  if (rc == WIF_E_NOMEM) {
    wif_error_set(err, rc, "%s", ferr.msg);
    goto out;
  }
  rc = fall_back(c, p, s, e, have, now, ferr.msg, err);
out:
  wif_file_unlock(&fd);
  return rc;
}

/* A CA file the provider trusts for HTTPS is refused on every login when
 * it is not trusted itself, cached keys or not. */
static wif_rc check_ca_file(const struct wif_jwks_cache *c,
                            const struct wif_provider *p,
                            struct wif_error *err) {
  int fd = -1;
  wif_rc rc = wif_file_open_trusted(p->ca_file, c->owner, &fd, err);

  if (fd >= 0)
    (void)close(fd);
  if (rc == WIF_E_SYSTEM)
    rc = err != NULL ? (err->rc = WIF_E_CONFIG_INVALID) : WIF_E_CONFIG_INVALID;
  return rc;
}

/* Runs the helper and parses the set it hands over like a cache file. */
static wif_rc helper_entry(struct wif_jwks_cache *c,
                           const struct wif_provider *p,
                           enum wif_helper_keys_mode mode,
                           struct wif_jwks_cache_entry *out,
                           struct wif_error *err) {
  struct wif_error derr;
  char *text = NULL;
  size_t len = 0;
  long timeout = (long)(c->cfg->http_timeout * 1000 + WIF_HELPER_START_MS);
  wif_rc rc;

  rc = wif_helper_keys(c->helper, c->helper_config, p->name, mode, timeout,
                       &c->log, &text, &len, err);
  if (rc != WIF_OK)
    return rc;
  wif_error_clear(&derr);
  rc = wif_jwks_store_decode(text, len, p, out, &derr);
  if (rc != WIF_OK && rc != WIF_E_NOMEM)
    rc = wif_error_set(err, WIF_E_JWKS_UNAVAILABLE,
                       "the fetch helper's answer is unusable: %s", derr.msg);
  wif_helper_free(text, len);
  return rc;
}

/*
 * The module's way: the fetch helper runs update_here in a process of its
 * own (it alone takes the lock and writes the cache) and hands back the
 * current set, parsed here like any cache file.
 */
static wif_rc update_via_helper(struct wif_jwks_cache *c,
                                const struct wif_provider *p, struct slot *s,
                                bool refresh, struct wif_jwks_cache_entry *e,
                                bool have, struct wif_error *err) {
  struct wif_jwks_cache_entry h;
  struct wif_error herr;
  wif_rc rc;
  int64_t now;

  memset(&h, 0, sizeof(h));
  wif_error_clear(&herr);
  rc = helper_entry(c, p,
                    refresh ? WIF_HELPER_KEYS_REFRESH : WIF_HELPER_KEYS_LOAD,
                    &h, &herr);
  now = now_of(c);
  if (rc == WIF_OK) {
    if (within_stale(h.fetched_at, h.fresh_until, now)) {
      if ((rc = slot_take(s, &h)) != WIF_OK)
        wif_error_set(err, rc, "out of memory");
      return rc;
    }
    rc = wif_error_set(&herr, WIF_E_JWKS_UNAVAILABLE,
                       "the fetch helper handed over keys past their use");
    wif_jwks_cache_entry_clear(&h);
  }
  if (rc == WIF_E_NOMEM)
    return wif_error_set(err, rc, "out of memory");
  return fall_back(c, p, s, e, have, now, herr.msg, err);
}

/*
 * The set in hand, or the one on disk, when it serves (no lock is needed
 * to read: files are replaced by rename); else an update, in this process
 * or through the helper.
 */
static wif_rc load_network(struct wif_jwks_cache *c,
                           const struct wif_provider *p, struct slot *s,
                           bool refresh, struct wif_error *err) {
  wif_rc rc;
  struct wif_jwks_cache_entry e;
  char *path = NULL;
  char *lock = NULL;
  bool have;
  int64_t now = now_of(c);

  memset(&e, 0, sizeof(e));
  if (s->keys == NULL)
    refresh = false;
  if (!refresh && s->keys != NULL &&
      is_fresh(s->fetched_at, s->fresh_until, now))
    return WIF_OK;
  if ((rc = paths(c, p, &path, &lock, err)) != WIF_OK)
    goto out;
  have = read_entry(c, p, path, &e);
  if (have && serves(s, &e, refresh, now))
    rc = slot_take(s, &e);
  else if (c->helper != NULL)
    rc = update_via_helper(c, p, s, refresh, &e, have, err);
  else
    rc = update_here(c, p, s, refresh, &e, have, path, lock, now, err);
out:
  wif_jwks_cache_entry_clear(&e);
  free(path);
  free(lock);
  return rc;
}

wif_rc wif_jwks_cache_loader(void *cache, const struct wif_provider *p,
                             bool refresh, struct wif_jwks **out,
                             struct wif_error *err) {
  struct wif_jwks_cache *c = cache;
  struct slot *s;
  size_t i;
  wif_rc rc;

  if (out != NULL)
    *out = NULL;
  if (out == NULL || !slot_index(c, p, &i))
    return wif_error_set(err, WIF_E_INTERNAL, "unknown provider");
  s = &c->slots[i];
  if (p->jwks_file != NULL) {
    /* Pinned keys: nothing to refresh, no network at all. */
    if (s->keys == NULL) {
      struct wif_jwks *keys = NULL;

      if ((rc = load_file(c, p, &keys, err)) != WIF_OK)
        return rc;
      s->keys = keys;
    }
    *out = s->keys;
    return WIF_OK;
  }
  if (p->ca_file != NULL && (rc = check_ca_file(c, p, err)) != WIF_OK)
    return rc;
  /* A cache directory that is missing or full only costs fetches;
   * one that someone else could write is a configuration fault. */
  if (c->dir != NULL && !dir_usable(c) &&
      c->dir_err.rc == WIF_E_CONFIG_INSECURE)
    return wif_error_set(err, WIF_E_CONFIG_INSECURE, "cache_dir %s",
                         c->dir_err.msg);
  rc = load_network(c, p, s, refresh, err);
  if (rc == WIF_OK)
    *out = s->keys;
  return rc;
}

wif_rc wif_jwks_cache_export(struct wif_jwks_cache *c,
                             const struct wif_provider *p, char **out,
                             size_t *out_len, struct wif_error *err) {
  const struct slot *s;
  size_t i;

  *out = NULL;
  *out_len = 0;
  if (!slot_index(c, p, &i))
    return wif_error_set(err, WIF_E_INTERNAL, "unknown provider");
  s = &c->slots[i];
  if (s->keys == NULL || s->text == NULL || s->source == NULL)
    return wif_error_set(err, WIF_E_JWKS_UNAVAILABLE,
                         "provider \"%s\": no fetched keys to hand over",
                         p->name);
  return wif_jwks_store_encode(p, s->source, s->fetched_at, s->fresh_until,
                               s->text, s->text_len, out, out_len, err);
}

/* fetch and revoke: the lock (when there is a directory), then a fetch
 * that ignores freshness and the refresh interval. */
static wif_rc forced(struct wif_jwks_cache *c, const struct wif_provider *p,
                     bool drop, struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;
  struct slot *s;
  struct wif_error lerr;
  struct wif_error ferr;
  char *path = NULL;
  char *lock = NULL;
  int fd = -1;
  size_t i;

  wif_error_clear(&lerr);
  wif_error_clear(&ferr);
  if (!slot_index(c, p, &i)) {
    rc = wif_error_set(err, WIF_E_INTERNAL, "unknown provider");
    goto out;
  }
  s = &c->slots[i];
  if (c->helper != NULL) {
    struct wif_jwks_cache_entry e;

    rc = helper_entry(
        c, p, drop ? WIF_HELPER_KEYS_REVOKE : WIF_HELPER_KEYS_FETCH, &e, err);
    if (rc == WIF_OK && (rc = slot_take(s, &e)) != WIF_OK)
      wif_error_set(err, rc, "out of memory");
    goto out;
  }
  if ((rc = paths(c, p, &path, &lock, err)) != WIF_OK)
    goto out;
  if (lock != NULL) {
    rc = wif_file_lock_at(c->dir_fd, c->dir, strrchr(lock, '/') + 1, c->owner,
                          lock_wait_ms(c), &fd, &lerr);
    if (rc != WIF_OK) {
      /* Revoking must not be skipped because a login is fetching. */
      wif_log(&c->log, LOG_WARNING, "provider \"%s\": %s", p->name, lerr.msg);
      fd = -1;
    }
  }
  if (drop) {
    if (path != NULL && unlinkat(c->dir_fd, strrchr(path, '/') + 1, 0) != 0 &&
        errno != ENOENT) {
      rc = wif_error_set(err, WIF_E_SYSTEM,
                         "provider \"%s\": cannot remove %s: %s", p->name, path,
                         strerror(errno));
      goto out;
    }
    /* Sets already handed out stay alive until the cache is freed, but
     * are never served again. */
    if (s->keys != NULL) {
      struct wif_jwks_cache_entry none;

      memset(&none, 0, sizeof(none));
      rc = slot_take(s, &none);
      if (rc != WIF_OK) {
        wif_error_set(err, rc, "out of memory");
        goto out;
      }
    }
    wif_log(&c->log, LOG_NOTICE,
            "provider \"%s\": cached keys revoked; fetching anew", p->name);
  }
  rc = fetch_now(c, p, s, path, fd, now_of(c), &ferr);
  if (rc != WIF_OK) {
    if (rc != WIF_E_NOMEM)
      rc = WIF_E_JWKS_UNAVAILABLE;
    wif_error_set(err, rc, "provider \"%s\": %s", p->name, ferr.msg);
  }
out:
  wif_file_unlock(&fd);
  free(path);
  free(lock);
  return rc;
}

wif_rc wif_jwks_cache_fetch(struct wif_jwks_cache *c,
                            const struct wif_provider *p,
                            struct wif_error *err) {
  struct wif_jwks *keys = NULL;

  if (c == NULL || p == NULL)
    return wif_error_set(err, WIF_E_INTERNAL, "wif_jwks_cache_fetch: bad call");
  if (p->jwks_file != NULL)
    return wif_jwks_cache_loader(c, p, false, &keys, err);
  return forced(c, p, false, err);
}

wif_rc wif_jwks_cache_revoke(struct wif_jwks_cache *c,
                             const struct wif_provider *p,
                             struct wif_error *err) {
  if (c == NULL || p == NULL)
    return wif_error_set(err, WIF_E_INTERNAL,
                         "wif_jwks_cache_revoke: bad call");
  if (p->jwks_file != NULL)
    return wif_error_set(err, WIF_E_CONFIG_INVALID,
                         "provider \"%s\" uses jwks_file %s: there is no "
                         "cache to drop; replace the file instead",
                         p->name, p->jwks_file);
  return forced(c, p, true, err);
}

wif_rc wif_jwks_cache_read(struct wif_jwks_cache *c,
                           const struct wif_provider *p,
                           struct wif_jwks_cache_entry *out,
                           struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;
  char *path = NULL;
  char *lock = NULL;
  struct wif_error rerr;

  if (out != NULL)
    memset(out, 0, sizeof(*out));
  if (c == NULL || p == NULL || out == NULL) {
    rc = wif_error_set(err, WIF_E_INTERNAL, "wif_jwks_cache_read: bad call");
    goto out;
  }
  if (p->jwks_file != NULL) {
    if ((out->source = strdup(p->jwks_file)) == NULL) {
      rc = wif_error_set(err, WIF_E_NOMEM, "out of memory");
      goto out;
    }
    if ((rc = load_file(c, p, &out->keys, err)) != WIF_OK)
      wif_jwks_cache_entry_clear(out);
    goto out;
  }
  if ((rc = paths(c, p, &path, &lock, err)) != WIF_OK)
    goto out;
  if (path == NULL) {
    rc = wif_error_set(err, WIF_E_JWKS_UNAVAILABLE,
                       "provider \"%s\": no usable cache directory", p->name);
    goto out;
  }
  wif_error_clear(&rerr);
  rc = wif_jwks_store_read(path, c->owner, p, out, &rerr);
  if (rc == WIF_E_NOMEM) {
    wif_error_set(err, rc, "out of memory");
    goto out;
  }
  if (rc != WIF_OK) {
    rc = wif_error_set(err, WIF_E_JWKS_UNAVAILABLE, "provider \"%s\": %s",
                       p->name,
                       rc == WIF_E_KEY_NOT_FOUND ? "no keys cached" : rerr.msg);
    goto out;
  }
  out->path = path;
  path = NULL;
out:
  free(path);
  free(lock);
  return rc;
}
