/* SPDX-License-Identifier: Apache-2.0 */
/* Client token cache: reuse, the 5-minute margin, atomic replacement,
 * ownership and modes (SECURITY-CASES K8; I5 for the write). */
#include "source_testutil.h"

#include <dirent.h>

#include "source.h"
#include "token_cache.h"

static char base[PATH_MAX];
static char cache[PATH_MAX + 16];

static int setup(void **state) {
  (void)state;
  wif_test_scratch_dir(base, sizeof(base), "wif-test-cache");
  (void)snprintf(cache, sizeof(cache), "%s/pam_wif", base);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  (void)wif_test_remove_tree(base);
  return 0;
}

#define NOW INT64_C(1800000000)

static size_t count_entries(const char *d) {
  DIR *dh = opendir(d);
  struct dirent *e;
  size_t n = 0;

  assert_non_null(dh);
  while ((e = readdir(dh)) != NULL)
    n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
  closedir(dh);
  return n;
}

static char *only_entry(const char *d) {
  DIR *dh = opendir(d);
  struct dirent *e;
  char *p = NULL;

  assert_non_null(dh);
  while ((e = readdir(dh)) != NULL)
    if (e->d_name[0] != '.')
      assert_true(asprintf(&p, "%s/%s", d, e->d_name) > 0);
  closedir(dh);
  assert_non_null(p);
  return p;
}

static void test_dir_names(void **state) {
  char *d = NULL;

  (void)state;
  assert_int_equal(wif_token_cache_dir("/run/user/1000", 1000, &d, NULL),
                   WIF_OK);
  assert_string_equal(d, "/run/user/1000/pam_wif");
  free(d);
  /* Unset or relative XDG_RUNTIME_DIR: a per-user directory in /tmp. */
  assert_int_equal(wif_token_cache_dir(NULL, 1000, &d, NULL), WIF_OK);
  assert_string_equal(d, "/tmp/pam_wif-1000");
  free(d);
  assert_int_equal(wif_token_cache_dir("run/user", 7, &d, NULL), WIF_OK);
  assert_string_equal(d, "/tmp/pam_wif-7");
  free(d);
}

static void test_put_get_reuse(void **state) {
  char *tok = NULL;
  int64_t exp = 0;
  struct stat st;
  char *entry;

  (void)state;
  assert_int_equal(wif_token_cache_get(cache, "k1", NOW, &tok, &exp, NULL),
                   WIF_E_TOKEN_UNAVAILABLE);
  assert_int_equal(
      wif_token_cache_put(cache, "k1", "aaa.bbb.ccc", NOW + 3600, NOW, NULL),
      WIF_OK);
  /* 0700 directory, 0600 file, both ours. */
  assert_int_equal(stat(cache, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0700);
  assert_int_equal(st.st_uid, geteuid());
  entry = only_entry(cache);
  assert_int_equal(stat(entry, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0600);
  /* The file name is a hash, not the key. */
  assert_null(strstr(entry, "k1"));
  assert_int_equal(strlen(strrchr(entry, '/') + 1), 64 + 6);
  assert_int_equal(wif_token_cache_get(cache, "k1", NOW + 10, &tok, &exp, NULL),
                   WIF_OK);
  assert_string_equal(tok, "aaa.bbb.ccc");
  assert_int_equal(exp, NOW + 3600);
  wif_source_token_free(tok);
  /* Another key is another entry. */
  assert_int_equal(wif_token_cache_get(cache, "k2", NOW, &tok, &exp, NULL),
                   WIF_E_TOKEN_UNAVAILABLE);
  assert_null(tok);
  free(entry);
}

/* Reused until 5 minutes before exp, not a second longer. */
static void test_margin(void **state) {
  char *tok = NULL;
  int64_t exp = 0;
  int64_t e = NOW + 3600;

  (void)state;
  assert_int_equal(wif_token_cache_put(cache, "m", "a.b.c", e, NOW, NULL),
                   WIF_OK);
  assert_int_equal(wif_token_cache_get(cache, "m", e - 301, &tok, &exp, NULL),
                   WIF_OK);
  wif_source_token_free(tok);
  tok = NULL;
  assert_int_equal(wif_token_cache_get(cache, "m", e - 300, &tok, &exp, NULL),
                   WIF_E_TOKEN_UNAVAILABLE);
  assert_null(tok);
  assert_int_equal(wif_token_cache_get(cache, "m", e + 10, &tok, &exp, NULL),
                   WIF_E_TOKEN_UNAVAILABLE);
}

/* Tokens that would never be reused are not written at all. */
static void test_short_lived_not_stored(void **state) {
  (void)state;
  assert_int_equal(
      wif_token_cache_put(cache, "s", "a.b.c", NOW + 300, NOW, NULL), WIF_OK);
  assert_int_equal(wif_token_cache_put(cache, "s", "a.b.c", 0, NOW, NULL),
                   WIF_OK);
  assert_int_equal(access(cache, F_OK), -1); /* not even the directory */
}

/* Replacement is a rename of a complete new file: a new inode, no
 * temporary left behind, the old content gone. */
static void test_atomic_replace(void **state) {
  char *tok = NULL;
  int64_t exp = 0;
  struct stat a, b;
  char *entry;

  (void)state;
  assert_int_equal(
      wif_token_cache_put(cache, "r", "old.old.old", NOW + 3600, NOW, NULL),
      WIF_OK);
  entry = only_entry(cache);
  assert_int_equal(stat(entry, &a), 0);
  assert_int_equal(
      wif_token_cache_put(cache, "r", "new.new.new", NOW + 7200, NOW, NULL),
      WIF_OK);
  assert_int_equal(stat(entry, &b), 0);
  assert_true(a.st_ino != b.st_ino);
  assert_int_equal(count_entries(cache), 1);
  assert_int_equal(wif_token_cache_get(cache, "r", NOW, &tok, &exp, NULL),
                   WIF_OK);
  assert_string_equal(tok, "new.new.new");
  assert_int_equal(exp, NOW + 7200);
  wif_source_token_free(tok);
  assert_int_equal(wif_token_cache_drop(cache, "r", NULL), WIF_OK);
  assert_int_equal(count_entries(cache), 0);
  assert_int_equal(wif_token_cache_drop(cache, "r", NULL), WIF_OK);
  free(entry);
}

/* A directory anyone else can enter, or a file others can read, is not
 * used (a planted /tmp/pam_wif-UID, a loosened mode). */
static void test_insecure_dir_and_file(void **state) {
  char *tok = NULL;
  int64_t exp;
  struct wif_error err;
  char *entry;
  char *link = NULL;

  (void)state;
  assert_int_equal(
      wif_token_cache_put(cache, "p", "a.b.c", NOW + 3600, NOW, NULL), WIF_OK);
  assert_int_equal(chmod(cache, 0755), 0);
  assert_int_equal(wif_token_cache_get(cache, "p", NOW, &tok, &exp, &err),
                   WIF_E_CONFIG_INSECURE);
  assert_non_null(strstr(err.msg, "0700"));
  assert_int_equal(
      wif_token_cache_put(cache, "p", "a.b.c", NOW + 3600, NOW, &err),
      WIF_E_CONFIG_INSECURE);
  assert_int_equal(chmod(cache, 0700), 0);
  entry = only_entry(cache);
  assert_int_equal(chmod(entry, 0644), 0);
  assert_int_equal(wif_token_cache_get(cache, "p", NOW, &tok, &exp, &err),
                   WIF_E_CONFIG_INSECURE);
  assert_null(tok);
  assert_int_equal(chmod(entry, 0600), 0);
  if (geteuid() == 0) {
    assert_int_equal(chown(entry, 1, 1), 0);
    assert_int_equal(wif_token_cache_get(cache, "p", NOW, &tok, &exp, &err),
                     WIF_E_CONFIG_INSECURE);
    assert_int_equal(chown(entry, 0, 0), 0);
    assert_int_equal(chown(cache, 1, 1), 0);
    assert_int_equal(wif_token_cache_get(cache, "p", NOW, &tok, &exp, &err),
                     WIF_E_CONFIG_INSECURE);
    assert_int_equal(chown(cache, 0, 0), 0);
  }
  /* A symlinked directory is refused. */
  assert_true(asprintf(&link, "%s/linkdir", base) > 0);
  assert_int_equal(symlink(cache, link), 0);
  assert_int_equal(wif_token_cache_get(link, "p", NOW, &tok, &exp, &err),
                   WIF_E_CONFIG_INSECURE);
  free(link);
  free(entry);
}

/* A symlink planted as the entry is not followed. */
static void test_symlink_entry(void **state) {
  char *tok = NULL;
  int64_t exp;
  struct wif_error err;
  char *entry;
  char *target = NULL;

  (void)state;
  assert_int_equal(
      wif_token_cache_put(cache, "l", "a.b.c", NOW + 3600, NOW, NULL), WIF_OK);
  entry = only_entry(cache);
  assert_true(asprintf(&target, "%s/target", base) > 0);
  wif_test_write_text(target, "wif-token-cache-v1 9999999999\nx.y.z\n", 0600);
  assert_int_equal(unlink(entry), 0);
  assert_int_equal(symlink(target, entry), 0);
  assert_int_equal(wif_token_cache_get(cache, "l", NOW, &tok, &exp, &err),
                   WIF_E_CONFIG_INSECURE);
  assert_null(tok);
  free(target);
  free(entry);
}

/* Damaged entries are misses, never tokens. */
static void test_corrupt_entries(void **state) {
  static const char *const bad[] = {
      "",
      "garbage\n",
      "wif-token-cache-v1 abc\na.b.c\n",
      "wif-token-cache-v1 9999999999\n\n",
      "wif-token-cache-v1 9999999999\na b.c\n",
      "wif-token-cache-v1 9999999999\na.b.c",
      "wif-token-cache-v1 9999999999\na.b\\c\n",
      "wif-token-cache-v2 9999999999\na.b.c\n",
  };
  char *tok = NULL;
  int64_t exp;
  char *entry;

  (void)state;
  assert_int_equal(
      wif_token_cache_put(cache, "c", "a.b.c", NOW + 3600, NOW, NULL), WIF_OK);
  entry = only_entry(cache);
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    wif_test_write_text(entry, bad[i], 0600);
    assert_int_equal(wif_token_cache_get(cache, "c", NOW, &tok, &exp, NULL),
                     WIF_E_TOKEN_UNAVAILABLE);
    assert_null(tok);
  }
  /* Control: the well-formed entry reads back. */
  wif_test_write_text(entry, "wif-token-cache-v1 9999999999\na.b.c\n", 0600);
  assert_int_equal(wif_token_cache_get(cache, "c", NOW, &tok, &exp, NULL),
                   WIF_OK);
  wif_source_token_free(tok);
  free(entry);
}

/* The cache key: identity-selecting settings differ, file sources have
 * none (they are read afresh, DESIGN.md). */
static void test_cache_keys(void **state) {
  struct wif_source_opts a, b;
  char *ka = NULL, *kb = NULL;

  (void)state;
  wif_source_opts_init(&a);
  a.kind = WIF_SOURCE_AZURE;
  a.audience = "api://one";
  b = a;
  assert_int_equal(wif_source_cache_key(&a, &ka, NULL), WIF_OK);
  assert_int_equal(wif_source_cache_key(&b, &kb, NULL), WIF_OK);
  assert_string_equal(ka, kb);
  free(kb);
  b.client_id = "other";
  assert_int_equal(wif_source_cache_key(&b, &kb, NULL), WIF_OK);
  assert_string_not_equal(ka, kb);
  free(kb);
  b = a;
  b.audience = "api://one\nclient_id=x"; /* cannot forge another field */
  assert_int_equal(wif_source_cache_key(&b, &kb, NULL), WIF_OK);
  assert_string_not_equal(ka, kb);
  assert_non_null(strstr(kb, "audience=api%3A%2F%2Fone%0Aclient_id%3Dx\n"));
  free(kb);
  /* Each new selector of the identity is its own entry. */
  {
    struct wif_source_opts v[6];

    for (size_t i = 0; i < 6; i++)
      v[i] = a;
    v[0].identity_endpoint = "http://127.0.0.1:1/msi/token";
    v[1].gcp_service_account = "sa@p.iam.gserviceaccount.com";
    v[2].resource = "api://r";
    v[3].token_audience = "api://r";
    v[4].assertion_file = "/run/token";
    v[5].scope = "api://r";
    for (size_t i = 0; i < 6; i++) {
      char *k2 = NULL;

      assert_int_equal(wif_source_cache_key(&v[i], &kb, NULL), WIF_OK);
      assert_string_not_equal(ka, kb);
      for (size_t j = 0; j < i; j++) {
        assert_int_equal(wif_source_cache_key(&v[j], &k2, NULL), WIF_OK);
        assert_string_not_equal(k2, kb);
        free(k2);
      }
      free(kb);
    }
  }
  b = a;
  b.kind = WIF_SOURCE_EXEC;
  b.command = "/bin/helper --a";
  assert_int_equal(wif_source_cache_key(&b, &kb, NULL), WIF_OK);
  assert_non_null(strstr(kb, "command=%2Fbin%2Fhelper%20--a\n"));
  free(kb);
  b.kind = WIF_SOURCE_FILE;
  b.path = "/x";
  assert_int_equal(wif_source_cache_key(&b, &kb, NULL), WIF_OK);
  assert_null(kb);
  b.kind = WIF_SOURCE_K8S;
  assert_int_equal(wif_source_cache_key(&b, &kb, NULL), WIF_OK);
  assert_null(kb);
  free(ka);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dir_names),
      cmocka_unit_test_setup_teardown(test_put_get_reuse, setup, teardown),
      cmocka_unit_test_setup_teardown(test_margin, setup, teardown),
      cmocka_unit_test_setup_teardown(test_short_lived_not_stored, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_atomic_replace, setup, teardown),
      cmocka_unit_test_setup_teardown(test_insecure_dir_and_file, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_symlink_entry, setup, teardown),
      cmocka_unit_test_setup_teardown(test_corrupt_entries, setup, teardown),
      cmocka_unit_test(test_cache_keys),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
