/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the JWKS cache policy and its disk format (jwks_cache.c,
 * jwks_store.c), with an injected clock and a scripted transport.
 * Case ids: SECURITY-CASES I4-I12, J7-J14, M3, M8. */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "discovery.h"
#include "file.h"
#include "http.h"
#include "jwks_cache.h"
#include "validate.h"

#define ISS "https://idp.example.test/tenant/"
#define ISS2 "https://pinned.example.test"
#define AUD "api://pam-wif"
#define T0 WIF_TEST_NOW

/* ---- a scripted identity provider ---- */

struct fake {
  int calls; /* every request */
  int disc_calls;
  int jwks_calls;
  wif_rc fail;      /* != WIF_OK: every request fails so */
  long status;      /* JWKS status (0: 200) */
  const char *jwks; /* JWKS body (NULL: jwks_text) */
  char jwks_text[16384];
  const char *cache_control; /* NULL: none */
  const char *disc_body;     /* NULL: a correct document */
  char last_url[512];
  long last_timeout;
  char last_ca[256];
  char last_proxy[256];
  atomic_int *shared; /* counts across fork() when set */
  int delay_ms;
};

static char *dup_str(const char *s) {
  char *d = strdup(s);
  assert_non_null(d);
  return d;
}

static wif_rc fake_http(void *ctx, const struct wif_http_request *req,
                        struct wif_http_response *out, struct wif_error *err) {
  struct fake *f = ctx;
  const char *body;
  char disc[512];

  memset(out, 0, sizeof(*out));
  f->calls++;
  if (f->shared != NULL)
    atomic_fetch_add(f->shared, 1);
  if (f->delay_ms > 0) {
    struct timespec ts = {0, (long)f->delay_ms * 1000000L};
    nanosleep(&ts, NULL);
  }
  snprintf(f->last_url, sizeof(f->last_url), "%s", req->url);
  f->last_timeout = req->timeout_ms;
  /* The anchor is handed over as the bytes read under the trust rule. */
  snprintf(f->last_ca, sizeof(f->last_ca), "%.*s",
           req->ca_pem ? (int)req->ca_pem_len : 0,
           req->ca_pem ? req->ca_pem : "");
  snprintf(f->last_proxy, sizeof(f->last_proxy), "%s",
           req->proxy ? req->proxy : "");
  if (strstr(req->url, "/.well-known/openid-configuration") != NULL) {
    f->disc_calls++;
    if (f->fail != WIF_OK)
      return wif_error_set(err, f->fail, "%s: scripted failure", req->url);
    snprintf(disc, sizeof(disc),
             "{\"issuer\":\"%s\",\"jwks_uri\":\"https://keys.example.test/"
             "jwks\"}",
             ISS);
    body = f->disc_body ? f->disc_body : disc;
    out->status = 200;
  } else {
    f->jwks_calls++;
    if (f->fail != WIF_OK)
      return wif_error_set(err, f->fail, "%s: scripted failure", req->url);
    body = f->jwks ? f->jwks : f->jwks_text;
    out->status = f->status ? f->status : 200;
    if (f->cache_control != NULL) {
      size_t n = strlen(f->cache_control) + 16;
      out->headers[0] = malloc(n);
      assert_non_null(out->headers[0]);
      snprintf(out->headers[0], n, "Cache-Control: %s", f->cache_control);
      out->n_headers = 1;
    }
  }
  out->body = dup_str(body);
  out->body_len = strlen(body);
  return WIF_OK;
}

/* The JWKS holding the test keys with these kids. */
static void publish(struct fake *f, const char *kids) {
  const char *k = kids;
  size_t off;

  off = (size_t)snprintf(f->jwks_text, sizeof(f->jwks_text), "{\"keys\":[");
  while (*k != '\0') {
    size_t n = strcspn(k, ",");
    char name[64];
    char *path;
    char *jwk;
    size_t len;

    snprintf(name, sizeof(name), "%.*s.jwk.json", (int)n, k);
    path = wif_test_key_path(name);
    jwk = wif_test_read(path, &len);
    off += (size_t)snprintf(f->jwks_text + off, sizeof(f->jwks_text) - off,
                            "%s%s", off > 9 ? "," : "", jwk);
    free(jwk);
    free(path);
    k += n;
    if (*k == ',')
      k++;
  }
  snprintf(f->jwks_text + off, sizeof(f->jwks_text) - off, "]}");
  f->jwks = NULL;
}

/* ---- log capture and clock ---- */

struct logbuf {
  char text[16384];
  size_t len;
  int warnings;
};

static void capture(void *ctx, int priority, const char *msg) {
  struct logbuf *l = ctx;
  int n = snprintf(l->text + l->len, sizeof(l->text) - l->len, "%d %s\n",
                   priority, msg);

  if (n > 0 && (size_t)n < sizeof(l->text) - l->len)
    l->len += (size_t)n;
  if (priority == LOG_WARNING)
    l->warnings++;
}

static int64_t fake_clock(void *ctx) {
  return *(int64_t *)ctx;
}

/* ---- fixture ---- */

struct fx {
  char dir[512];   /* private scratch directory in the build tree */
  char cache[600]; /* cache_dir */
  struct wif_config *cfg;
  struct fake fake;
  struct logbuf log;
  struct wif_log sink;
  int64_t now;
};

static void set(struct wif_config *cfg, struct wif_provider *p, const char *key,
                const char *value) {
  struct wif_error err;
  if (wif_config_set(cfg, p, key, value, &err) != WIF_OK)
    fail_msg("%s = %s: %s", key, value, err.msg);
}

/* Only its bytes matter: the fake transport never parses it. */
#define TEST_CA_PEM                                                            \
  "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"

static int setup(void **state) {
  struct fx *f = calloc(1, sizeof(*f));
  struct wif_provider *p;
  struct wif_error err;
  char *base;

  assert_non_null(f);
  /* Under the build tree: trusted reads refuse group-writable parents. */
  base = wif_test_key_path("../jwks_cache_test.XXXXXX");
  snprintf(f->dir, sizeof(f->dir), "%s", base);
  free(base);
  assert_non_null(mkdtemp(f->dir));
  snprintf(f->cache, sizeof(f->cache), "%s/cache", f->dir);
  f->cfg = wif_config_new("test.conf");
  assert_non_null(f->cfg);
  assert_int_equal(wif_config_add_provider(f->cfg, "main", &p, &err), WIF_OK);
  set(f->cfg, p, "issuer", ISS);
  set(f->cfg, p, "audience", AUD);
  set(f->cfg, p, "algorithms", "RS256 ES256");
  {
    char ca[sizeof(f->dir) + 16];
    FILE *fp;

    snprintf(ca, sizeof(ca), "%s/ca.pem", f->dir);
    assert_non_null(fp = fopen(ca, "w"));
    fputs(TEST_CA_PEM, fp);
    assert_int_equal(fclose(fp), 0);
    set(f->cfg, p, "ca_file", ca);
  }
  assert_int_equal(wif_config_add_provider(f->cfg, "pinned", &p, &err), WIF_OK);
  set(f->cfg, p, "issuer", ISS2);
  set(f->cfg, p, "audience", AUD);
  {
    char *jwks = wif_test_key_path("jwks.json");
    set(f->cfg, p, "jwks_file", jwks);
    free(jwks);
  }
  assert_int_equal(wif_config_add_provider(f->cfg, "direct", &p, &err), WIF_OK);
  set(f->cfg, p, "issuer", "https://direct.example.test");
  set(f->cfg, p, "audience", AUD);
  set(f->cfg, p, "jwks_uri", "https://direct.example.test/keys?x=1");
  set(f->cfg, NULL, "https_proxy", "http://proxy.example.test:3128");
  set(f->cfg, NULL, "http_timeout", "3");
  assert_int_equal(wif_config_finish(f->cfg, &err), WIF_OK);
  publish(&f->fake, "rs256");
  f->sink.fn = capture;
  f->sink.ctx = &f->log;
  f->sink.debug = true;
  f->now = T0;
  *state = f;
  return 0;
}

static void rm_tree(const char *path) {
  DIR *d = opendir(path);
  struct dirent *e;

  if (d == NULL) {
    (void)unlink(path);
    return;
  }
  while ((e = readdir(d)) != NULL) {
    char sub[1024];
    struct stat st;

    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
    if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
      rm_tree(sub);
    else
      (void)unlink(sub);
  }
  closedir(d);
  (void)rmdir(path);
}

static int teardown(void **state) {
  struct fx *f = *state;

  rm_tree(f->dir);
  wif_config_free(f->cfg);
  free(f);
  return 0;
}

/* A new cache, as a new login process would make. */
static struct wif_jwks_cache *new_cache(struct fx *f, const char *dir) {
  struct wif_jwks_cache *c =
      wif_jwks_cache_new(f->cfg, dir, geteuid(), &f->sink);

  assert_non_null(c);
  wif_jwks_cache_set_clock(c, fake_clock, &f->now);
  wif_jwks_cache_set_transport(c, fake_http, &f->fake);
  return c;
}

static const struct wif_provider *main_p(struct fx *f) {
  return &f->cfg->providers[0];
}

static wif_rc load(struct wif_jwks_cache *c, const struct wif_provider *p,
                   bool refresh, struct wif_jwks **keys) {
  struct wif_error err;
  wif_rc rc = wif_jwks_cache_loader(c, p, refresh, keys, &err);

  if (rc != WIF_OK)
    assert_null(*keys);
  return rc;
}

/* Loads once in a fresh cache object; returns the rc. */
static wif_rc load_once(struct fx *f, bool refresh) {
  struct wif_jwks_cache *c = new_cache(f, f->cache);
  struct wif_jwks *keys = NULL;
  wif_rc rc = load(c, main_p(f), refresh, &keys);

  wif_jwks_cache_free(c);
  return rc;
}

static char *cache_file(struct fx *f, const struct wif_provider *p) {
  char *path = NULL;
  char *lock = NULL;
  struct wif_error err;

  assert_int_equal(wif_jwks_store_paths(f->cache, p, &path, &lock, &err),
                   WIF_OK);
  free(lock);
  return path;
}

static char *lock_file(struct fx *f, const struct wif_provider *p) {
  char *path = NULL;
  char *lock = NULL;
  struct wif_error err;

  assert_int_equal(wif_jwks_store_paths(f->cache, p, &path, &lock, &err),
                   WIF_OK);
  free(path);
  return lock;
}

static char *slurp(const char *path, size_t *len) {
  return wif_test_read(path, len);
}

/* Writes a cache file for main with the given times and JWKS. */
static void plant(struct fx *f, int64_t fetched, int64_t fresh_until,
                  const char *jwks) {
  char *path = cache_file(f, main_p(f));
  char *text = NULL;
  size_t len = 0;
  struct wif_error err;

  (void)mkdir(f->cache, 0700);
  assert_int_equal(wif_jwks_store_encode(main_p(f), "https://k.test/jwks",
                                         fetched, fresh_until, jwks,
                                         strlen(jwks), &text, &len, &err),
                   WIF_OK);
  assert_int_equal(wif_file_write_atomic(path, text, len, 0600, &err), WIF_OK);
  free(text);
  free(path);
}

/* ---- cold and warm ---- */

/* Must run first in this process: nothing before it used the network. */
static void test_warm_cache_no_network(void **state) {
  struct fx *f = *state;
  struct wif_jwks_cache *c;
  struct wif_jwks *keys = NULL;
  struct wif_error err;

  plant(f, T0 - 10, T0 + 3600, f->fake.jwks_text);
  /* The real transport: a warm cache must not even initialise libcurl. */
  c = wif_jwks_cache_new(f->cfg, f->cache, geteuid(), &f->sink);
  assert_non_null(c);
  wif_jwks_cache_set_transport(c, wif_http_transport, NULL);
  wif_jwks_cache_set_clock(c, fake_clock, &f->now);
  assert_int_equal(wif_jwks_cache_loader(c, main_p(f), false, &keys, &err),
                   WIF_OK);
  assert_non_null(keys);
  assert_non_null(wif_jwks_find(keys, "rs256", 5));
  assert_false(wif_http_initialized());
  wif_jwks_cache_free(c);
  assert_int_equal(f->log.warnings, 0);
}

static void test_cold_cache_discovery(void **state) {
  struct fx *f = *state;
  struct wif_jwks_cache *c = new_cache(f, f->cache);
  struct wif_jwks *keys = NULL;
  struct stat st;
  char *path;
  size_t off;

  assert_int_equal(load(c, main_p(f), false, &keys), WIF_OK);
  assert_non_null(wif_jwks_find(keys, "rs256", 5));
  assert_int_equal(f->fake.disc_calls, 1);
  assert_int_equal(f->fake.jwks_calls, 1);
  /* Everything the request needs comes from the config. */
  assert_string_equal(f->fake.last_url, "https://keys.example.test/jwks");
  assert_string_equal(f->fake.last_ca, TEST_CA_PEM);
  assert_string_equal(f->fake.last_proxy, "http://proxy.example.test:3128");
  assert_true(f->fake.last_timeout > 0 && f->fake.last_timeout <= 3000);
  /* The directory is made private, the file 0600 and ours (I6). */
  assert_int_equal(stat(f->cache, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0700);
  path = cache_file(f, main_p(f));
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0600);
  assert_int_equal(st.st_uid, geteuid());
  /* I7: named by a hash of the configuration, nothing else. */
  off = strlen(path) - (64 + 5);
  assert_int_equal(path[off - 1], '/');
  assert_int_equal(strspn(path + off, "0123456789abcdef"), 64);
  assert_string_equal(path + off + 64, ".json");
  free(path);
  wif_jwks_cache_free(c);

  /* A second process reuses it without a request. */
  f->now = T0 + 3599;
  assert_int_equal(load_once(f, false), WIF_OK);
  assert_int_equal(f->fake.calls, 2);
}

static void test_discovery_no_double_slash(void **state) {
  struct fx *f = *state;
  struct wif_jwks_cache *c = new_cache(f, NULL);
  struct wif_jwks *keys = NULL;

  f->fake.disc_body = NULL;
  assert_int_equal(load(c, main_p(f), false, &keys), WIF_OK);
  /* f->fake.last_url is the JWKS; check the discovery count and that the
   * discovery URL had no "//.well-known". */
  assert_int_equal(f->fake.disc_calls, 1);
  wif_jwks_cache_free(c);
  {
    char *url = NULL;
    struct wif_error err;
    assert_int_equal(wif_discovery_url(ISS, &url, &err), WIF_OK);
    assert_string_equal(url, "https://idp.example.test/tenant/.well-known/"
                             "openid-configuration");
    free(url);
  }
}

static void test_jwks_uri_skips_discovery(void **state) {
  struct fx *f = *state;
  struct wif_jwks_cache *c = new_cache(f, f->cache);
  struct wif_jwks *keys = NULL;

  assert_int_equal(load(c, &f->cfg->providers[2], false, &keys), WIF_OK);
  assert_int_equal(f->fake.disc_calls, 0);
  assert_int_equal(f->fake.jwks_calls, 1);
  assert_string_equal(f->fake.last_url, "https://direct.example.test/keys?x=1");
  wif_jwks_cache_free(c);
}

/* jwks_file: pinned keys, no network even on refresh. */
static void test_jwks_file_no_network(void **state) {
  struct fx *f = *state;
  struct wif_jwks_cache *c = new_cache(f, f->cache);
  struct wif_jwks *keys = NULL, *again = NULL;
  struct wif_jwks_cache_entry e;
  struct wif_error err;

  assert_int_equal(load(c, &f->cfg->providers[1], false, &keys), WIF_OK);
  assert_int_equal(load(c, &f->cfg->providers[1], true, &again), WIF_OK);
  assert_ptr_equal(keys, again);
  assert_int_equal(wif_jwks_cache_fetch(c, &f->cfg->providers[1], &err),
                   WIF_OK);
  assert_int_equal(wif_jwks_cache_revoke(c, &f->cfg->providers[1], &err),
                   WIF_E_CONFIG_INVALID);
  assert_int_equal(wif_jwks_cache_read(c, &f->cfg->providers[1], &e, &err),
                   WIF_OK);
  assert_null(e.path);
  assert_int_equal(e.fetched_at, 0);
  assert_true(wif_jwks_count(e.keys) >= 10);
  wif_jwks_cache_entry_clear(&e);
  assert_int_equal(f->fake.calls, 0);
  wif_jwks_cache_free(c);
}

/* ---- freshness ---- */

static int64_t fresh_for(const char *cc) {
  struct wif_http_response r;
  int64_t v;

  memset(&r, 0, sizeof(r));
  if (cc != NULL) {
    r.headers[0] = wif_test_str(cc);
    r.n_headers = 1;
  }
  v = wif_jwks_cache_freshness(&r);
  return v;
}

/* J14: max-age clamped to 5 min .. 24 h, 1 h when absent or unusable. */
static void test_freshness(void **state) {
  struct wif_http_response r;

  (void)state;
  assert_int_equal(fresh_for(NULL), 3600);
  assert_int_equal(fresh_for("Cache-Control: max-age=600"), 600);
  assert_int_equal(fresh_for("cache-control: public, MAX-AGE=7200"), 7200);
  assert_int_equal(fresh_for("Cache-Control: max-age=0"), 300);
  assert_int_equal(fresh_for("Cache-Control: no-store"), 300);
  assert_int_equal(fresh_for("Cache-Control: no-cache"), 300);
  assert_int_equal(fresh_for("Cache-Control: max-age=315360000"), 86400);
  assert_int_equal(fresh_for("Cache-Control: max-age=99999999999999999999"),
                   86400);
  assert_int_equal(fresh_for("Cache-Control: max-age=\"900\""), 900);
  assert_int_equal(fresh_for("Cache-Control: max-age=-5"), 3600);
  assert_int_equal(fresh_for("Cache-Control: max-age=+5"), 3600);
  assert_int_equal(fresh_for("Cache-Control: max-age=abc"), 3600);
  assert_int_equal(fresh_for("Cache-Control: max-age=12abc"), 3600);
  assert_int_equal(fresh_for("Cache-Control: max-age="), 3600);
  assert_int_equal(fresh_for("Cache-Control: s-maxage=900"), 3600);
  assert_int_equal(fresh_for("Expires: 0"), 3600);
  /* Duplicated headers: the smallest wins. */
  memset(&r, 0, sizeof(r));
  r.headers[0] = wif_test_str("Cache-Control: max-age=7200");
  r.headers[1] = wif_test_str("Cache-Control: max-age=900, max-age=80000");
  r.n_headers = 2;
  assert_int_equal(wif_jwks_cache_freshness(&r), 900);
  assert_int_equal(wif_jwks_cache_freshness(NULL), 3600);
}

static void test_fresh_until_follows_max_age(void **state) {
  struct fx *f = *state;
  struct wif_jwks_cache *c = new_cache(f, f->cache);
  struct wif_jwks_cache_entry e;
  struct wif_error err;

  f->fake.cache_control = "max-age=600";
  assert_int_equal(wif_jwks_cache_fetch(c, main_p(f), &err), WIF_OK);
  assert_int_equal(wif_jwks_cache_read(c, main_p(f), &e, &err), WIF_OK);
  assert_int_equal(e.fetched_at, T0);
  assert_int_equal(e.fresh_until, T0 + 600);
  assert_string_equal(e.source, "https://keys.example.test/jwks");
  assert_non_null(e.path);
  wif_jwks_cache_entry_clear(&e);
  wif_jwks_cache_free(c);
  f->fake.calls = 0;
  f->now = T0 + 599;
  assert_int_equal(load_once(f, false), WIF_OK);
  assert_int_equal(f->fake.calls, 0);
  f->now = T0 + 600;
  assert_int_equal(load_once(f, false), WIF_OK);
  assert_int_equal(f->fake.jwks_calls, 2);
}

/* ---- rotation and the refresh rate limit ---- */

static char *token(const char *kid, const char *alg) {
  return wif_test_signf(kid, alg,
                        "{\"iss\":\"" ISS "\",\"aud\":\"" AUD
                        "\",\"sub\":\"alice\",\"iat\":%lld,\"exp\":%lld}",
                        (long long)T0, (long long)(T0 + 600));
}

static wif_rc validate_at(struct fx *f, struct wif_jwks_cache *c,
                          const char *tok, int64_t now) {
  struct wif_validator *v = wif_validator_new(f->cfg, geteuid(), &f->sink);
  struct wif_result r;
  struct wif_error err;
  wif_rc rc;

  assert_non_null(v);
  wif_validator_set_loader(v, wif_jwks_cache_loader, c);
  f->now = now;
  rc = wif_validate(v, tok, strlen(tok), T0 + 10, &r, &err);
  wif_result_clear(&r);
  wif_validator_free(v);
  return rc;
}

/* J9: a new kid verifies after exactly one refetch. */
static void test_rotation_one_refetch(void **state) {
  struct fx *f = *state;
  struct wif_jwks_cache *c = new_cache(f, f->cache);
  char *old_tok = token("rs256", "RS256");
  char *new_tok = token("es256", "ES256");

  assert_int_equal(validate_at(f, c, old_tok, T0), WIF_OK);
  assert_int_equal(f->fake.jwks_calls, 1);
  wif_jwks_cache_free(c);
  publish(&f->fake, "rs256,es256");
  /* Another process, two minutes later, sees a token with the new kid. */
  c = new_cache(f, f->cache);
  assert_int_equal(validate_at(f, c, new_tok, T0 + 120), WIF_OK);
  assert_int_equal(f->fake.jwks_calls, 2);
  wif_jwks_cache_free(c);
  /* And the next process finds it on disk. */
  c = new_cache(f, f->cache);
  assert_int_equal(validate_at(f, c, new_tok, T0 + 130), WIF_OK);
  assert_int_equal(f->fake.jwks_calls, 2);
  wif_jwks_cache_free(c);
  free(old_tok);
  free(new_tok);
}

/* J10: a flood of unknown kids costs at most one fetch a minute, across
 * processes, and a just-made fetch counts. */
static void test_unknown_kid_flood(void **state) {
  struct fx *f = *state;
  char *bogus = token("es256", "ES256"); /* not published */

  for (int64_t t = T0; t < T0 + 600; t += 5) {
    struct wif_jwks_cache *c = new_cache(f, f->cache);

    assert_int_equal(validate_at(f, c, bogus, t), WIF_E_KEY_NOT_FOUND);
    wif_jwks_cache_free(c);
  }
  /* 120 attempts over ten minutes: one fetch per minute at most. */
  assert_true(f->fake.jwks_calls >= 5);
  assert_true(f->fake.jwks_calls <= 10);
  free(bogus);
}

/* A new process that loads, then asks for a refresh (unknown kid). */
static void refresh_once(struct fx *f, const struct wif_provider *p) {
  struct wif_jwks_cache *c = new_cache(f, f->cache);
  struct wif_jwks *keys = NULL;

  assert_int_equal(load(c, p, false, &keys), WIF_OK);
  assert_int_equal(load(c, p, true, &keys), WIF_OK);
  assert_non_null(keys);
  wif_jwks_cache_free(c);
}

/* J10: failed fetches start the minute too. */
static void test_failed_refresh_counts(void **state) {
  struct fx *f = *state;
  const struct wif_provider *p = &f->cfg->providers[2]; /* jwks_uri */

  refresh_once(f, p); /* the first fetch starts the minute */
  assert_int_equal(f->fake.calls, 1);
  f->fake.fail = WIF_E_UNAVAILABLE;
  f->now = T0 + 100;
  refresh_once(f, p); /* fetch fails, the cached keys stay */
  assert_int_equal(f->fake.calls, 2);
  f->now = T0 + 130;
  refresh_once(f, p);
  assert_int_equal(f->fake.calls, 2);
  f->now = T0 + 161;
  refresh_once(f, p);
  assert_int_equal(f->fake.calls, 3);
}

/* I12: a recorded fetch time in the future does not block refreshes. */
static void test_future_attempt_ignored(void **state) {
  struct fx *f = *state;
  char *lock;
  int fd;

  plant(f, T0 - 100, T0 + 3000, f->fake.jwks_text);
  lock = lock_file(f, main_p(f));
  fd = open(lock, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, "9999999999\n", 11), 11);
  close(fd);
  /* Refresh (unknown kid) within the freshness: the fetch happens. */
  assert_int_equal(load_once(f, false), WIF_OK);
  assert_int_equal(f->fake.calls, 0);
  {
    struct wif_jwks_cache *c = new_cache(f, f->cache);
    struct wif_jwks *keys = NULL;
    assert_int_equal(load(c, main_p(f), false, &keys), WIF_OK);
    assert_int_equal(load(c, main_p(f), true, &keys), WIF_OK);
    wif_jwks_cache_free(c);
  }
  assert_int_equal(f->fake.jwks_calls, 1);
  free(lock);
}

/* Sets replaced by a refresh stay valid for the validator (validate.h). */
static void test_old_sets_stay_alive(void **state) {
  struct fx *f = *state;
  struct wif_jwks_cache *c = new_cache(f, f->cache);
  struct wif_jwks *a = NULL, *b = NULL;

  assert_int_equal(load(c, main_p(f), false, &a), WIF_OK);
  publish(&f->fake, "es256");
  f->now = T0 + 61;
  assert_int_equal(load(c, main_p(f), true, &b), WIF_OK);
  assert_ptr_not_equal(a, b);
  assert_non_null(wif_jwks_find(a, "rs256", 5));
  assert_null(wif_jwks_find(b, "rs256", 5));
  assert_non_null(wif_jwks_find(b, "es256", 5));
  wif_jwks_cache_free(c);
}

/* ---- the issuer unreachable ---- */

/* J13: stale keys serve for 24 h past freshness with a warning, then
 * "unavailable" (PAM_AUTHINFO_UNAVAIL through its class). */
static void test_stale_if_error(void **state) {
  struct fx *f = *state;

  plant(f, T0 - 3600, T0, f->fake.jwks_text);
  f->fake.fail = WIF_E_UNAVAILABLE;
  f->now = T0 + 10;
  assert_int_equal(load_once(f, false), WIF_OK);
  assert_int_equal(f->fake.calls, 1);
  assert_int_equal(f->log.warnings, 1);
  assert_non_null(strstr(f->log.text, "past their freshness"));
  assert_non_null(strstr(f->log.text, "scripted failure"));
  /* Within the minute: no new attempt, still served, still warned. */
  f->now = T0 + 40;
  assert_int_equal(load_once(f, false), WIF_OK);
  assert_int_equal(f->fake.calls, 1);
  assert_int_equal(f->log.warnings, 2);
  /* Then a new attempt. */
  f->now = T0 + 100;
  assert_int_equal(load_once(f, false), WIF_OK);
  assert_int_equal(f->fake.calls, 2);
  /* The last second of the stale window, then past it. */
  f->now = T0 + WIF_JWKS_STALE_MAX - 1;
  assert_int_equal(load_once(f, false), WIF_OK);
  f->now = T0 + WIF_JWKS_STALE_MAX;
  assert_int_equal(load_once(f, false), WIF_E_JWKS_UNAVAILABLE);
  assert_int_equal(wif_rc_classify(WIF_E_JWKS_UNAVAILABLE),
                   WIF_CLASS_UNAVAILABLE);
  /* Even within a minute of a failure: nothing to serve, so it tries. */
  f->fake.calls = 0;
  f->now += 10;
  assert_int_equal(load_once(f, false), WIF_E_JWKS_UNAVAILABLE);
  assert_int_equal(f->fake.calls, 1);
}

static void test_no_cache_unavailable(void **state) {
  struct fx *f = *state;
  struct wif_jwks_cache *c = new_cache(f, f->cache);
  struct wif_jwks *keys = (struct wif_jwks *)1;
  struct wif_error err;

  f->fake.fail = WIF_E_UNAVAILABLE;
  assert_int_equal(wif_jwks_cache_loader(c, main_p(f), false, &keys, &err),
                   WIF_E_JWKS_UNAVAILABLE);
  assert_null(keys);
  assert_non_null(strstr(err.msg, "provider \"main\""));
  assert_non_null(strstr(err.msg, "scripted failure"));
  wif_jwks_cache_free(c);
}

/* ---- bad responses never replace a good cache (J7, J8, J17) ---- */

struct bad_case {
  const char *name;
  wif_rc fail;
  long status;
  const char *jwks;
  const char *disc;
  const char *why;
};

static void test_bad_responses_keep_cache(void **state) {
  struct fx *f = *state;
  static const struct bad_case cases[] = {
      {"500", WIF_OK, 500, NULL, NULL, "HTTP status 500"},
      {"404", WIF_OK, 404, NULL, NULL, "HTTP status 404"},
      {"302", WIF_OK, 302, NULL, NULL, "HTTP status 302"},
      {"garbage", WIF_OK, 0, "\x01garbage{{", NULL, "not a usable key set"},
      {"html", WIF_OK, 0, "<html>sign in</html>", NULL, "not a usable key set"},
      {"empty", WIF_OK, 0, "", NULL, "not a usable key set"},
      {"{}", WIF_OK, 0, "{}", NULL, "not a usable key set"},
      {"no keys", WIF_OK, 0, "{\"keys\":[]}", NULL, "not a usable key set"},
      {"oct", WIF_OK, 0, "{\"keys\":[{\"kty\":\"oct\",\"k\":\"AAAA\"}]}", NULL,
       "not a usable key set"},
      {"too large", WIF_E_TOO_LARGE, 0, NULL, NULL, "scripted failure"},
      {"down", WIF_E_UNAVAILABLE, 0, NULL, NULL, "scripted failure"},
      {"wrong issuer", WIF_OK, 0, NULL,
       "{\"issuer\":\"https://evil.test\",\"jwks_uri\":\"https://k/\"}",
       "not the configured one"},
      {"http jwks_uri", WIF_OK, 0, NULL,
       "{\"issuer\":\"" ISS "\",\"jwks_uri\":\"http://k/jwks\"}",
       "not an https:// URL"},
  };
  struct wif_jwks_cache *c = new_cache(f, f->cache);
  struct wif_jwks *keys = NULL;
  char *path = cache_file(f, main_p(f));
  char *good;
  size_t good_len;

  assert_int_equal(load(c, main_p(f), false, &keys), WIF_OK);
  wif_jwks_cache_free(c);
  good = slurp(path, &good_len);
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const struct bad_case *k = &cases[i];
    struct wif_error err;
    char *now_text;
    size_t now_len;

    f->fake.fail = k->fail;
    f->fake.status = k->status;
    f->fake.jwks = k->jwks;
    f->fake.disc_body = k->disc;
    c = new_cache(f, f->cache);
    assert_int_equal(wif_jwks_cache_fetch(c, main_p(f), &err),
                     WIF_E_JWKS_UNAVAILABLE);
    if (strstr(err.msg, k->why) == NULL)
      fail_msg("%s: \"%s\" not in \"%s\"", k->name, k->why, err.msg);
    /* The login path still gets the good keys (fresh, from disk). */
    keys = NULL;
    assert_int_equal(load(c, main_p(f), false, &keys), WIF_OK);
    assert_non_null(wif_jwks_find(keys, "rs256", 5));
    wif_jwks_cache_free(c);
    now_text = slurp(path, &now_len);
    assert_int_equal(now_len, good_len);
    assert_memory_equal(now_text, good, good_len);
    free(now_text);
  }
  free(good);
  free(path);
}

/* ---- the cache file ---- */

/* I5, I6, I11, I12: broken files are ignored and replaced. */
static void test_corrupt_cache_replaced(void **state) {
  struct fx *f = *state;
  char *path = cache_file(f, main_p(f));
  char *good;
  size_t good_len;
  int cases = 0;

  plant(f, T0 - 10, T0 + 3600, f->fake.jwks_text);
  good = slurp(path, &good_len);
  for (int k = 0; k < 11; k++) {
    int fd;
    char *text = NULL;
    size_t len = 0;
    struct wif_error err;
    struct stat st;

    (void)unlink(path);
    switch (k) {
    case 0: /* truncated mid-write */
    case 1: /* empty */
      fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
      assert_true(fd >= 0);
      assert_int_equal(write(fd, good, k == 0 ? good_len / 2 : 0),
                       (ssize_t)(k == 0 ? good_len / 2 : 0));
      close(fd);
      break;
    case 2: /* not JSON at all */
      assert_int_equal(
          wif_file_write_atomic(path, "\xff\xfe garbage", 10, 0600, &err),
          WIF_OK);
      break;
    case 3: /* I11: huge and sparse */
      fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
      assert_true(fd >= 0);
      assert_int_equal(ftruncate(fd, (off_t)1 << 30), 0);
      close(fd);
      break;
    case 4: /* I4: a FIFO never blocks the login */
      assert_int_equal(mkfifo(path, 0600), 0);
      break;
    case 5: /* a symlink to a good-looking file */
    {
      char target[700];
      snprintf(target, sizeof(target), "%s/elsewhere.json", f->dir);
      assert_int_equal(
          wif_file_write_atomic(target, good, good_len, 0600, &err), WIF_OK);
      assert_int_equal(symlink(target, path), 0);
      break;
    }
    case 6: /* readable by others is fine, writable is not (I6) */
      assert_int_equal(wif_file_write_atomic(path, good, good_len, 0602, &err),
                       WIF_OK);
      break;
    case 7: /* I12: fetched in the future */
      assert_int_equal(
          wif_jwks_store_encode(main_p(f), "https://k.test/jwks", T0 + 100,
                                T0 + 3700, f->fake.jwks_text,
                                strlen(f->fake.jwks_text), &text, &len, &err),
          WIF_OK);
      break;
    case 8: /* freshness longer than the 24 h clamp: tampered */
      assert_int_equal(
          wif_jwks_store_encode(main_p(f), "https://k.test/jwks", T0 - 10,
                                T0 + 200000, f->fake.jwks_text,
                                strlen(f->fake.jwks_text), &text, &len, &err),
          WIF_OK);
      break;
    case 9: /* I6: an attacker's key set in the right place for another
               provider's name */
      assert_int_equal(
          wif_jwks_store_encode(&f->cfg->providers[2], "https://k.test/jwks",
                                T0 - 10, T0 + 3600, f->fake.jwks_text,
                                strlen(f->fake.jwks_text), &text, &len, &err),
          WIF_OK);
      break;
    case 10: /* a key set that breaks the key policy */
    {
      static const char oct[] = "{\"keys\":[{\"kty\":\"oct\",\"k\":\"AA\"}]}";
      assert_int_equal(wif_jwks_store_encode(main_p(f), "https://k.test/jwks",
                                             T0 - 10, T0 + 3600, oct,
                                             strlen(oct), &text, &len, &err),
                       WIF_OK);
      break;
    }
    }
    if (text != NULL) {
      assert_int_equal(wif_file_write_atomic(path, text, len, 0600, &err),
                       WIF_OK);
      free(text);
    }
    f->fake.calls = 0;
    f->log.warnings = 0;
    assert_int_equal(load_once(f, false), WIF_OK);
    if (f->fake.jwks_calls == 0 && f->fake.calls == 0)
      fail_msg("case %d: the broken file was trusted", k);
    assert_true(f->fake.calls >= 1);
    if (k != 7)
      assert_true(f->log.warnings >= 1);
    /* Replaced by a good regular file. */
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_true(st.st_size > 0 && st.st_size < 100000);
    cases++;
  }
  assert_int_equal(cases, 11);
  free(good);
  free(path);
}

static void test_store_roundtrip(void **state) {
  struct fx *f = *state;
  struct wif_jwks_cache_entry e;
  struct wif_error err;
  char *text = NULL;
  size_t len = 0;
  /* Escapes of every kind survive the round trip. */
  static const char jwks_ws[] = "{\"keys\" :\n\t[ ]}";

  assert_int_equal(wif_jwks_store_encode(main_p(f), "https://k.test/jwks", T0,
                                         T0 + 300, f->fake.jwks_text,
                                         strlen(f->fake.jwks_text), &text, &len,
                                         &err),
                   WIF_OK);
  assert_int_equal(wif_jwks_store_decode(text, len, main_p(f), &e, &err),
                   WIF_OK);
  assert_int_equal(e.fetched_at, T0);
  assert_int_equal(e.fresh_until, T0 + 300);
  assert_string_equal(e.source, "https://k.test/jwks");
  assert_non_null(wif_jwks_find(e.keys, "rs256", 5));
  wif_jwks_cache_entry_clear(&e);
  wif_jwks_cache_entry_clear(&e);
  free(text);
  /* fresh_until - fetched_at below the 5-minute floor is refused. */
  assert_int_equal(wif_jwks_store_encode(main_p(f), "https://k.test/jwks", T0,
                                         T0 + 299, f->fake.jwks_text,
                                         strlen(f->fake.jwks_text), &text, &len,
                                         &err),
                   WIF_OK);
  assert_int_equal(wif_jwks_store_decode(text, len, main_p(f), &e, &err),
                   WIF_E_MALFORMED);
  assert_null(e.keys);
  free(text);
  /* Whitespace in the JWKS text is escaped. */
  assert_int_equal(wif_jwks_store_encode(main_p(f), "https://k.test/jwks", T0,
                                         T0 + 300, jwks_ws, strlen(jwks_ws),
                                         &text, &len, &err),
                   WIF_OK);
  assert_null(memchr(text, '\t', len));
  /* JSON whitespace takes the two-byte escapes: no byte grows past two. */
  assert_non_null(strstr(text, "\"{\\\"keys\\\" :\\n\\t[ ]}\""));
  /* An empty set passes the file format but not wif_jwks_parse. */
  assert_int_equal(wif_jwks_store_decode(text, len, main_p(f), &e, &err),
                   WIF_E_JWKS_INVALID);
  free(text);
  assert_int_equal(
      wif_jwks_store_decode("{\"version\":2}", 13, main_p(f), &e, &err),
      WIF_E_MALFORMED);
}

/* I10: a cache directory that cannot be used still lets logins validate,
 * fetching each time, and says why. */
static void test_unusable_dir(void **state) {
  struct fx *f = *state;
  char bad[800];
  char file[700];
  struct wif_error err;

  snprintf(file, sizeof(file), "%s/plainfile", f->dir);
  assert_int_equal(wif_file_write_atomic(file, "x", 1, 0600, &err), WIF_OK);
  snprintf(bad, sizeof(bad), "%s/sub", file);
  for (int i = 0; i < 2; i++) {
    struct wif_jwks_cache *c = new_cache(f, bad);
    struct wif_jwks *keys = NULL;

    assert_int_equal(load(c, main_p(f), false, &keys), WIF_OK);
    wif_jwks_cache_free(c);
  }
  assert_int_equal(f->fake.jwks_calls, 2);
  assert_non_null(strstr(f->log.text, "plainfile"));
  assert_non_null(strstr(f->log.text, "Not a directory"));
  assert_non_null(strstr(f->log.text, "keys are not cached"));

  /* A directory others can write is a configuration fault, refused
   * (N8), not a degradation: whoever writes it could plant keys. */
  snprintf(bad, sizeof(bad), "%s/open", f->dir);
  assert_int_equal(mkdir(bad, 0700), 0);
  assert_int_equal(chmod(bad, 0770), 0);
  {
    struct wif_jwks_cache *c = new_cache(f, bad);
    struct wif_jwks *keys = NULL;

    assert_int_equal(wif_jwks_cache_loader(c, main_p(f), false, &keys, &err),
                     WIF_E_CONFIG_INSECURE);
    assert_non_null(strstr(err.msg, "group or others"));
    wif_jwks_cache_free(c);
  }
  /* So is a private directory below one that others can write. */
  snprintf(file, sizeof(file), "%s/open/private", f->dir);
  assert_int_equal(mkdir(file, 0700), 0);
  {
    struct wif_jwks_cache *c = new_cache(f, file);
    struct wif_jwks *keys = NULL;

    assert_int_equal(wif_jwks_cache_loader(c, main_p(f), false, &keys, &err),
                     WIF_E_CONFIG_INSECURE);
    assert_non_null(strstr(err.msg, "group or others can write it"));
    wif_jwks_cache_free(c);
  }
  assert_int_equal(f->fake.jwks_calls, 2);

  /* No directory at all: memory only, silently. */
  {
    struct wif_jwks_cache *c = new_cache(f, NULL);
    struct wif_jwks *keys = NULL;
    struct wif_jwks_cache_entry e;

    assert_int_equal(load(c, main_p(f), false, &keys), WIF_OK);
    assert_int_equal(load(c, main_p(f), false, &keys), WIF_OK);
    assert_int_equal(f->fake.jwks_calls, 3);
    assert_int_equal(wif_jwks_cache_read(c, main_p(f), &e, &err),
                     WIF_E_JWKS_UNAVAILABLE);
    wif_jwks_cache_free(c);
  }
}

/* I4: a FIFO where the lock file belongs neither blocks nor breaks. */
static void test_lock_fifo(void **state) {
  struct fx *f = *state;
  char *lock = lock_file(f, main_p(f));

  assert_int_equal(mkdir(f->cache, 0700), 0);
  assert_int_equal(mkfifo(lock, 0600), 0);
  assert_int_equal(load_once(f, false), WIF_OK);
  assert_int_equal(f->fake.jwks_calls, 1);
  free(lock);
}

/* I8: 50 processes find the cache stale at once: one fetch. */
static void test_concurrent_stale_one_fetch(void **state) {
  struct fx *f = *state;
  atomic_int *shared;
  pid_t pids[50];
  int ok = 0;

  plant(f, T0 - 7200, T0 - 3600, f->fake.jwks_text);
  shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
                MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  assert_true(shared != MAP_FAILED);
  atomic_store(shared, 0);
  f->fake.shared = shared;
  f->fake.delay_ms = 200;
  publish(&f->fake, "rs256,es256");
  /* A waiter gives up on the lock after http_timeout + 2 s and fetches
   * itself: by design, but 50 processes under valgrind on a loaded
   * machine can take that long to read the new set in turn. The longest
   * timeout keeps this test about the lock, not the machine's speed. */
  f->cfg->http_timeout = 60;
  for (int i = 0; i < 50; i++) {
    pids[i] = fork();
    assert_true(pids[i] >= 0);
    if (pids[i] == 0) {
      struct wif_jwks_cache *c = new_cache(f, f->cache);
      struct wif_jwks *keys = NULL;
      struct wif_error err;
      wif_rc rc = wif_jwks_cache_loader(c, main_p(f), false, &keys, &err);
      int code = rc == WIF_OK && wif_jwks_find(keys, "es256", 5) != NULL;

      /* Freed so that leak checkers see a clean child too. */
      wif_jwks_cache_free(c);
      wif_config_free(f->cfg);
      free(f);
      _exit(code ? 0 : 1);
    }
  }
  for (int i = 0; i < 50; i++) {
    int st;

    assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
      ok++;
  }
  /* Discovery + JWKS of a single fetch. */
  assert_int_equal(atomic_load(shared), 2);
  assert_int_equal(ok, 50);
  munmap(shared, sizeof(*shared));
}

/* ---- revoke ---- */

static void test_revoke(void **state) {
  struct fx *f = *state;
  struct wif_jwks_cache *c;
  struct wif_jwks_cache_entry e;
  struct wif_error err;
  char *old_tok = token("rs256", "RS256");

  publish(&f->fake, "rs256,es256");
  c = new_cache(f, f->cache);
  assert_int_equal(validate_at(f, c, old_tok, T0), WIF_OK);
  wif_jwks_cache_free(c);
  /* The IdP drops rs256 (leaked); the cache is still fresh. */
  publish(&f->fake, "es256");
  c = new_cache(f, f->cache);
  assert_int_equal(validate_at(f, c, old_tok, T0 + 10), WIF_OK);
  wif_jwks_cache_free(c);
  c = new_cache(f, f->cache);
  assert_int_equal(wif_jwks_cache_revoke(c, main_p(f), &err), WIF_OK);
  assert_non_null(strstr(f->log.text, "revoked"));
  assert_int_equal(wif_jwks_cache_read(c, main_p(f), &e, &err), WIF_OK);
  assert_null(wif_jwks_find(e.keys, "rs256", 5));
  wif_jwks_cache_entry_clear(&e);
  wif_jwks_cache_free(c);
  c = new_cache(f, f->cache);
  assert_int_equal(validate_at(f, c, old_tok, T0 + 20), WIF_E_KEY_NOT_FOUND);
  wif_jwks_cache_free(c);

  /* Revoking while the IdP is down leaves nothing to serve. */
  f->fake.fail = WIF_E_UNAVAILABLE;
  c = new_cache(f, f->cache);
  assert_int_equal(wif_jwks_cache_revoke(c, main_p(f), &err),
                   WIF_E_JWKS_UNAVAILABLE);
  wif_jwks_cache_free(c);
  assert_int_equal(load_once(f, false), WIF_E_JWKS_UNAVAILABLE);
  free(old_tok);
}

static void test_bad_calls(void **state) {
  struct fx *f = *state;
  struct wif_jwks *keys = NULL;
  struct wif_error err;
  struct wif_provider other;

  memset(&other, 0, sizeof(other));
  assert_null(wif_jwks_cache_new(NULL, NULL, 0, NULL));
  wif_jwks_cache_free(NULL);
  wif_jwks_cache_set_clock(NULL, NULL, NULL);
  wif_jwks_cache_set_transport(NULL, NULL, NULL);
  wif_jwks_cache_entry_clear(NULL);
  assert_int_equal(wif_jwks_cache_loader(NULL, main_p(f), false, &keys, &err),
                   WIF_E_INTERNAL);
  {
    struct wif_jwks_cache *c = new_cache(f, f->cache);
    assert_int_equal(wif_jwks_cache_loader(c, &other, false, &keys, &err),
                     WIF_E_INTERNAL);
    assert_int_equal(wif_jwks_cache_fetch(c, NULL, &err), WIF_E_INTERNAL);
    assert_int_equal(wif_jwks_cache_revoke(c, NULL, &err), WIF_E_INTERNAL);
    wif_jwks_cache_free(c);
  }
  assert_int_equal(f->fake.calls, 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(test_warm_cache_no_network),
      T(test_cold_cache_discovery),
      T(test_discovery_no_double_slash),
      T(test_jwks_uri_skips_discovery),
      T(test_jwks_file_no_network),
      cmocka_unit_test(test_freshness),
      T(test_fresh_until_follows_max_age),
      T(test_rotation_one_refetch),
      T(test_unknown_kid_flood),
      T(test_failed_refresh_counts),
      T(test_future_attempt_ignored),
      T(test_old_sets_stay_alive),
      T(test_stale_if_error),
      T(test_no_cache_unavailable),
      T(test_bad_responses_keep_cache),
      T(test_corrupt_cache_replaced),
      T(test_store_roundtrip),
      T(test_unusable_dir),
      T(test_lock_fifo),
      T(test_concurrent_stale_one_fetch),
      T(test_revoke),
      T(test_bad_calls),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
