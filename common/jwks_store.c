/* SPDX-License-Identifier: Apache-2.0 */
/* The JWKS cache on disk: file names, the file format, the lock file. */
#include "jwks_store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "clock.h"
#include "discovery.h"
#include "dynbuf.h"
#include "file.h"
#include "json.h"
#include "log.h"
#include "text.h"

#define STORE_VERSION 1
#define HASH_DOMAIN "pam_wif jwks cache v1\n"
#define ATTEMPT_MAX 1024 /* the recorded time and the last failure */
#define ATTEMPT_FAILED " failed: "

void wif_jwks_cache_entry_clear(struct wif_jwks_cache_entry *e) {
  if (e == NULL)
    return;
  wif_jwks_free(e->keys);
  free(e->source);
  free(e->path);
  free(e->text);
  memset(e, 0, sizeof(*e));
}

static const char *uri_or_empty(const struct wif_provider *p) {
  return p->jwks_uri != NULL ? p->jwks_uri : "";
}

wif_rc wif_jwks_store_paths(const char *dir, const struct wif_provider *p,
                            char **out_cache, char **out_lock,
                            struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;
  EVP_MD_CTX *md = NULL;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int dlen = 0;
  char hex[2 * EVP_MAX_MD_SIZE + 1];
  const char *uri;

  *out_cache = NULL;
  *out_lock = NULL;
  if (dir == NULL || p == NULL || p->issuer == NULL) {
    rc = wif_error_set(err, WIF_E_INTERNAL, "wif_jwks_store_paths: bad call");
    goto out;
  }
  /* URLs hold no control characters, so "\n" separates unambiguously. */
  uri = uri_or_empty(p);
  if ((md = EVP_MD_CTX_new()) == NULL ||
      EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
      EVP_DigestUpdate(md, HASH_DOMAIN, strlen(HASH_DOMAIN)) != 1 ||
      EVP_DigestUpdate(md, p->issuer, strlen(p->issuer)) != 1 ||
      EVP_DigestUpdate(md, "\n", 1) != 1 ||
      EVP_DigestUpdate(md, uri, strlen(uri)) != 1 ||
      EVP_DigestFinal_ex(md, digest, &dlen) != 1) {
    rc = wif_error_set(err, WIF_E_NOMEM, "cannot hash the provider's name");
    goto out;
  }
  wif_text_hex(digest, dlen, hex);
  rc = wif_file_cache_paths(dir, hex, ".json", ".lock", out_cache, out_lock,
                            err);
out:
  EVP_MD_CTX_free(md);
  return rc;
}

/*
 * A JSON string literal. wif_jwks_parse accepted the text, so the only
 * control characters in it are JSON whitespace; those take the two-byte
 * escapes, so that no byte grows past two (WIF_JWKS_STORE_FILE_MAX).
 * Bytes >= 0x80 are copied (valid UTF-8 in).
 */
static void add_json_string(struct wif_dynbuf *b, const char *s, size_t n) {
  size_t run = 0;

  (void)wif_dynbuf_add(b, "\"", 1);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];

    if (c >= 0x20 && c != '"' && c != '\\') {
      run++;
      continue;
    }
    (void)wif_dynbuf_add(b, s + i - run, run);
    run = 0;
    if (c == '"' || c == '\\')
      (void)wif_dynbuf_addf(b, "\\%c", c);
    else if (c == '\n')
      (void)wif_dynbuf_add(b, "\\n", 2);
    else if (c == '\r')
      (void)wif_dynbuf_add(b, "\\r", 2);
    else if (c == '\t')
      (void)wif_dynbuf_add(b, "\\t", 2);
    else
      (void)wif_dynbuf_addf(b, "\\u%04x", c);
  }
  (void)wif_dynbuf_add(b, s + n - run, run);
  (void)wif_dynbuf_add(b, "\"", 1);
}

wif_rc wif_jwks_store_encode(const struct wif_provider *p, const char *source,
                             int64_t fetched_at, int64_t fresh_until,
                             const char *jwks, size_t jwks_len, char **out,
                             size_t *out_len, struct wif_error *err) {
  struct wif_dynbuf b;
  wif_rc rc;

  *out = NULL;
  *out_len = 0;
  /* The reader's limit: a file it would refuse is never written. */
  wif_dynbuf_init(&b, WIF_JWKS_STORE_FILE_MAX, false);
  (void)wif_dynbuf_addf(&b, "{\"version\":%d,\"issuer\":", STORE_VERSION);
  add_json_string(&b, p->issuer, strlen(p->issuer));
  (void)wif_dynbuf_add_str(&b, ",\"jwks_uri\":");
  add_json_string(&b, uri_or_empty(p), strlen(uri_or_empty(p)));
  (void)wif_dynbuf_add_str(&b, ",\"source\":");
  add_json_string(&b, source, strlen(source));
  (void)wif_dynbuf_addf(
      &b, ",\"fetched_at\":%" PRId64 ",\"fresh_until\":%" PRId64 ",\"jwks\":",
      fetched_at, fresh_until);
  add_json_string(&b, jwks, jwks_len);
  (void)wif_dynbuf_add_str(&b, "}\n");
  rc = wif_dynbuf_take(&b, out, out_len);
  if (rc == WIF_E_TOO_LARGE)
    return wif_error_set(err, rc, "the cache file would pass %zu bytes",
                         (size_t)WIF_JWKS_STORE_FILE_MAX);
  if (rc != WIF_OK)
    return wif_error_set(err, WIF_E_NOMEM, "out of memory");
  return WIF_OK;
}

static bool get_string(const struct wif_json_doc *doc,
                       const struct wif_json *root, const char *name,
                       const char **s, size_t *len) {
  const struct wif_json *v = wif_json_get(doc, root, name);

  return v != NULL && wif_json_string(v, s, len);
}

static bool get_int(const struct wif_json_doc *doc, const struct wif_json *root,
                    const char *name, int64_t *out) {
  const struct wif_json *v = wif_json_get(doc, root, name);

  return v != NULL && wif_json_int64(v, out);
}

static bool same(const char *s, size_t len, const char *want) {
  return len == strlen(want) && memcmp(s, want, len) == 0;
}

wif_rc wif_jwks_store_decode(const char *text, size_t len,
                             const struct wif_provider *p,
                             struct wif_jwks_cache_entry *out,
                             struct wif_error *err) {
  wif_rc rc = WIF_E_MALFORMED;
  struct wif_json_doc *doc = NULL;
  const struct wif_json *root;
  struct wif_jwks_cache_entry e;
  struct wif_error perr;
  int64_t version = 0;
  const char *s;
  size_t slen;

  memset(&e, 0, sizeof(e));
  if (out != NULL)
    memset(out, 0, sizeof(*out));
  if (text == NULL || p == NULL || out == NULL) {
    rc = wif_error_set(err, WIF_E_INTERNAL, "wif_jwks_store_decode: bad call");
    goto out;
  }
  wif_error_clear(&perr);
  rc = wif_json_parse(text, len, 1, &doc, &perr);
  if (rc != WIF_OK) {
    rc = wif_error_set(err, rc == WIF_E_NOMEM ? rc : WIF_E_MALFORMED,
                       "not valid JSON: %s", perr.msg);
    goto out;
  }
  rc = WIF_E_MALFORMED;
  root = wif_json_root(doc);
  if (root->type != WIF_JSON_OBJECT ||
      !get_int(doc, root, "version", &version) || version != STORE_VERSION) {
    wif_error_set(err, rc, "not a version %d cache file", STORE_VERSION);
    goto out;
  }
  /* A file copied from another provider's name must not be trusted. */
  if (!get_string(doc, root, "issuer", &s, &slen) ||
      !same(s, slen, p->issuer) ||
      !get_string(doc, root, "jwks_uri", &s, &slen) ||
      !same(s, slen, uri_or_empty(p))) {
    wif_error_set(err, rc, "written for another issuer or jwks_uri");
    goto out;
  }
  if (!get_int(doc, root, "fetched_at", &e.fetched_at) ||
      !get_int(doc, root, "fresh_until", &e.fresh_until) || e.fetched_at <= 0 ||
      e.fresh_until > INT64_MAX - WIF_JWKS_STALE_MAX ||
      e.fetched_at > e.fresh_until - WIF_JWKS_FRESH_MIN ||
      e.fresh_until - e.fetched_at > WIF_JWKS_FRESH_MAX) {
    wif_error_set(err, rc, "bad fetched_at or fresh_until");
    goto out;
  }
  if (!get_string(doc, root, "source", &s, &slen) ||
      !wif_discovery_https_url(s, slen)) {
    wif_error_set(err, rc, "bad source URL");
    goto out;
  }
  if ((e.source = strndup(s, slen)) == NULL) {
    rc = wif_error_set(err, WIF_E_NOMEM, "out of memory");
    goto out;
  }
  if (!get_string(doc, root, "jwks", &s, &slen) || slen > WIF_JWKS_SIZE_MAX) {
    wif_error_set(err, rc, "no key set");
    goto out;
  }
  /* Re-checked on every load under today's key policy; skipped keys
   * were logged when the set was fetched. */
  rc = wif_jwks_parse(s, slen, NULL, &e.keys, &perr);
  if (rc != WIF_OK) {
    wif_error_set(err, rc, "the key set is unusable: %s", perr.msg);
    goto out;
  }
  if ((e.text = strndup(s, slen)) == NULL) {
    rc = wif_error_set(err, WIF_E_NOMEM, "out of memory");
    goto out;
  }
  e.text_len = slen;
  *out = e;
  memset(&e, 0, sizeof(e));
  rc = WIF_OK;
out:
  wif_jwks_cache_entry_clear(&e);
  wif_json_free(doc);
  return rc;
}

wif_rc wif_jwks_store_read(const char *path, uid_t owner,
                           const struct wif_provider *p,
                           struct wif_jwks_cache_entry *out,
                           struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;
  struct stat st;
  struct wif_error ferr;
  char *text = NULL;
  size_t len = 0;

  if (out != NULL)
    memset(out, 0, sizeof(*out));
  if (path == NULL || out == NULL) {
    rc = wif_error_set(err, WIF_E_INTERNAL, "wif_jwks_store_read: bad call");
    goto out;
  }
  /* Only to tell a plain miss from a broken file; the read below checks
   * the file itself on its descriptor. */
  if (lstat(path, &st) != 0 && errno == ENOENT) {
    rc = wif_error_set(err, WIF_E_KEY_NOT_FOUND, "%s: not cached", path);
    goto out;
  }
  wif_error_clear(&ferr);
  rc = wif_file_read_trusted(path, owner, WIF_JWKS_STORE_FILE_MAX, &text, &len,
                             &ferr);
  if (rc != WIF_OK) {
    if (rc == WIF_E_KEY_NOT_FOUND)
      rc = WIF_E_SYSTEM;
    wif_error_set(err, rc, "%s", ferr.msg);
    goto out;
  }
  rc = wif_jwks_store_decode(text, len, p, out, &ferr);
  if (rc != WIF_OK) {
    if (rc == WIF_E_KEY_NOT_FOUND)
      rc = WIF_E_MALFORMED;
    wif_error_set(err, rc, "%s: %s", path, ferr.msg);
  }
out:
  wif_file_free_buffer(text, len);
  return rc;
}

bool wif_jwks_store_attempt_get(int fd, int64_t *out, char *why,
                                size_t why_size) {
  char buf[ATTEMPT_MAX];
  ssize_t n;
  char *end;
  char *nl;
  long long v;

  *out = 0;
  if (why_size > 0)
    why[0] = '\0';
  n = pread(fd, buf, sizeof(buf) - 1, 0);
  if (n <= 0)
    return false;
  buf[n] = '\0';
  if ((nl = strchr(buf, '\n')) == NULL || nl[1] != '\0' || buf[0] < '0' ||
      buf[0] > '9')
    return false;
  *nl = '\0';
  errno = 0;
  v = strtoll(buf, &end, 10);
  if (errno != 0 || end == buf || v <= 0)
    return false;
  if (strncmp(end, ATTEMPT_FAILED, strlen(ATTEMPT_FAILED)) == 0)
    wif_log_sanitize(end + strlen(ATTEMPT_FAILED),
                     strlen(end + strlen(ATTEMPT_FAILED)), why, why_size);
  else if (*end != '\0')
    return false;
  *out = (int64_t)v;
  return true;
}

wif_rc wif_jwks_store_attempt_set(int fd, int64_t t, const char *failure,
                                  struct wif_error *err) {
  char buf[ATTEMPT_MAX];
  char shown[ATTEMPT_MAX / 2];
  int n;

  if (failure != NULL)
    wif_log_sanitize(failure, strlen(failure), shown, sizeof(shown));
  n = snprintf(buf, sizeof(buf), "%" PRId64 "%s%s\n", t,
               failure != NULL ? ATTEMPT_FAILED : "",
               failure != NULL ? shown : "");

  if (n <= 0 || (size_t)n >= sizeof(buf))
    return wif_error_set(err, WIF_E_INTERNAL, "bad timestamp");
  if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)n, 0) != (ssize_t)n)
    return wif_error_set(err, WIF_E_SYSTEM, "cannot record the fetch time: %s",
                         strerror(errno));
  return WIF_OK;
}
