/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for jwks_store.c: cache file names, the file format (every
 * field checked on the way back), reading, the lock file and the record
 * of the last fetch attempt in it. */
#include "testutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "jwks_store.h"

#define ISSUER "https://issuer.example/store"
#define JWKS_URI "https://issuer.example/store/jwks"
#define SOURCE "https://keys.example/jwks"
#define T0 WIF_TEST_NOW

struct fx {
  struct wif_provider p;
  char *jwks; /* the generated key set's text */
  size_t jwks_len;
  char *dir;  /* under the build tree: every parent is trusted */
  char *good; /* a valid encoded file for p */
  size_t good_len;
};

static int setup(void **state) {
  struct fx *f = calloc(1, sizeof(*f));
  char *path = wif_test_key_path("jwks.json");
  struct wif_error err;

  assert_non_null(f);
  f->p.name = wif_test_str("store");
  f->p.issuer = wif_test_str(ISSUER);
  f->p.jwks_uri = wif_test_str(JWKS_URI);
  f->jwks = wif_test_read(path, &f->jwks_len);
  free(path);
  assert_int_equal(wif_jwks_store_encode(&f->p, SOURCE, T0, T0 + 3600, f->jwks,
                                         f->jwks_len, &f->good, &f->good_len,
                                         &err),
                   WIF_OK);
  f->dir = wif_test_build_dir("jwks-store", 0700);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fx *f = *state;
  char cmd[1024];

  (void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
  assert_int_equal(system(cmd), 0);
  free(f->dir);
  free(f->good);
  free(f->jwks);
  free(f);
  return 0;
}

/* text with the first `from` replaced by `to`; caller frees. */
static char *replace(const char *text, const char *from, const char *to) {
  const char *at = strstr(text, from);
  size_t n = strlen(text) - strlen(from) + strlen(to) + 1;
  char *s = malloc(n);

  if (at == NULL)
    fail_msg("\"%s\" is not in the encoded file", from);
  assert_non_null(s);
  (void)snprintf(s, n, "%.*s%s%s", (int)(at - text), text, to,
                 at + strlen(from));
  return s;
}

static void test_paths(void **state) {
  struct fx *f = *state;
  struct wif_provider other = f->p;
  char *cache = NULL, *lock = NULL, *cache2 = NULL, *lock2 = NULL;
  const char *base;
  struct wif_error err;

  assert_int_equal(wif_jwks_store_paths("/d", &f->p, &cache, &lock, &err),
                   WIF_OK);
  /* "<dir>/<64 hex>.json" and the same name with ".lock". */
  assert_int_equal(strncmp(cache, "/d/", 3), 0);
  base = cache + 3;
  assert_int_equal(strlen(base), 64 + strlen(".json"));
  assert_int_equal(strspn(base, "0123456789abcdef"), 64);
  assert_string_equal(base + 64, ".json");
  assert_int_equal(strncmp(lock, cache, 3 + 64), 0);
  assert_string_equal(lock + 3 + 64, ".lock");
  /* The same provider always gets the same name... */
  assert_int_equal(wif_jwks_store_paths("/d", &f->p, &cache2, &lock2, &err),
                   WIF_OK);
  assert_string_equal(cache, cache2);
  free(cache2);
  free(lock2);
  /* ...another issuer or jwks_uri another one. */
  other.issuer = wif_test_str(ISSUER "2");
  assert_int_equal(wif_jwks_store_paths("/d", &other, &cache2, &lock2, &err),
                   WIF_OK);
  assert_string_not_equal(cache, cache2);
  free(cache2);
  free(lock2);
  other = f->p;
  other.jwks_uri = NULL; /* discovered */
  assert_int_equal(wif_jwks_store_paths("/d", &other, &cache2, &lock2, &err),
                   WIF_OK);
  assert_string_not_equal(cache, cache2);
  free(cache2);
  free(lock2);
  /* The issuer and the URI are separated: no two splits collide. */
  other.issuer = wif_test_str("https://issuer.example/stor");
  other.jwks_uri = wif_test_str("e" JWKS_URI);
  assert_int_equal(wif_jwks_store_paths("/d", &other, &cache2, &lock2, &err),
                   WIF_OK);
  assert_string_not_equal(cache, cache2);
  free(cache2);
  free(lock2);
  free(cache);
  free(lock);
  other.issuer = NULL;
  assert_int_equal(wif_jwks_store_paths("/d", &other, &cache, &lock, &err),
                   WIF_E_INTERNAL);
  assert_null(cache);
  assert_null(lock);
}

static void test_round_trip(void **state) {
  struct fx *f = *state;
  struct wif_jwks_cache_entry e;
  struct wif_error err;

  assert_int_equal(f->good[f->good_len - 1], '\n');
  assert_int_equal(strlen(f->good), f->good_len);
  assert_int_equal(wif_jwks_store_decode(f->good, f->good_len, &f->p, &e, &err),
                   WIF_OK);
  assert_int_equal(e.fetched_at, T0);
  assert_int_equal(e.fresh_until, T0 + 3600);
  assert_string_equal(e.source, SOURCE);
  assert_null(e.path);
  assert_int_equal(e.text_len, f->jwks_len);
  assert_memory_equal(e.text, f->jwks, f->jwks_len);
  assert_non_null(wif_jwks_find(e.keys, "rs256", 5));
  assert_non_null(wif_jwks_find(e.keys, "eddsa", 5));
  wif_jwks_cache_entry_clear(&e);
  assert_null(e.keys);
  wif_jwks_cache_entry_clear(NULL);
}

/* Quotes, backslashes and whitespace in the key set survive. */
static void test_round_trip_escapes(void **state) {
  struct fx *f = *state;
  struct wif_jwks_cache_entry e;
  struct wif_error err;
  char *text = NULL;
  size_t len = 0;
  char *jwks = replace(f->jwks, "\"keys\": [", "\"keys\"\r\n\t:[");
  char *with_kid =
      replace(jwks, "\"kid\": \"rs256\"", "\"kid\": \"q\\\"b\\\\\"");

  assert_int_equal(wif_jwks_store_encode(&f->p, SOURCE, T0, T0 + 3600, with_kid,
                                         strlen(with_kid), &text, &len, &err),
                   WIF_OK);
  /* One line: the whitespace is escaped. */
  assert_ptr_equal(strchr(text, '\n'), text + len - 1);
  assert_null(strchr(text, '\t'));
  assert_null(strchr(text, '\r'));
  assert_int_equal(wif_jwks_store_decode(text, len, &f->p, &e, &err), WIF_OK);
  assert_string_equal(e.text, with_kid);
  assert_non_null(wif_jwks_find(e.keys, "q\"b\\", 4));
  wif_jwks_cache_entry_clear(&e);
  free(text);
  free(with_kid);
  free(jwks);
}

/* Replaces `from` in the good file by `to` and expects decode to fail
 * with rc and a message holding why. */
static void expect_bad(struct fx *f, const char *from, const char *to,
                       wif_rc rc, const char *why) {
  char *text = replace(f->good, from, to);
  struct wif_jwks_cache_entry e;
  struct wif_error err;

  memset(&e, 0xff, sizeof(e));
  wif_error_clear(&err);
  if (wif_jwks_store_decode(text, strlen(text), &f->p, &e, &err) != rc)
    fail_msg("%s -> %s: %s, want %s (%s)", from, to, wif_rc_name(err.rc),
             wif_rc_name(rc), err.msg);
  if (strstr(err.msg, why) == NULL)
    fail_msg("%s -> %s: \"%s\" does not say \"%s\"", from, to, err.msg, why);
  /* Nothing is handed out. */
  assert_null(e.keys);
  assert_null(e.source);
  assert_null(e.text);
  free(text);
}

static void test_decode_fields(void **state) {
  struct fx *f = *state;
  char num[64];

  /* The document. */
  expect_bad(f, "{\"version\"", "[{\"version\"", WIF_E_MALFORMED,
             "not valid JSON");
  expect_bad(f, "}\n", "}x", WIF_E_MALFORMED, "not valid JSON");
  expect_bad(f, "{\"version\"", "{\"version\":1,\"version\"", WIF_E_MALFORMED,
             "");
  /* version */
  expect_bad(f, "\"version\":1", "\"version\":2", WIF_E_MALFORMED,
             "not a version 1 cache file");
  expect_bad(f, "\"version\":1", "\"version\":\"1\"", WIF_E_MALFORMED,
             "not a version 1 cache file");
  expect_bad(f, "\"version\":1,", "", WIF_E_MALFORMED,
             "not a version 1 cache file");
  /* issuer and jwks_uri: the configured ones */
  expect_bad(f, ISSUER "\"", ISSUER "/\"", WIF_E_MALFORMED,
             "another issuer or jwks_uri");
  expect_bad(f, "\"issuer\":", "\"issuer_\":", WIF_E_MALFORMED,
             "another issuer or jwks_uri");
  expect_bad(f, "\"jwks_uri\":\"" JWKS_URI "\"", "\"jwks_uri\":\"\"",
             WIF_E_MALFORMED, "another issuer or jwks_uri");
  expect_bad(f, "\"jwks_uri\":\"" JWKS_URI "\"", "\"jwks_uri\":null",
             WIF_E_MALFORMED, "another issuer or jwks_uri");
  /* fetched_at and fresh_until */
  (void)snprintf(num, sizeof(num), "\"fetched_at\":%lld", (long long)T0);
  expect_bad(f, num, "\"fetched_at\":0", WIF_E_MALFORMED,
             "bad fetched_at or fresh_until");
  expect_bad(f, num, "\"fetched_at\":-1", WIF_E_MALFORMED,
             "bad fetched_at or fresh_until");
  expect_bad(f, num, "\"fetched_at\":\"1767225600\"", WIF_E_MALFORMED,
             "bad fetched_at or fresh_until");
  expect_bad(f, num, "\"fetched_at\":1767225600.5", WIF_E_MALFORMED,
             "bad fetched_at or fresh_until");
  expect_bad(f, num, "\"fetched_\":1", WIF_E_MALFORMED,
             "bad fetched_at or fresh_until");
  (void)snprintf(num, sizeof(num), "\"fresh_until\":%lld",
                 (long long)T0 + 3600);
  {
    char to[64];

    /* Fresh for less than WIF_JWKS_FRESH_MIN, or more than _MAX. */
    (void)snprintf(to, sizeof(to), "\"fresh_until\":%lld",
                   (long long)T0 + WIF_JWKS_FRESH_MIN - 1);
    expect_bad(f, num, to, WIF_E_MALFORMED, "bad fetched_at or fresh_until");
    (void)snprintf(to, sizeof(to), "\"fresh_until\":%lld",
                   (long long)T0 + WIF_JWKS_FRESH_MAX + 1);
    expect_bad(f, num, to, WIF_E_MALFORMED, "bad fetched_at or fresh_until");
  }
  expect_bad(f, num, "\"fresh_until\":9223372036854775807", WIF_E_MALFORMED,
             "bad fetched_at or fresh_until");
  expect_bad(f, num, "\"fresh_until\":99999999999999999999", WIF_E_MALFORMED,
             "");
  /* source: an https URL */
  expect_bad(f, "\"" SOURCE "\"", "\"http://keys.example/jwks\"",
             WIF_E_MALFORMED, "bad source URL");
  expect_bad(f, "\"" SOURCE "\"", "\"\"", WIF_E_MALFORMED, "bad source URL");
  expect_bad(f, "\"" SOURCE "\"", "1", WIF_E_MALFORMED, "bad source URL");
  expect_bad(f, "\"source\":", "\"sourc\":", WIF_E_MALFORMED, "bad source URL");
  /* jwks: a string holding a usable key set */
  expect_bad(f, "\"jwks\":", "\"jwk\":", WIF_E_MALFORMED, "no key set");
  expect_bad(f, "\"jwks\":\"", "\"jwks\":1,\"x\":\"", WIF_E_MALFORMED,
             "no key set");
  expect_bad(f, "\"jwks\":\"{", "\"jwks\":\"[", WIF_E_JWKS_INVALID,
             "the key set is unusable");
}

/* A file is never written that the reader would refuse as too large. */
static void test_encode_cap(void **state) {
  struct fx *f = *state;
  size_t n = WIF_JWKS_STORE_FILE_MAX / 2 + 1;
  char *quotes = malloc(n);
  char *text = NULL;
  size_t len = 0;
  struct wif_error err;

  assert_non_null(quotes);
  memset(quotes, '"', n); /* each becomes \" */
  assert_int_equal(wif_jwks_store_encode(&f->p, SOURCE, T0, T0 + 3600, quotes,
                                         n, &text, &len, &err),
                   WIF_E_TOO_LARGE);
  assert_null(text);
  assert_int_equal(len, 0);
  assert_non_null(strstr(err.msg, "the cache file would pass"));
  free(quotes);
}

static void test_read(void **state) {
  struct fx *f = *state;
  struct wif_jwks_cache_entry e;
  struct wif_error err;
  char *path = wif_test_path(f->dir, "c.json");
  char *bad;

  assert_int_equal(wif_jwks_store_read(path, getuid(), &f->p, &e, &err),
                   WIF_E_KEY_NOT_FOUND);
  assert_non_null(strstr(err.msg, "not cached"));
  assert_int_equal(
      wif_file_write_atomic(path, f->good, f->good_len, 0600, &err), WIF_OK);
  assert_int_equal(wif_jwks_store_read(path, getuid(), &f->p, &e, &err),
                   WIF_OK);
  assert_int_equal(e.fresh_until, T0 + 3600);
  wif_jwks_cache_entry_clear(&e);
  /* A broken file is not a miss, and the message names it. */
  bad = replace(f->good, "\"version\":1", "\"version\":7");
  assert_int_equal(wif_file_write_atomic(path, bad, strlen(bad), 0600, &err),
                   WIF_OK);
  assert_int_equal(wif_jwks_store_read(path, getuid(), &f->p, &e, &err),
                   WIF_E_MALFORMED);
  assert_non_null(strstr(err.msg, path));
  assert_non_null(strstr(err.msg, "not a version 1 cache file"));
  /* Others may not write it. */
  assert_int_equal(chmod(path, 0622), 0);
  assert_int_not_equal(wif_jwks_store_read(path, getuid(), &f->p, &e, &err),
                       WIF_OK);
  assert_null(e.keys);
  free(bad);
  free(path);
}

static int open_dir(const struct fx *f) {
  int fd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  assert_true(fd >= 0);
  return fd;
}

static void test_lock(void **state) {
  struct fx *f = *state;
  int dirfd = open_dir(f);
  char *path = wif_test_path(f->dir, "c.lock");
  char *link = wif_test_path(f->dir, "l.lock");
  struct wif_error err;
  int fd = -1, fd2 = -1;
  struct stat st;

  assert_int_equal(
      wif_file_lock_at(dirfd, f->dir, "c.lock", getuid(), 0, &fd, &err),
      WIF_OK);
  assert_true(fd >= 0);
  assert_int_equal(fstat(fd, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0600);
  assert_true((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
  /* Held: a second open file description waits, then gives up. */
  assert_int_equal(
      wif_file_lock_at(dirfd, f->dir, "c.lock", getuid(), 50, &fd2, &err),
      WIF_E_UNAVAILABLE);
  assert_int_equal(fd2, -1);
  assert_non_null(strstr(err.msg, "still locked"));
  wif_file_unlock(&fd);
  assert_int_equal(fd, -1);
  wif_file_unlock(&fd); /* again: nothing */
  wif_file_unlock(NULL);
  assert_int_equal(
      wif_file_lock_at(dirfd, f->dir, "c.lock", getuid(), 0, &fd2, &err),
      WIF_OK);
  wif_file_unlock(&fd2);
  /* Writable by others, owned by someone else, or a symlink: refused. */
  assert_int_equal(chmod(path, 0620), 0);
  assert_int_equal(
      wif_file_lock_at(dirfd, f->dir, "c.lock", getuid(), 0, &fd, &err),
      WIF_E_CONFIG_INSECURE);
  assert_int_equal(fd, -1);
  assert_int_equal(chmod(path, 0600), 0);
  assert_int_equal(
      wif_file_lock_at(dirfd, f->dir, "c.lock", getuid() + 1, 0, &fd, &err),
      WIF_E_CONFIG_INSECURE);
  assert_int_equal(symlink(path, link), 0);
  assert_int_equal(
      wif_file_lock_at(dirfd, f->dir, "l.lock", getuid(), 0, &fd, &err),
      WIF_E_SYSTEM);
  assert_int_equal(fd, -1);
  (void)close(dirfd);
  free(link);
  free(path);
}

static void put(int fd, const char *s) {
  assert_int_equal(ftruncate(fd, 0), 0);
  assert_int_equal(pwrite(fd, s, strlen(s), 0), (ssize_t)strlen(s));
}

static void test_attempts(void **state) {
  struct fx *f = *state;
  int dirfd = open_dir(f);
  char *path = wif_test_path(f->dir, "a.lock");
  struct wif_error err;
  int fd = -1;
  int64_t t = -1;
  char why[64];
  static const char *const garbage[] = {
      "",      "\n",          "abc\n",         "12",
      "12x\n", "0\n",         "-5\n",          "12\n13\n",
      " 12\n", "12 failed\n", "12 failed:x\n", "99999999999999999999\n",
      "+12\n",
  };

  assert_int_equal(
      wif_file_lock_at(dirfd, f->dir, "a.lock", getuid(), 0, &fd, &err),
      WIF_OK);
  /* A new lock file records nothing. */
  assert_false(wif_jwks_store_attempt_get(fd, &t, why, sizeof(why)));
  assert_int_equal(t, 0);
  /* A fetch starts... */
  assert_int_equal(wif_jwks_store_attempt_set(fd, T0, NULL, &err), WIF_OK);
  assert_true(wif_jwks_store_attempt_get(fd, &t, why, sizeof(why)));
  assert_int_equal(t, T0);
  assert_string_equal(why, "");
  /* ...and fails: "T failed: reason", the reason made printable. */
  assert_int_equal(
      wif_jwks_store_attempt_set(fd, T0 + 5, "HTTP 500\nfrom x", &err), WIF_OK);
  {
    char raw[128];
    ssize_t n = pread(fd, raw, sizeof(raw) - 1, 0);

    assert_true(n > 0);
    raw[n] = '\0';
    assert_string_equal(raw, "1767225605 failed: HTTP 500\\x0afrom x\n");
  }
  assert_true(wif_jwks_store_attempt_get(fd, &t, why, sizeof(why)));
  assert_int_equal(t, T0 + 5);
  /* The reader sanitizes again (the file may have been tampered with):
   * one line, printable, the reason still recognisable. */
  assert_int_equal(strncmp(why, "HTTP 500", 8), 0);
  assert_non_null(strstr(why, "from x"));
  for (const char *c = why; *c != '\0'; c++)
    assert_true(*c >= 0x20 && *c < 0x7f);
  /* A long reason is cut to fit what the reader is given. */
  assert_int_equal(
      wif_jwks_store_attempt_set(
          fd, T0, "a reason longer than the sixteen bytes given", &err),
      WIF_OK);
  assert_true(wif_jwks_store_attempt_get(fd, &t, why, 16));
  assert_true(strlen(why) < 16);
  /* Written by hand in the same form: read alike. */
  put(fd, "42 failed: timeout\n");
  assert_true(wif_jwks_store_attempt_get(fd, &t, why, sizeof(why)));
  assert_int_equal(t, 42);
  assert_string_equal(why, "timeout");
  /* Anything else is garbage, which counts as no record. */
  for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
    put(fd, garbage[i]);
    t = 7;
    if (wif_jwks_store_attempt_get(fd, &t, why, sizeof(why)))
      fail_msg("\"%s\" was read as a record", garbage[i]);
    assert_int_equal(t, 0);
  }
  wif_file_unlock(&fd);
  (void)close(dirfd);
  free(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_paths, setup, teardown),
      cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
      cmocka_unit_test_setup_teardown(test_round_trip_escapes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_decode_fields, setup, teardown),
      cmocka_unit_test_setup_teardown(test_encode_cap, setup, teardown),
      cmocka_unit_test_setup_teardown(test_read, setup, teardown),
      cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
      cmocka_unit_test_setup_teardown(test_attempts, setup, teardown),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
