/* SPDX-License-Identifier: Apache-2.0 */
/* The replay store and its journal: once per jti, expiry, the cap, the
 * merge, torn and corrupt files, locking across processes, file modes. */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "json.h"
#include "replay.h"

#define ISS "https://issuer.example/once"
#define ISS2 "https://issuer.example/other"
#define EXP (WIF_TEST_NOW + 600)
#define SKEW 60
#define RACERS 20

struct fixture {
  char dir[PATH_MAX];
  char *cache; /* dir/cache: made by the store itself */
  char *store;
  char *journal;
  char *lock;
  struct wif_config *cfg;
  const struct wif_provider *p;
  const struct wif_provider *p2;
};

static const struct wif_provider *add(struct wif_config *cfg, const char *name,
                                      const char *iss) {
  struct wif_provider *p;
  struct wif_error err;

  assert_int_equal(wif_config_add_provider(cfg, name, &p, &err), WIF_OK);
  assert_int_equal(wif_config_set(cfg, p, "issuer", iss, &err), WIF_OK);
  assert_int_equal(wif_config_set(cfg, p, "audience", "aud", &err), WIF_OK);
  assert_int_equal(wif_config_set(cfg, p, "one_time", "yes", &err), WIF_OK);
  return p;
}

static int setup(void **state) {
  struct fixture *f = calloc(1, sizeof(*f));
  struct wif_error err;

  assert_non_null(f);
  {
    /* Under the build tree: the store's directory is checked up to /,
     * which rules out /tmp. */
    char *base = wif_test_key_path("../replay_test.XXXXXX");

    snprintf(f->dir, sizeof(f->dir), "%s", base);
    free(base);
  }
  assert_non_null(mkdtemp(f->dir));
  f->cache = wif_test_path(f->dir, "cache");
  assert_non_null(f->cfg = wif_config_new("test.conf"));
  add(f->cfg, "once", ISS);
  add(f->cfg, "other", ISS2);
  assert_int_equal(wif_config_finish(f->cfg, &err), WIF_OK);
  /* Borrowed after the last add: the array may have moved before. */
  f->p = &f->cfg->providers[0];
  f->p2 = &f->cfg->providers[1];
  assert_true(f->p->one_time);
  assert_int_equal(wif_replay_paths(f->cache, f->p, &f->store, &f->lock, &err),
                   WIF_OK);
  assert_non_null(f->journal = malloc(strlen(f->store) + sizeof(".journal")));
  snprintf(f->journal, strlen(f->store) + sizeof(".journal"), "%s.journal",
           f->store);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fixture *f = *state;
  char cmd[PATH_MAX + 16];

  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
  assert_int_equal(system(cmd), 0);
  wif_config_free(f->cfg);
  free(f->cache);
  free(f->store);
  free(f->journal);
  free(f->lock);
  free(f);
  return 0;
}

static wif_rc use_p(struct fixture *f, const struct wif_provider *p,
                    const char *jti, int64_t exp, int64_t now,
                    enum wif_replay_mode mode, struct wif_error *err) {
  return wif_replay_use(f->cache, geteuid(), p, jti, strlen(jti), exp, SKEW,
                        now, mode, err);
}

static wif_rc use(struct fixture *f, const char *jti, int64_t now) {
  struct wif_error err;

  wif_error_clear(&err);
  return use_p(f, f->p, jti, EXP, now, WIF_REPLAY_RECORD, &err);
}

/* Entries in the store file itself, live or not. */
static size_t entries(const char *path) {
  struct stat st;

  assert_int_equal(stat(path, &st), 0);
  assert_true((size_t)st.st_size >= WIF_REPLAY_HEADER_LEN);
  return ((size_t)st.st_size - WIF_REPLAY_HEADER_LEN) / WIF_REPLAY_ENTRY_LEN;
}

static size_t file_size(const char *path) {
  struct stat st;

  assert_int_equal(stat(path, &st), 0);
  return (size_t)st.st_size;
}

/* Live entries of store and journal together, as `wifctl check` counts. */
static size_t live_at(struct fixture *f, int64_t now) {
  struct wif_error err;
  size_t n = 0;

  wif_error_clear(&err);
  assert_int_equal(wif_replay_count(f->cache, geteuid(), f->p, now, &n, &err),
                   WIF_OK);
  return n;
}

static void write_raw(const char *path, const void *data, size_t len,
                      mode_t mode) {
  int fd;

  (void)unlink(path);
  fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, data, len), (ssize_t)len);
  assert_int_equal(fchmod(fd, mode), 0);
  close(fd);
}

static void assert_contains(const char *s, const char *part) {
  if (strstr(s, part) == NULL)
    fail_msg("\"%s\" does not contain \"%s\"", s, part);
}

static void test_first_use_then_replay(void **state) {
  struct fixture *f = *state;
  struct wif_error err;

  assert_int_equal(use(f, "jti-1", WIF_TEST_NOW), WIF_OK);
  assert_int_equal(live_at(f, WIF_TEST_NOW), 1);
  wif_error_clear(&err);
  assert_int_equal(
      use_p(f, f->p, "jti-1", EXP, WIF_TEST_NOW + 1, WIF_REPLAY_RECORD, &err),
      WIF_E_REPLAYED);
  assert_contains(err.msg, "accepted before");
  /* Still refused at the last second the token itself is accepted. */
  assert_int_equal(use(f, "jti-1", EXP + SKEW - 1), WIF_E_REPLAYED);
  /* Another jti, and the same jti from another issuer, are new. */
  assert_int_equal(use(f, "jti-2", WIF_TEST_NOW), WIF_OK);
  assert_int_equal(
      use_p(f, f->p2, "jti-1", EXP, WIF_TEST_NOW, WIF_REPLAY_RECORD, &err),
      WIF_OK);
  assert_int_equal(live_at(f, WIF_TEST_NOW), 2);
  /* A prefix of a jti is another jti. */
  assert_int_equal(use(f, "jti-", WIF_TEST_NOW), WIF_OK);
  assert_int_equal(use(f, "jti-", WIF_TEST_NOW), WIF_E_REPLAYED);
}

/* wifctl verify looks without burning the token. */
static void test_peek(void **state) {
  struct fixture *f = *state;
  struct wif_error err;
  struct stat st;

  assert_int_equal(
      use_p(f, f->p, "jti-1", EXP, WIF_TEST_NOW, WIF_REPLAY_PEEK, &err),
      WIF_OK);
  /* Looking creates nothing, not even the directory. */
  assert_int_equal(stat(f->cache, &st), -1);
  assert_int_equal(use(f, "jti-1", WIF_TEST_NOW), WIF_OK);
  assert_int_equal(
      use_p(f, f->p, "jti-2", EXP, WIF_TEST_NOW, WIF_REPLAY_PEEK, &err),
      WIF_OK);
  assert_int_equal(use(f, "jti-2", WIF_TEST_NOW), WIF_OK);
  assert_int_equal(
      use_p(f, f->p, "jti-1", EXP, WIF_TEST_NOW, WIF_REPLAY_PEEK, &err),
      WIF_E_REPLAYED);
  assert_int_equal(live_at(f, WIF_TEST_NOW), 2);
}

static void test_expired_purged(void **state) {
  struct fixture *f = *state;
  struct wif_error err;

  assert_int_equal(use_p(f, f->p, "short", WIF_TEST_NOW + 10, WIF_TEST_NOW,
                         WIF_REPLAY_RECORD, &err),
                   WIF_OK);
  assert_int_equal(use(f, "long", WIF_TEST_NOW), WIF_OK);
  assert_int_equal(live_at(f, WIF_TEST_NOW), 2);
  /* "short" lives until exp + clock_skew, then no longer counts. */
  assert_int_equal(use_p(f, f->p, "short", WIF_TEST_NOW + 10,
                         WIF_TEST_NOW + 10 + SKEW - 1, WIF_REPLAY_RECORD, &err),
                   WIF_E_REPLAYED);
  assert_int_equal(use(f, "third", WIF_TEST_NOW + 10 + SKEW), WIF_OK);
  assert_int_equal(live_at(f, WIF_TEST_NOW + 10 + SKEW), 2);
  assert_int_equal(use(f, "short", WIF_TEST_NOW + 10 + SKEW), WIF_OK);
  /* All gone once every token has expired. */
  assert_int_equal(
      use_p(f, f->p, "last", EXP + 5000, EXP + SKEW, WIF_REPLAY_RECORD, &err),
      WIF_OK);
  assert_int_equal(live_at(f, EXP + SKEW), 1);
}

/* A store of n entries with keys 0..n-1 in their first bytes. */
static unsigned char *full_image(const char *issuer, size_t n, int64_t until,
                                 size_t *len) {
  unsigned char key[WIF_REPLAY_KEY_LEN] = {0};
  unsigned char *one = NULL;
  unsigned char *img;
  size_t one_len = 0, count = 0;
  struct wif_error err;

  /* The header comes from the store's own writer. */
  memset(key, 0xff, sizeof(key));
  assert_int_equal(
      wif_replay_insert(NULL, 0, issuer, key, until, 0, &one, &one_len, &err),
      WIF_OK);
  *len = WIF_REPLAY_HEADER_LEN + n * WIF_REPLAY_ENTRY_LEN;
  assert_non_null(img = calloc(1, *len));
  memcpy(img, one, WIF_REPLAY_HEADER_LEN);
  img[40] = (unsigned char)n;
  img[41] = (unsigned char)(n >> 8);
  img[42] = (unsigned char)(n >> 16);
  for (size_t i = 0; i < n; i++) {
    unsigned char *e = img + WIF_REPLAY_HEADER_LEN + i * WIF_REPLAY_ENTRY_LEN;

    e[0] = (unsigned char)(i >> 16);
    e[1] = (unsigned char)(i >> 8);
    e[2] = (unsigned char)i;
    for (int b = 0; b < 8; b++)
      e[WIF_REPLAY_KEY_LEN + b] = (unsigned char)((uint64_t)until >> (8 * b));
  }
  free(one);
  assert_int_equal(wif_replay_decode(img, *len, issuer, &count, &err), WIF_OK);
  assert_int_equal(count, n);
  return img;
}

static void test_full_refused(void **state) {
  struct fixture *f = *state;
  struct wif_error err;
  unsigned char *img;
  size_t len;

  assert_int_equal(use(f, "creates-the-directory", WIF_TEST_NOW), WIF_OK);
  img = full_image(ISS, WIF_REPLAY_ENTRIES_MAX, EXP, &len);
  write_raw(f->store, img, len, 0600);
  wif_error_clear(&err);
  assert_int_equal(
      use_p(f, f->p, "one-more", EXP, WIF_TEST_NOW, WIF_REPLAY_RECORD, &err),
      WIF_E_REPLAY_FULL);
  assert_contains(err.msg, "65536 live entries");
  /* Refused, not accepted unrecorded: the same jti is still refused. */
  assert_int_equal(use(f, "one-more", WIF_TEST_NOW), WIF_E_REPLAY_FULL);
  assert_int_equal(live_at(f, WIF_TEST_NOW), WIF_REPLAY_ENTRIES_MAX);
  /* One slot less than full takes one more, then refuses again. */
  free(img);
  img = full_image(ISS, WIF_REPLAY_ENTRIES_MAX - 1, EXP, &len);
  write_raw(f->store, img, len, 0600);
  assert_int_equal(use(f, "one-more", WIF_TEST_NOW), WIF_OK);
  assert_int_equal(use(f, "two-more", WIF_TEST_NOW), WIF_E_REPLAY_FULL);
  assert_int_equal(use(f, "one-more", WIF_TEST_NOW), WIF_E_REPLAYED);
  /* Once the entries expire they no longer count. */
  assert_int_equal(
      use_p(f, f->p, "later", EXP + 5000, EXP + SKEW, WIF_REPLAY_RECORD, &err),
      WIF_OK);
  assert_int_equal(live_at(f, EXP + SKEW), 1);
  free(img);
}

/* Fail closed: a damaged store refuses and stays as it was. */
static void test_corrupt_refused(void **state) {
  struct fixture *f = *state;
  struct wif_error err;
  static const char junk[] = "not a replay store\n";
  unsigned char *img;
  size_t len;
  char *before;
  size_t before_len;

  assert_int_equal(use(f, "a", WIF_TEST_NOW), WIF_OK);
  write_raw(f->store, junk, sizeof(junk) - 1, 0600);
  wif_error_clear(&err);
  assert_int_equal(
      use_p(f, f->p, "b", EXP, WIF_TEST_NOW, WIF_REPLAY_RECORD, &err),
      WIF_E_REPLAY_CORRUPT);
  assert_contains(err.msg, f->store);
  assert_contains(err.msg, "refused until it is removed");
  assert_int_equal(
      use_p(f, f->p, "b", EXP, WIF_TEST_NOW, WIF_REPLAY_PEEK, &err),
      WIF_E_REPLAY_CORRUPT);
  before = wif_test_read(f->store, &before_len);
  assert_int_equal(before_len, sizeof(junk) - 1);
  assert_memory_equal(before, junk, before_len);
  free(before);
  /* Another provider's store copied over this one's. */
  img = full_image(ISS2, 3, EXP, &len);
  write_raw(f->store, img, len, 0600);
  assert_int_equal(
      use_p(f, f->p, "b", EXP, WIF_TEST_NOW, WIF_REPLAY_RECORD, &err),
      WIF_E_REPLAY_CORRUPT);
  assert_contains(err.msg, "another issuer");
  free(img);
  /* Removing it is the administrator's way back. */
  assert_int_equal(unlink(f->store), 0);
  assert_int_equal(use(f, "b", WIF_TEST_NOW), WIF_OK);
}

static void expect_corrupt(const unsigned char *img, size_t len,
                           const char *why) {
  size_t count = 99;
  struct wif_error err;

  wif_error_clear(&err);
  assert_int_equal(wif_replay_decode(img, len, ISS, &count, &err),
                   WIF_E_REPLAY_CORRUPT);
  assert_int_equal(count, 0);
  assert_contains(err.msg, why);
}

static void test_decode_invalid(void **state) {
  unsigned char *img;
  size_t len;
  unsigned char *e1;

  (void)state;
  img = full_image(ISS, 3, EXP, &len);
  e1 = img + WIF_REPLAY_HEADER_LEN + WIF_REPLAY_ENTRY_LEN;
  expect_corrupt(img, 0, "known version");
  expect_corrupt(img, WIF_REPLAY_HEADER_LEN - 1, "known version");
  expect_corrupt(img, len - 1, "do not hold 3 entries");
  img[7] = 3; /* a later version */
  expect_corrupt(img, len, "known version");
  img[7] = 0;
  expect_corrupt(img, len, "known version");
  img[7] = 1; /* a store from before the journal is read */
  {
    size_t count = 0;
    struct wif_error err;

    assert_int_equal(wif_replay_decode(img, len, ISS, &count, &err), WIF_OK);
    assert_int_equal(count, 3);
  }
  img[7] = 2;
  img[20] ^= 1;
  expect_corrupt(img, len, "another issuer");
  img[20] ^= 1;
  img[44] = 1;
  expect_corrupt(img, len, "bad header");
  img[44] = 0;
  img[42] = 0x10; /* 0x100003 entries */
  expect_corrupt(img, len, "more than 65536");
  img[42] = 0;
  memcpy(e1, e1 - WIF_REPLAY_ENTRY_LEN, WIF_REPLAY_KEY_LEN); /* duplicate */
  expect_corrupt(img, len, "entry 1 is out of order");
  e1[2] = 7; /* beyond the next */
  expect_corrupt(img, len, "entry 2 is out of order");
  e1[2] = 1;
  memset(e1 + WIF_REPLAY_KEY_LEN, 0, 8);
  expect_corrupt(img, len, "entry 1 has no expiry");
  e1[WIF_REPLAY_KEY_LEN + 7] = 0x80; /* negative */
  expect_corrupt(img, len, "entry 1 has no expiry");
  free(img);
}

static void test_insert_keeps_order(void **state) {
  unsigned char *img = NULL, *next = NULL;
  size_t len = 0, next_len, count = 0;
  unsigned char key[WIF_REPLAY_KEY_LEN];
  struct wif_error err;
  char jti[32];

  (void)state;
  for (int i = 0; i < 200; i++) {
    snprintf(jti, sizeof(jti), "j%d", i);
    assert_int_equal(wif_replay_key(ISS, jti, strlen(jti), key, &err), WIF_OK);
    /* Every third entry expires at NOW + 1. */
    assert_int_equal(wif_replay_insert(img, count, ISS, key,
                                       i % 3 == 0 ? WIF_TEST_NOW + 1 : EXP,
                                       WIF_TEST_NOW, &next, &next_len, &err),
                     WIF_OK);
    free(img);
    img = next;
    len = next_len;
    assert_int_equal(wif_replay_decode(img, len, ISS, &count, &err), WIF_OK);
    assert_int_equal(count, (size_t)i + 1);
    assert_true(wif_replay_contains(img, count, key, WIF_TEST_NOW));
    assert_int_equal(wif_replay_insert(img, count, ISS, key, EXP, WIF_TEST_NOW,
                                       &next, &next_len, &err),
                     WIF_E_REPLAYED);
    assert_null(next);
  }
  /* One insert later than NOW + 1 drops the 67 short ones. */
  assert_int_equal(wif_replay_key(ISS, "late", 4, key, &err), WIF_OK);
  assert_int_equal(wif_replay_insert(img, count, ISS, key, EXP,
                                     WIF_TEST_NOW + 1, &next, &next_len, &err),
                   WIF_OK);
  assert_int_equal(wif_replay_decode(next, next_len, ISS, &count, &err),
                   WIF_OK);
  assert_int_equal(count, 200 - 67 + 1);
  free(img);
  free(next);
}

static void test_jti_claim(void **state) {
  struct {
    const char *claims;
    wif_rc rc;
  } cases[] = {
      {"{\"jti\":\"abc\"}", WIF_OK},
      {"{\"sub\":\"x\"}", WIF_E_JTI_MISSING},
      {"{\"jti\":\"\"}", WIF_E_JTI_MISSING},
      {"{\"jti\":17}", WIF_E_CLAIM_TYPE},
      {"{\"jti\":null}", WIF_E_CLAIM_TYPE},
      {"{\"jti\":[\"a\"]}", WIF_E_CLAIM_TYPE},
  };
  char big[WIF_REPLAY_JTI_MAX + 32];
  struct wif_json_doc *doc;
  struct wif_error err;
  const char *jti;
  size_t len;

  (void)state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    assert_int_equal(
        wif_json_parse(cases[i].claims, strlen(cases[i].claims), 4, &doc, &err),
        WIF_OK);
    assert_int_equal(wif_replay_jti(doc, &jti, &len, &err), cases[i].rc);
    if (cases[i].rc == WIF_OK)
      assert_int_equal(len, 3);
    wif_json_free(doc);
  }
  for (size_t n = WIF_REPLAY_JTI_MAX; n <= WIF_REPLAY_JTI_MAX + 1; n++) {
    snprintf(big, sizeof(big), "{\"jti\":\"%0*d\"}", (int)n, 0);
    assert_int_equal(wif_json_parse(big, strlen(big), 4, &doc, &err), WIF_OK);
    assert_int_equal(wif_replay_jti(doc, &jti, &len, &err),
                     n == WIF_REPLAY_JTI_MAX ? WIF_OK : WIF_E_TOO_LARGE);
    wif_json_free(doc);
  }
}

/* The records of n tokens "n0".."n<n-1>", live until EXP, appended. */
static void use_many(struct fixture *f, const char *prefix, size_t n,
                     int64_t exp) {
  struct wif_error err;
  char jti[32];

  for (size_t i = 0; i < n; i++) {
    snprintf(jti, sizeof(jti), "%s%zu", prefix, i);
    wif_error_clear(&err);
    assert_int_equal(
        use_p(f, f->p, jti, exp, WIF_TEST_NOW, WIF_REPLAY_RECORD, &err),
        WIF_OK);
  }
}

/* A login appends one record; a full journal is merged into the store,
 * which then holds only what is live, and starts again empty. */
static void test_journal_merged(void **state) {
  struct fixture *f = *state;
  char *stale, *other;

  assert_int_equal(use(f, "first", WIF_TEST_NOW), WIF_OK);
  assert_int_equal(entries(f->store), 1);
  assert_int_equal(file_size(f->journal), WIF_REPLAY_HEADER_LEN);
  use_many(f, "short", WIF_REPLAY_JOURNAL_MAX / 2, WIF_TEST_NOW + 10);
  use_many(f, "long", WIF_REPLAY_JOURNAL_MAX / 2, EXP);
  assert_int_equal(entries(f->store), 1);
  assert_int_equal(file_size(f->journal),
                   WIF_REPLAY_HEADER_LEN +
                       WIF_REPLAY_JOURNAL_MAX * WIF_REPLAY_RECORD_LEN);
  assert_int_equal(live_at(f, WIF_TEST_NOW), 1 + WIF_REPLAY_JOURNAL_MAX);
  /* The next login, after the short ones expired, merges; the temporary
   * a killed merge left is removed, nothing else. */
  assert_non_null(stale = malloc(strlen(f->store) + 32));
  snprintf(stale, strlen(f->store) + 32, "%s/.%s.0123456789abcdef", f->cache,
           strrchr(f->store, '/') + 1);
  wif_test_write_text(stale, "left by a killed merge", 0600);
  other = wif_test_path(f->cache, "unrelated");
  wif_test_write_text(other, "kept", 0600);
  assert_int_equal(use(f, "merging", WIF_TEST_NOW + 10 + SKEW), WIF_OK);
  assert_int_equal(access(stale, F_OK), -1);
  assert_int_equal(access(other, F_OK), 0);
  free(stale);
  free(other);
  assert_int_equal(entries(f->store), 2 + WIF_REPLAY_JOURNAL_MAX / 2);
  assert_int_equal(file_size(f->journal), WIF_REPLAY_HEADER_LEN);
  assert_int_equal(use(f, "long7", WIF_TEST_NOW + 10 + SKEW), WIF_E_REPLAYED);
  assert_int_equal(use(f, "first", WIF_TEST_NOW + 10 + SKEW), WIF_E_REPLAYED);
  assert_int_equal(use(f, "merging", WIF_TEST_NOW + 10 + SKEW), WIF_E_REPLAYED);
  assert_int_equal(use(f, "short7", WIF_TEST_NOW + 10 + SKEW), WIF_OK);
}

/* A crash while a record was written leaves it torn: ignored (its login
 * never completed) and cut off by the next append. */
static void test_torn_record(void **state) {
  struct fixture *f = *state;
  static const unsigned char half[20] = {1, 2, 3};
  unsigned char whole[WIF_REPLAY_RECORD_LEN];
  size_t len = 0;
  char *text;
  int fd;

  assert_int_equal(use(f, "a", WIF_TEST_NOW), WIF_OK);
  assert_int_equal(use(f, "b", WIF_TEST_NOW), WIF_OK);
  fd = open(f->journal, O_WRONLY | O_APPEND);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, half, sizeof(half)), (ssize_t)sizeof(half));
  close(fd);
  assert_int_equal(live_at(f, WIF_TEST_NOW), 2);
  assert_int_equal(use(f, "b", WIF_TEST_NOW), WIF_E_REPLAYED);
  assert_int_equal(use(f, "c", WIF_TEST_NOW), WIF_OK);
  assert_int_equal(file_size(f->journal),
                   WIF_REPLAY_HEADER_LEN + 2 * WIF_REPLAY_RECORD_LEN);
  /* A whole-sized record whose check fails is torn too. */
  text = wif_test_read(f->journal, &len);
  memcpy(whole, text + len - WIF_REPLAY_RECORD_LEN, sizeof(whole));
  free(text);
  whole[0] ^= 1;
  fd = open(f->journal, O_WRONLY | O_APPEND);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, whole, sizeof(whole)), (ssize_t)sizeof(whole));
  close(fd);
  assert_int_equal(live_at(f, WIF_TEST_NOW), 3);
  assert_int_equal(use(f, "d", WIF_TEST_NOW), WIF_OK);
  assert_int_equal(live_at(f, WIF_TEST_NOW), 4);
  assert_int_equal(use(f, "c", WIF_TEST_NOW), WIF_E_REPLAYED);
  /* More than one record's worth is no crash's work: lost records would
   * be accepted again. */
  fd = open(f->journal, O_WRONLY | O_APPEND);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, whole, sizeof(whole)), (ssize_t)sizeof(whole));
  assert_int_equal(write(fd, half, 1), 1);
  close(fd);
  assert_int_equal(use(f, "e", WIF_TEST_NOW), WIF_E_REPLAY_CORRUPT);
}

/* Damage before a good record is no crash's work: refused until removed. */
static void test_journal_corrupt(void **state) {
  struct fixture *f = *state;
  struct wif_error err;
  unsigned char *text;
  char *store2, *lock2, *journal2;
  size_t len = 0;

  assert_int_equal(use(f, "a", WIF_TEST_NOW), WIF_OK);
  assert_int_equal(use(f, "b", WIF_TEST_NOW), WIF_OK);
  assert_int_equal(use(f, "c", WIF_TEST_NOW), WIF_OK);
  text = (unsigned char *)wif_test_read(f->journal, &len);
  text[WIF_REPLAY_HEADER_LEN + 5] ^= 1;
  write_raw(f->journal, text, len, 0600);
  wif_error_clear(&err);
  assert_int_equal(
      use_p(f, f->p, "d", EXP, WIF_TEST_NOW, WIF_REPLAY_RECORD, &err),
      WIF_E_REPLAY_CORRUPT);
  assert_contains(err.msg, f->journal);
  assert_contains(err.msg, "record 1 follows a damaged one");
  assert_int_equal(
      use_p(f, f->p, "d", EXP, WIF_TEST_NOW, WIF_REPLAY_PEEK, &err),
      WIF_E_REPLAY_CORRUPT);
  free(text);
  /* Another provider's journal copied over this one's. */
  assert_int_equal(
      use_p(f, f->p2, "x", EXP, WIF_TEST_NOW, WIF_REPLAY_RECORD, &err), WIF_OK);
  assert_int_equal(wif_replay_paths(f->cache, f->p2, &store2, &lock2, &err),
                   WIF_OK);
  assert_non_null(journal2 = malloc(strlen(store2) + sizeof(".journal")));
  snprintf(journal2, strlen(store2) + sizeof(".journal"), "%s.journal", store2);
  text = (unsigned char *)wif_test_read(journal2, &len);
  write_raw(f->journal, text, len, 0600);
  assert_int_equal(
      use_p(f, f->p, "d", EXP, WIF_TEST_NOW, WIF_REPLAY_RECORD, &err),
      WIF_E_REPLAY_CORRUPT);
  assert_contains(err.msg, "another issuer");
  /* Removing it is the administrator's way back. */
  assert_int_equal(unlink(f->journal), 0);
  assert_int_equal(use(f, "d", WIF_TEST_NOW), WIF_OK);
  free(text);
  free(store2);
  free(lock2);
  free(journal2);
}

/* No raw jti on disk, only hashes. */
static void test_no_raw_jti(void **state) {
  struct fixture *f = *state;
  char *text;
  size_t len;

  assert_int_equal(use(f, "visible-jti-value", WIF_TEST_NOW), WIF_OK);
  text = wif_test_read(f->store, &len);
  assert_null(memmem(text, len, "visible-jti-value", 17));
  assert_null(memmem(text, len, ISS, strlen(ISS)));
  free(text);
  assert_int_equal(use(f, "second-visible-jti", WIF_TEST_NOW), WIF_OK);
  text = wif_test_read(f->journal, &len);
  assert_null(memmem(text, len, "second-visible-jti", 18));
  assert_null(memmem(text, len, ISS, strlen(ISS)));
  free(text);
}

static void test_modes_with_umask_0(void **state) {
  struct fixture *f = *state;
  struct stat st;
  mode_t old = umask(0);

  assert_int_equal(use(f, "a", WIF_TEST_NOW), WIF_OK);
  assert_int_equal(use(f, "b", WIF_TEST_NOW), WIF_OK);
  umask(old);
  assert_int_equal(stat(f->cache, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0700);
  assert_int_equal(stat(f->store, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0600);
  assert_int_equal(st.st_uid, geteuid());
  assert_int_equal(stat(f->journal, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0600);
  assert_int_equal(st.st_uid, geteuid());
  assert_int_equal(stat(f->lock, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0600);
}

static void test_unsafe_files_refused(void **state) {
  struct fixture *f = *state;
  struct wif_error err;
  char *store_copy;
  char *link_target;

  assert_int_equal(use(f, "a", WIF_TEST_NOW), WIF_OK);
  /* Readable by others: someone has been at it. */
  assert_int_equal(chmod(f->store, 0644), 0);
  wif_error_clear(&err);
  assert_int_equal(
      use_p(f, f->p, "b", EXP, WIF_TEST_NOW, WIF_REPLAY_RECORD, &err),
      WIF_E_CONFIG_INSECURE);
  assert_contains(err.msg, "mode 0644");
  assert_int_equal(chmod(f->store, 0600), 0);
  /* The journal is held to the same rule. */
  assert_int_equal(chmod(f->journal, 0640), 0);
  assert_int_equal(
      use_p(f, f->p, "b", EXP, WIF_TEST_NOW, WIF_REPLAY_RECORD, &err),
      WIF_E_CONFIG_INSECURE);
  assert_contains(err.msg, f->journal);
  assert_int_equal(chmod(f->journal, 0600), 0);
  /* A symbolic link in the store's place is never followed. */
  store_copy = wif_test_path(f->dir, "elsewhere");
  assert_int_equal(rename(f->store, store_copy), 0);
  assert_int_equal(symlink(store_copy, f->store), 0);
  assert_int_equal(
      use_p(f, f->p, "b", EXP, WIF_TEST_NOW, WIF_REPLAY_RECORD, &err),
      WIF_E_SYSTEM);
  assert_int_equal(unlink(f->store), 0);
  /* Nor for the lock file. */
  assert_int_equal(rename(store_copy, f->store), 0);
  assert_int_equal(unlink(f->lock), 0);
  link_target = wif_test_path(f->dir, "lock-target");
  assert_int_equal(symlink(link_target, f->lock), 0);
  assert_int_equal(
      use_p(f, f->p, "b", EXP, WIF_TEST_NOW, WIF_REPLAY_RECORD, &err),
      WIF_E_SYSTEM);
  assert_int_equal(access(link_target, F_OK), -1);
  assert_int_equal(unlink(f->lock), 0);
  /* A directory others may write. */
  assert_int_equal(chmod(f->cache, 0777), 0);
  assert_int_equal(
      use_p(f, f->p, "b", EXP, WIF_TEST_NOW, WIF_REPLAY_RECORD, &err),
      WIF_E_CONFIG_INSECURE);
  assert_int_equal(chmod(f->cache, 0700), 0);
  assert_int_equal(use(f, "a", WIF_TEST_NOW), WIF_E_REPLAYED);
  assert_int_equal(use(f, "b", WIF_TEST_NOW), WIF_OK);
  free(store_copy);
  free(link_target);
}

/* A lock held elsewhere makes a login wait, then give up: never skip. */
static void test_lock_timeout(void **state) {
  struct fixture *f = *state;
  struct wif_error err;
  int fd;

  assert_int_equal(use(f, "a", WIF_TEST_NOW), WIF_OK);
  fd = open(f->lock, O_RDWR | O_CLOEXEC);
  assert_true(fd >= 0);
  /* flock locks belong to the open file: this one conflicts with ours. */
  assert_int_equal(flock(fd, LOCK_EX), 0);
  wif_error_clear(&err);
  assert_int_equal(
      use_p(f, f->p, "b", EXP, WIF_TEST_NOW, WIF_REPLAY_RECORD, &err),
      WIF_E_UNAVAILABLE);
  assert_contains(err.msg, "still locked");
  close(fd);
  assert_int_equal(use(f, "b", WIF_TEST_NOW), WIF_OK);
}

/* RACERS processes present the same token at once: exactly one wins. */
static void test_concurrent_first_use(void **state) {
  struct fixture *f = *state;
  int go[2];
  pid_t pids[RACERS];
  int ok = 0, replayed = 0, other = 0;
  char c = 0;

  /* The directory exists first, as it would on a live host. */
  assert_int_equal(use(f, "warm-up", WIF_TEST_NOW), WIF_OK);
  assert_int_equal(pipe(go), 0);
  for (int i = 0; i < RACERS; i++) {
    pids[i] = fork();
    assert_true(pids[i] >= 0);
    if (pids[i] == 0) {
      struct wif_error err;
      wif_rc rc;

      close(go[1]);
      /* Blocks until the parent closes its end: all start together. */
      if (read(go[0], &c, 1) < 0)
        _exit(3);
      rc = use_p(f, f->p, "the-token", EXP, WIF_TEST_NOW, WIF_REPLAY_RECORD,
                 &err);
      _exit(rc == WIF_OK ? 0 : rc == WIF_E_REPLAYED ? 1 : 2);
    }
  }
  close(go[0]);
  close(go[1]);
  for (int i = 0; i < RACERS; i++) {
    int status = 0;

    assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) == 0)
      ok++;
    else if (WEXITSTATUS(status) == 1)
      replayed++;
    else
      other++;
  }
  assert_int_equal(ok, 1);
  assert_int_equal(replayed, RACERS - 1);
  assert_int_equal(other, 0);
  assert_int_equal(live_at(f, WIF_TEST_NOW), 2);
}

static void test_paths(void **state) {
  struct fixture *f = *state;
  const char *base = strrchr(f->store, '/') + 1;

  assert_int_equal(strlen(base), 64 + strlen(".replay"));
  assert_string_equal(base + 64, ".replay");
  assert_int_equal(strncmp(f->lock, f->store, strlen(f->store)), 0);
  assert_string_equal(f->lock + strlen(f->store), ".lock");
}

/* The option itself: off unless "yes"; its bad values are in
 * tests/data/config/invalid (bad-one-time, duplicate-one-time). */
static void test_option(void **state) {
  static const char text[] = "[provider a]\n"
                             "issuer = https://issuer.example/a\n"
                             "audience = x\n"
                             "[provider b]\n"
                             "issuer = https://issuer.example/b\n"
                             "audience = x\n"
                             "one_time = no\n"
                             "[provider c]\n"
                             "issuer = https://issuer.example/c\n"
                             "audience = x\n"
                             "one_time = yes\n";
  struct wif_config *cfg = NULL;
  struct wif_error err;

  (void)state;
  assert_int_equal(wif_config_parse(text, strlen(text), "t", &cfg, &err),
                   WIF_OK);
  assert_false(cfg->providers[0].one_time);
  assert_false(cfg->providers[1].one_time);
  assert_true(cfg->providers[2].one_time);
  wif_config_free(cfg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_first_use_then_replay, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_peek, setup, teardown),
      cmocka_unit_test_setup_teardown(test_expired_purged, setup, teardown),
      cmocka_unit_test_setup_teardown(test_full_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_corrupt_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_journal_merged, setup, teardown),
      cmocka_unit_test_setup_teardown(test_torn_record, setup, teardown),
      cmocka_unit_test_setup_teardown(test_journal_corrupt, setup, teardown),
      cmocka_unit_test(test_decode_invalid),
      cmocka_unit_test(test_insert_keeps_order),
      cmocka_unit_test(test_jti_claim),
      cmocka_unit_test_setup_teardown(test_no_raw_jti, setup, teardown),
      cmocka_unit_test_setup_teardown(test_modes_with_umask_0, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unsafe_files_refused, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_lock_timeout, setup, teardown),
      cmocka_unit_test_setup_teardown(test_concurrent_first_use, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_paths, setup, teardown),
      cmocka_unit_test(test_option),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
