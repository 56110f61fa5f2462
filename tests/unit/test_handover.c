/* SPDX-License-Identifier: Apache-2.0 */
/* The WIF_* hand-over: encoding, the binding key, tags, records, parsing,
 * and the log file the module appends to. */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "handover.h"
#include "logfile.h"
#include "text.h"

struct fixture {
  char *dir;  /* under the build tree: every parent is trusted */
  char *keys; /* dir/keys, the binding key directory */
  char *key;  /* keys/binding.key */
};

static int setup(void **state) {
  struct fixture *f = calloc(1, sizeof(*f));

  assert_non_null(f);
  f->dir = wif_test_build_dir("handover", 0755);
  f->keys = wif_test_path(f->dir, "keys");
  f->key = wif_test_path(f->keys, WIF_HANDOVER_KEY_FILE);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fixture *f = *state;
  char *log = wif_test_path(f->dir, "log");

  (void)chmod(f->keys, 0700);
  (void)unlink(f->key);
  (void)rmdir(f->keys);
  (void)unlink(log);
  (void)rmdir(f->dir);
  free(log);
  free(f->key);
  free(f->keys);
  free(f->dir);
  free(f);
  return 0;
}

static void test_encode(void **state) {
  char out[16];

  (void)state;
  assert_false(wif_handover_encode("a\\b\n\xc3\xa4", 6, out, sizeof(out)));
  assert_true(wif_handover_encode("a\\b\n", 4, out, sizeof(out)));
  assert_string_equal(out, "a\\x5cb\\x0a");
  assert_true(wif_handover_encode("abc", 3, out, 4));
  assert_false(wif_handover_encode("abcd", 4, out, 4));
  assert_true(wif_handover_encode("", 0, out, 1));
  assert_string_equal(out, "");
}

/* Made once (0700 directory, 0600 key, whatever the umask), then read
 * back the same; never made without create. */
static void test_key_created_once(void **state) {
  struct fixture *f = *state;
  unsigned char k1[WIF_HANDOVER_KEY_LEN], k2[WIF_HANDOVER_KEY_LEN];
  struct wif_error err;
  struct stat st;
  mode_t old;

  assert_int_equal(wif_handover_key(f->keys, getuid(), false, k1, &err),
                   WIF_E_SYSTEM); /* no directory */
  old = umask(0);
  assert_int_equal(wif_handover_key(f->keys, getuid(), true, k1, &err), WIF_OK);
  umask(old);
  assert_int_equal(stat(f->keys, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0700);
  assert_int_equal(stat(f->key, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0600);
  assert_int_equal(st.st_size, WIF_HANDOVER_KEY_LEN);
  assert_int_equal(wif_handover_key(f->keys, getuid(), false, k2, &err),
                   WIF_OK);
  assert_memory_equal(k1, k2, sizeof(k1));
  assert_int_equal(wif_handover_key(f->keys, getuid(), true, k2, &err), WIF_OK);
  assert_memory_equal(k1, k2, sizeof(k1));
  /* Removed: without create, nothing was ever bound. */
  assert_int_equal(unlink(f->key), 0);
  assert_int_equal(wif_handover_key(f->keys, getuid(), false, k2, &err),
                   WIF_E_TAMPERED);
}

/* Concurrent first logins agree on one key. */
static void test_key_race(void **state) {
  struct fixture *f = *state;
  unsigned char mine[WIF_HANDOVER_KEY_LEN], theirs[WIF_HANDOVER_KEY_LEN];
  int fds[8][2];
  pid_t pids[8];

  for (int i = 0; i < 8; i++) {
    assert_int_equal(pipe(fds[i]), 0);
    pids[i] = fork();
    assert_true(pids[i] >= 0);
    if (pids[i] == 0) {
      unsigned char k[WIF_HANDOVER_KEY_LEN];

      if (wif_handover_key(f->keys, getuid(), true, k, NULL) != WIF_OK ||
          write(fds[i][1], k, sizeof(k)) != (ssize_t)sizeof(k))
        _exit(1);
      _exit(0);
    }
    close(fds[i][1]);
  }
  assert_int_equal(wif_handover_key(f->keys, getuid(), true, mine, NULL),
                   WIF_OK);
  for (int i = 0; i < 8; i++) {
    int status;

    assert_int_equal(read(fds[i][0], theirs, sizeof(theirs)),
                     (ssize_t)sizeof(theirs));
    close(fds[i][0]);
    assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_memory_equal(mine, theirs, sizeof(mine));
  }
}

/* Anything but a 0700 directory and a 0600 key of the owner. */
static void test_key_refused(void **state) {
  struct fixture *f = *state;
  unsigned char k[WIF_HANDOVER_KEY_LEN];
  struct wif_error err;
  int fd;
  char *link_path = wif_test_path(f->dir, "link");

  assert_int_equal(wif_handover_key(f->keys, getuid(), true, k, &err), WIF_OK);
  assert_int_equal(chmod(f->keys, 0750), 0);
  assert_int_equal(wif_handover_key(f->keys, getuid(), true, k, &err),
                   WIF_E_CONFIG_INSECURE);
  assert_non_null(strstr(err.msg, "mode 0700"));
  assert_int_equal(chmod(f->keys, 0700), 0);
  assert_int_equal(chmod(f->key, 0640), 0);
  assert_int_equal(wif_handover_key(f->keys, getuid(), false, k, &err),
                   WIF_E_CONFIG_INSECURE);
  assert_int_equal(chmod(f->key, 0600), 0);
  assert_int_equal(wif_handover_key(f->keys, getuid() + 1, false, k, &err),
                   WIF_E_CONFIG_INSECURE);
  /* A key of another length. */
  fd = open(f->key, O_WRONLY | O_APPEND);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, "x", 1), 1);
  close(fd);
  assert_int_equal(wif_handover_key(f->keys, getuid(), false, k, &err),
                   WIF_E_CONFIG_INVALID);
  assert_non_null(strstr(err.msg, "remove this file"));
  /* A symbolic link as the directory, or as the key. */
  assert_int_equal(symlink(f->keys, link_path), 0);
  assert_int_equal(wif_handover_key(link_path, getuid(), false, k, &err),
                   WIF_E_CONFIG_INSECURE);
  assert_int_equal(unlink(link_path), 0);
  assert_int_equal(unlink(f->key), 0);
  assert_int_equal(symlink("/etc/hostname", f->key), 0);
  assert_int_equal(wif_handover_key(f->keys, getuid(), false, k, &err),
                   WIF_E_CONFIG_INSECURE);
  assert_int_equal(wif_handover_key("relative", getuid(), true, k, &err),
                   WIF_E_CONFIG_INVALID);
  free(link_path);
}

static void make(const unsigned char *key, struct wif_handover *h) {
  struct wif_handover_facts fa = {"users",      "a\\b",     3,
                                  "https://i/", 1700000000, WIF_AUTHZ_GROUP,
                                  NULL,         "g 1",      3};

  assert_int_equal(wif_handover_make(&fa, "nobody", "sshd", key, h, NULL),
                   WIF_OK);
}

static void values_of(const struct wif_handover *h,
                      struct wif_handover_input *in) {
  memset(in, 0, sizeof(*in));
  for (size_t i = 0; i < WIF_HO_COUNT; i++)
    in->values[i] = wif_handover_value(h, (enum wif_handover_var)i);
  in->service = "sshd";
}

/* The tag covers every value, the account and the service. */
static void test_tag(void **state) {
  struct fixture *f = *state;
  unsigned char key[WIF_HANDOVER_KEY_LEN];
  struct wif_handover h, h2;
  struct wif_handover_input in;
  struct wif_handover_grant g;
  struct wif_error err;
  char bad[128];

  assert_int_equal(wif_handover_key(f->keys, getuid(), true, key, NULL),
                   WIF_OK);
  make(key, &h);
  assert_string_equal(h.env[WIF_HO_SUBJECT], "WIF_SUBJECT=a\\x5cb");
  assert_string_equal(h.env[WIF_HO_GRANT], "WIF_GRANT=group:g 1");
  assert_string_equal(h.env[WIF_HO_EXPIRES], "WIF_EXPIRES=1700000000");
  assert_int_equal(strlen(wif_handover_value(&h, WIF_HO_BINDING)), 97);
  make(key, &h2); /* a fresh nonce each time */
  assert_string_not_equal(wif_handover_value(&h, WIF_HO_BINDING),
                          wif_handover_value(&h2, WIF_HO_BINDING));
  wif_handover_clear(&h2);
  values_of(&h, &in);
  assert_true(wif_handover_present(in.values));
  assert_int_equal(wif_handover_verify(&in, "nobody", f->keys, getuid(), &err),
                   WIF_OK);
  assert_int_equal(wif_handover_parse(in.values, &g, &err), WIF_OK);
  assert_int_equal(g.type, WIF_AUTHZ_GROUP);
  assert_string_equal(g.grant, "group:g 1");
  assert_int_equal(g.exp, 1700000000);
  /* Each value, the account and the service are covered. */
  for (size_t i = 0; i < WIF_HO_BINDING; i++) {
    const char *keep = in.values[i];

    in.values[i] = "x";
    assert_int_equal(
        wif_handover_verify(&in, "nobody", f->keys, getuid(), &err),
        WIF_E_TAMPERED);
    in.values[i] = NULL;
    assert_int_equal(
        wif_handover_verify(&in, "nobody", f->keys, getuid(), &err),
        WIF_E_TAMPERED);
    in.values[i] = keep;
  }
  assert_int_equal(wif_handover_verify(&in, "daemon", f->keys, getuid(), &err),
                   WIF_E_TAMPERED);
  in.service = "su";
  assert_int_equal(wif_handover_verify(&in, "nobody", f->keys, getuid(), &err),
                   WIF_E_TAMPERED);
  in.service = "sshd";
  /* Malformed tags, and none. */
  snprintf(bad, sizeof(bad), "%s", in.values[WIF_HO_BINDING]);
  bad[5] = 'G';
  in.values[WIF_HO_BINDING] = bad;
  assert_int_equal(wif_handover_verify(&in, "nobody", f->keys, getuid(), &err),
                   WIF_E_TAMPERED);
  assert_string_equal(err.msg, "WIF_BINDING does not parse");
  in.values[WIF_HO_BINDING] = "00:00";
  assert_int_equal(wif_handover_verify(&in, "nobody", f->keys, getuid(), &err),
                   WIF_E_TAMPERED);
  in.values[WIF_HO_BINDING] = NULL;
  assert_int_equal(wif_handover_verify(&in, "nobody", f->keys, getuid(), &err),
                   WIF_E_UNBOUND);
  /* Another host key: refused. */
  values_of(&h, &in);
  assert_int_equal(unlink(f->key), 0);
  assert_int_equal(wif_handover_key(f->keys, getuid(), true, key, NULL),
                   WIF_OK);
  assert_int_equal(wif_handover_verify(&in, "nobody", f->keys, getuid(), &err),
                   WIF_E_TAMPERED);
  wif_handover_clear(&h);
  wif_handover_clear(NULL);
}

/* In one process the record decides, and the environment must equal it. */
static void test_record(void **state) {
  struct fixture *f = *state;
  unsigned char key[WIF_HANDOVER_KEY_LEN];
  struct wif_handover h, rec;
  struct wif_handover_input in;
  struct wif_error err;

  memset(key, 7, sizeof(key));
  make(key, &h);
  values_of(&h, &in);
  assert_int_equal(wif_handover_record(in.values, "nobody", "sshd", &rec),
                   WIF_OK);
  in.record = &rec;
  /* No key file needed: the record is the proof. */
  assert_int_equal(wif_handover_verify(&in, "nobody", f->keys, getuid(), &err),
                   WIF_OK);
  in.values[WIF_HO_EXPIRES] = "9223372036854775807";
  assert_int_equal(wif_handover_verify(&in, "nobody", f->keys, getuid(), &err),
                   WIF_E_TAMPERED);
  assert_string_equal(err.msg, "WIF_EXPIRES differs from what authentication "
                               "set");
  values_of(&h, &in);
  in.record = &rec;
  assert_int_equal(wif_handover_verify(&in, "daemon", f->keys, getuid(), &err),
                   WIF_E_TAMPERED);
  /* Once account removed the tag from both, they still agree. */
  in.values[WIF_HO_BINDING] = NULL;
  assert_int_equal(wif_handover_verify(&in, "nobody", f->keys, getuid(), &err),
                   WIF_E_TAMPERED);
  wif_handover_drop_binding(&rec);
  assert_int_equal(wif_handover_verify(&in, "nobody", f->keys, getuid(), &err),
                   WIF_OK);
  wif_handover_clear(&rec);
  wif_handover_clear(&h);
}

static void test_parse(void **state) {
  const char *v[WIF_HO_COUNT] = {"p", "s", "i", "10", "user:a", NULL};
  struct wif_handover_grant g;
  struct wif_error err;
  char *huge = malloc(WIF_HANDOVER_VALUE_MAX + 2);
  static const char *const bad_exp[] = {
      "", "-5", "+5", " 5", "5x", "0x10", "99999999999999999999999"};

  (void)state;
  assert_int_equal(wif_handover_parse(v, &g, &err), WIF_OK);
  assert_int_equal(g.type, WIF_AUTHZ_USER);
  assert_string_equal(g.grant, "user:a");
  v[WIF_HO_GRANT] = "claim:roles:DB.Read";
  assert_int_equal(wif_handover_parse(v, &g, &err), WIF_OK);
  assert_int_equal(g.type, WIF_AUTHZ_CLAIM);
  v[WIF_HO_GRANT] = "claim:roles";
  assert_int_equal(wif_handover_parse(v, &g, &err), WIF_E_MALFORMED);
  v[WIF_HO_GRANT] = "user:a";
  for (size_t i = 0; i < sizeof(bad_exp) / sizeof(bad_exp[0]); i++) {
    v[WIF_HO_EXPIRES] = bad_exp[i];
    assert_int_equal(wif_handover_parse(v, &g, &err), WIF_E_MALFORMED);
  }
  v[WIF_HO_EXPIRES] = "10";
  v[WIF_HO_GRANT] = "users:a";
  assert_int_equal(wif_handover_parse(v, &g, &err), WIF_E_MALFORMED);
  v[WIF_HO_GRANT] = NULL;
  assert_int_equal(wif_handover_parse(v, &g, &err), WIF_E_MALFORMED);
  assert_non_null(strstr(err.msg, "no WIF_GRANT"));
  assert_non_null(huge);
  memset(huge, 'a', WIF_HANDOVER_VALUE_MAX + 1);
  huge[WIF_HANDOVER_VALUE_MAX + 1] = '\0';
  v[WIF_HO_GRANT] = "user:a";
  v[WIF_HO_ISSUER] = huge;
  assert_int_equal(wif_handover_parse(v, &g, &err), WIF_E_MALFORMED);
  free(huge);
  assert_false(wif_handover_present((const char *[WIF_HO_COUNT]){NULL}));
}

static void test_skip_prefix(void **state) {
  (void)state;
  assert_string_equal(wif_text_skip_prefix("config=/x", "config="), "/x");
  assert_string_equal(wif_text_skip_prefix("config=", "config="), "");
  assert_null(wif_text_skip_prefix("config", "config="));
  assert_null(wif_text_skip_prefix("xconfig=", "config="));
  assert_null(wif_text_skip_prefix(NULL, "config="));
}

/* log_file=: created 0600 whatever the umask, appended to, never a
 * symbolic link or an unsafe file, never descriptors 0-2. */
static void test_logfile(void **state) {
  struct fixture *f = *state;
  char *path = wif_test_path(f->dir, "log");
  char *link_path = wif_test_path(f->dir, "loglink");
  struct wif_error err;
  struct stat st;
  int fd = -1;
  char *text;
  mode_t old = umask(0);
  int saved = dup(0);

  assert_int_equal(close(0), 0); /* the host closed stdin */
  assert_int_equal(wif_logfile_open(path, getuid(), &fd, &err), WIF_OK);
  assert_int_equal(dup2(saved, 0), 0);
  close(saved);
  umask(old);
  assert_true(fd > 2);
  assert_int_equal(fstat(fd, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0600);
  assert_true(wif_logfile_write(fd, "pam_wif(svc:auth)", "one"));
  close(fd);
  assert_int_equal(wif_logfile_open(path, getuid(), &fd, &err), WIF_OK);
  assert_true(wif_logfile_write(fd, "p", "two"));
  close(fd);
  text = wif_test_read(path, NULL);
  assert_non_null(strstr(text, "Z pam_wif(svc:auth): one\n"));
  assert_non_null(strstr(text, "Z p: two\n"));
  free(text);
  assert_int_equal(chmod(path, 0620), 0);
  assert_int_equal(wif_logfile_open(path, getuid(), &fd, &err),
                   WIF_E_CONFIG_INSECURE);
  assert_int_equal(fd, -1);
  assert_int_equal(chmod(path, 0600), 0);
  assert_int_equal(symlink(path, link_path), 0);
  assert_int_equal(wif_logfile_open(link_path, getuid(), &fd, &err),
                   WIF_E_CONFIG_INSECURE);
  assert_int_equal(unlink(link_path), 0);
  assert_int_equal(chmod(f->dir, 0777), 0);
  assert_int_equal(wif_logfile_open(path, getuid(), &fd, &err),
                   WIF_E_CONFIG_INSECURE);
  assert_int_equal(chmod(f->dir, 0755), 0);
  assert_int_equal(wif_logfile_open("log", getuid(), &fd, &err),
                   WIF_E_CONFIG_INVALID);
  assert_int_equal(wif_logfile_open("/", getuid(), &fd, &err),
                   WIF_E_CONFIG_INVALID);
  assert_false(wif_logfile_write(-1, "p", "x"));
  free(link_path);
  free(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_encode),
      cmocka_unit_test_setup_teardown(test_key_created_once, setup, teardown),
      cmocka_unit_test_setup_teardown(test_key_race, setup, teardown),
      cmocka_unit_test_setup_teardown(test_key_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_tag, setup, teardown),
      cmocka_unit_test_setup_teardown(test_record, setup, teardown),
      cmocka_unit_test(test_parse),
      cmocka_unit_test(test_skip_prefix),
      cmocka_unit_test_setup_teardown(test_logfile, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
