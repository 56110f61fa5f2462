/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for file.c: trusted reads (SECURITY-CASES I1-I4, I11) and
 * atomic writes (I5). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include <dirent.h>

#include "testutil.h"

#include "file.h"

/* Every test works under a private 0700 directory made in the current
 * directory (the build tree), whose parents are root- or user-owned and
 * not world-writable, unlike /tmp. */
static char base[PATH_MAX];

static char *path_in(const char *name) {
  char *p = NULL;

  assert_true(asprintf(&p, "%s/%s", base, name) > 0);
  return p;
}

static int setup(void **state) {
  (void)state;
  wif_test_scratch_dir(base, sizeof(base), "wif-test-file");
  return 0;
}

static int teardown(void **state) {
  (void)state;
  return wif_test_remove_tree(base);
}

/* A uid the file is not owned by, and the expected-owner argument that
 * makes the ownership rule fail, whether we run as root or not. */
static uid_t other_owner(void) {
  return getuid() == 0 ? 0 : getuid() + 1;
}

static size_t count_entries(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  size_t n = 0;

  assert_non_null(d);
  while ((e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
      n++;
  closedir(d);
  return n;
}

static void test_trusted_read_ok(void **state) {
  struct wif_error err;
  char *p = path_in("ok.conf");
  char *buf = NULL;
  size_t len = 0;

  (void)state;
  wif_test_write(p, "hello\n", 6, 0644);
  assert_int_equal(wif_file_read_trusted(p, getuid(), 100, &buf, &len, &err),
                   WIF_OK);
  assert_int_equal(len, 6);
  assert_memory_equal(buf, "hello\n", 7); /* NUL-terminated */
  wif_file_free_buffer(buf, len);

  /* Exactly at the cap still passes. */
  assert_int_equal(wif_file_read_trusted(p, getuid(), 6, &buf, &len, &err),
                   WIF_OK);
  assert_int_equal(len, 6);
  wif_file_free_buffer(buf, len);
  wif_file_free_buffer(NULL, 0);
  free(p);
}

static void test_trusted_read_empty(void **state) {
  struct wif_error err;
  char *p = path_in("empty.conf");
  char *buf = NULL;
  size_t len = 99;

  (void)state;
  wif_test_write(p, "", 0, 0600);
  assert_int_equal(wif_file_read_trusted(p, getuid(), 100, &buf, &len, &err),
                   WIF_OK);
  assert_int_equal(len, 0);
  assert_non_null(buf);
  assert_int_equal(buf[0], '\0');
  wif_file_free_buffer(buf, len);
  free(p);
}

/* I1: group- or world-writable file. */
static void test_i1_group_writable(void **state) {
  struct wif_error err;
  char *p = path_in("gw.conf");
  char *buf = (char *)1;
  size_t len = 1;
  char want[PATH_MAX + 64];

  (void)state;
  wif_test_write(p, "x", 1, 0664);
  assert_int_equal(wif_file_read_trusted(p, getuid(), 100, &buf, &len, &err),
                   WIF_E_CONFIG_INSECURE);
  assert_null(buf);
  assert_int_equal(len, 0);
  assert_int_equal(err.rc, WIF_E_CONFIG_INSECURE);
  snprintf(want, sizeof(want), "%s: group or others can write it (mode 0664)",
           p);
  assert_string_equal(err.msg, want);

  assert_int_equal(chmod(p, 0602), 0);
  assert_int_equal(wif_file_read_trusted(p, getuid(), 100, &buf, &len, &err),
                   WIF_E_CONFIG_INSECURE);
  snprintf(want, sizeof(want), "%s: group or others can write it (mode 0602)",
           p);
  assert_string_equal(err.msg, want);
  free(p);
}

/* I1: not owned by the expected owner nor root. */
static void test_i1_wrong_owner(void **state) {
  struct wif_error err;
  char *p = path_in("owner.conf");
  char *buf = NULL;
  size_t len = 0;
  char want[PATH_MAX + 64];

  (void)state;
  wif_test_write(p, "x", 1, 0644);
  if (getuid() == 0) {
    assert_int_equal(chown(p, 65534, 65534), 0);
    assert_int_equal(wif_file_read_trusted(p, 0, 100, &buf, &len, &err),
                     WIF_E_CONFIG_INSECURE);
    snprintf(want, sizeof(want), "%s: owned by uid 65534, not by root", p);
    assert_string_equal(err.msg, want);
    /* The named owner is accepted too (the module passes root, wifctl
     * check may pass the invoking user). */
    assert_int_equal(wif_file_read_trusted(p, 65534, 100, &buf, &len, &err),
                     WIF_OK);
    assert_string_equal(buf, "x");
    wif_file_free_buffer(buf, len);
    buf = NULL;
  } else {
    /* Our own directories already fail the rule for another owner. */
    assert_int_equal(
        wif_file_read_trusted(p, other_owner(), 100, &buf, &len, &err),
        WIF_E_CONFIG_INSECURE);
    assert_non_null(strstr(err.msg, "owned by uid"));
    assert_memory_equal(err.msg, p, strlen(p));
  }
  assert_null(buf);
  free(p);
}

/* I1: the file itself is a symbolic link (to a perfectly good file). */
static void test_i1_symlink(void **state) {
  struct wif_error err;
  char *p = path_in("target.conf");
  char *l = path_in("link.conf");
  char *buf = NULL;
  size_t len = 0;
  char want[PATH_MAX + 64];

  (void)state;
  wif_test_write(p, "x", 1, 0644);
  assert_int_equal(symlink(p, l), 0);
  assert_int_equal(wif_file_read_trusted(l, getuid(), 100, &buf, &len, &err),
                   WIF_E_CONFIG_INSECURE);
  snprintf(want, sizeof(want), "%s: the file is a symbolic link", l);
  assert_string_equal(err.msg, want);
  assert_null(buf);
  free(p);
  free(l);
}

/* I1 and I4: a FIFO must neither block the open nor be read. */
static void test_i4_fifo_does_not_block(void **state) {
  struct wif_error err;
  char *p = path_in("fifo");
  char *buf = NULL;
  size_t len = 0;
  char want[PATH_MAX + 64];

  (void)state;
  assert_int_equal(mkfifo(p, 0600), 0);
  /* A blocking open would hang: the alarm kills the test instead. */
  alarm(10);
  assert_int_equal(wif_file_read_trusted(p, getuid(), 100, &buf, &len, &err),
                   WIF_E_CONFIG_INSECURE);
  snprintf(want, sizeof(want), "%s: not a regular file", p);
  assert_string_equal(err.msg, want);
  assert_int_equal(wif_file_read(p, 100, &buf, &len, &err), WIF_E_SYSTEM);
  assert_string_equal(err.msg, want);
  alarm(0);
  assert_null(buf);
  free(p);
}

/* I1: a directory and a device are not regular files. */
static void test_i1_dir_and_device(void **state) {
  struct wif_error err;
  char *p = path_in("adir");
  char *buf = NULL;
  size_t len = 0;
  char want[PATH_MAX + 64];

  (void)state;
  assert_int_equal(mkdir(p, 0755), 0);
  assert_int_equal(wif_file_read_trusted(p, getuid(), 100, &buf, &len, &err),
                   WIF_E_CONFIG_INSECURE);
  snprintf(want, sizeof(want), "%s: not a regular file", p);
  assert_string_equal(err.msg, want);

  assert_int_equal(
      wif_file_read_trusted("/dev/null", getuid(), 100, &buf, &len, &err),
      WIF_E_CONFIG_INSECURE);
  assert_string_equal(err.msg, "/dev/null: not a regular file");
  assert_int_equal(wif_file_read("/dev/null", 100, &buf, &len, &err),
                   WIF_E_SYSTEM);
  assert_string_equal(err.msg, "/dev/null: not a regular file");
  assert_null(buf);
  free(p);
}

/* I11: over the cap, including a huge sparse file (refused from fstat,
 * before reading). */
static void test_i11_too_large(void **state) {
  struct wif_error err;
  char *p = path_in("big.conf");
  char *s = path_in("sparse.conf");
  char *buf = NULL;
  size_t len = 0;
  char want[PATH_MAX + 64];
  int fd;

  (void)state;
  wif_test_write(p, "0123456789", 10, 0644);
  assert_int_equal(wif_file_read_trusted(p, getuid(), 9, &buf, &len, &err),
                   WIF_E_TOO_LARGE);
  snprintf(want, sizeof(want), "%s: larger than 9 bytes", p);
  assert_string_equal(err.msg, want);
  assert_int_equal(wif_file_read(p, 9, &buf, &len, &err), WIF_E_TOO_LARGE);
  assert_string_equal(err.msg, want);

  fd = open(s, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  assert_true(fd >= 0);
  assert_int_equal(ftruncate(fd, (off_t)1 << 30), 0);
  assert_int_equal(close(fd), 0);
  assert_int_equal(
      wif_file_read_trusted(s, getuid(), 256 * 1024, &buf, &len, &err),
      WIF_E_TOO_LARGE);
  snprintf(want, sizeof(want), "%s: larger than 262144 bytes", s);
  assert_string_equal(err.msg, want);
  assert_null(buf);
  free(p);
  free(s);
}

/* I2: a parent directory writable by group/others, sticky, or owned by
 * someone else. */
static void test_i2_parent_directory(void **state) {
  struct wif_error err;
  char *d = path_in("sub");
  char *p = path_in("sub/x.conf");
  char *buf = NULL;
  size_t len = 0;
  char want[2 * PATH_MAX + 64];

  (void)state;
  assert_int_equal(mkdir(d, 0755), 0);
  wif_test_write(p, "x", 1, 0644);
  assert_int_equal(wif_file_read_trusted(p, getuid(), 100, &buf, &len, &err),
                   WIF_OK);
  wif_file_free_buffer(buf, len);

  assert_int_equal(chmod(d, 0775), 0);
  assert_int_equal(wif_file_read_trusted(p, getuid(), 100, &buf, &len, &err),
                   WIF_E_CONFIG_INSECURE);
  snprintf(want, sizeof(want),
           "%s: directory %s: group or others can write it (mode 0775)", p, d);
  assert_string_equal(err.msg, want);

  assert_int_equal(chmod(d, 01755), 0);
  assert_int_equal(wif_file_read_trusted(p, getuid(), 100, &buf, &len, &err),
                   WIF_E_CONFIG_INSECURE);
  snprintf(want, sizeof(want),
           "%s: directory %s: is a sticky directory "
           "(mode 1755)",
           p, d);
  assert_string_equal(err.msg, want);

  /* The real /tmp is world-writable and sticky. */
  assert_int_equal(
      wif_file_read_trusted("/tmp/x.conf", 0, 100, &buf, &len, &err),
      WIF_E_CONFIG_INSECURE);
  assert_string_equal(
      err.msg,
      "/tmp/x.conf: directory /tmp: group or others can write it (mode 1777)");

  assert_int_equal(chmod(d, 0755), 0);
  if (getuid() == 0) {
    assert_int_equal(chown(d, 65534, 65534), 0);
    assert_int_equal(wif_file_read_trusted(p, 0, 100, &buf, &len, &err),
                     WIF_E_CONFIG_INSECURE);
    snprintf(want, sizeof(want),
             "%s: directory %s: owned by uid 65534, not by root", p, d);
    assert_string_equal(err.msg, want);
  }
  assert_null(buf);
  free(d);
  free(p);
}

/* I3: a symlink as a path component is refused, even to a safe dir. */
static void test_i3_symlink_component(void **state) {
  struct wif_error err;
  char *real = path_in("real");
  char *link = path_in("link");
  char *p = path_in("link/x.conf");
  char *buf = NULL;
  size_t len = 0;
  char want[2 * PATH_MAX + 64];

  (void)state;
  assert_int_equal(mkdir(real, 0755), 0);
  assert_int_equal(symlink(real, link), 0);
  wif_test_write(p, "x", 1, 0644);
  assert_int_equal(wif_file_read_trusted(p, getuid(), 100, &buf, &len, &err),
                   WIF_E_CONFIG_INSECURE);
  snprintf(want, sizeof(want), "%s: directory %s is a symbolic link", p, link);
  assert_string_equal(err.msg, want);
  assert_null(buf);
  free(real);
  free(link);
  free(p);
}

static void test_bad_paths(void **state) {
  struct wif_error err;
  char *buf = NULL;
  size_t len = 0;
  char *p = path_in("missing.conf");
  char want[PATH_MAX + 64];

  (void)state;
  assert_int_equal(
      wif_file_read_trusted("relative.conf", 0, 100, &buf, &len, &err),
      WIF_E_CONFIG_INVALID);
  assert_string_equal(err.msg, "relative.conf: the path must be absolute");
  assert_int_equal(wif_file_read_trusted(p, getuid(), 100, &buf, &len, &err),
                   WIF_E_SYSTEM);
  snprintf(want, sizeof(want),
           "%s: cannot open the file: No such file or directory", p);
  assert_string_equal(err.msg, want);
  assert_int_equal(wif_file_read(p, 100, &buf, &len, &err), WIF_E_SYSTEM);
  snprintf(want, sizeof(want), "%s: cannot open: No such file or directory", p);
  assert_string_equal(err.msg, want);
  assert_null(buf);
  free(p);
}

/* wif_file_read is for user-chosen token files: no ownership rule, and
 * symlinks are followed. */
static void test_untrusted_read(void **state) {
  struct wif_error err;
  char *p = path_in("token");
  char *l = path_in("token-link");
  char *buf = NULL;
  size_t len = 0;

  (void)state;
  wif_test_write(p, "abc.def.ghi", 11, 0666);
  assert_int_equal(symlink(p, l), 0);
  assert_int_equal(wif_file_read(l, 11, &buf, &len, &err), WIF_OK);
  assert_int_equal(len, 11);
  assert_string_equal(buf, "abc.def.ghi");
  wif_file_free_buffer(buf, len);
  free(p);
  free(l);
}

static void test_write_atomic(void **state) {
  struct wif_error err;
  char *p = path_in("cache.json");
  char *buf = NULL;
  size_t len = 0;
  struct stat st;

  (void)state;
  assert_int_equal(wif_file_write_atomic(p, "first", 5, 0600, &err), WIF_OK);
  assert_int_equal(stat(p, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0600);
  assert_int_equal(wif_file_read_trusted(p, getuid(), 100, &buf, &len, &err),
                   WIF_OK);
  assert_string_equal(buf, "first");
  wif_file_free_buffer(buf, len);

  assert_int_equal(wif_file_write_atomic(p, "second!", 7, 0640, &err), WIF_OK);
  assert_int_equal(stat(p, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0640);
  assert_int_equal(wif_file_read(p, 100, &buf, &len, &err), WIF_OK);
  assert_string_equal(buf, "second!");
  wif_file_free_buffer(buf, len);
  assert_int_equal(count_entries(base), 1); /* no temporary left */
  free(p);
}

/* I5: a write that fails half-way (file size limit, like ENOSPC) leaves
 * the old content and no temporary. */
static void test_write_atomic_failure_keeps_old(void **state) {
  struct wif_error err;
  char *p = path_in("cache.json");
  char *buf = NULL;
  size_t len = 0;
  char big[4096];
  struct rlimit old;
  struct rlimit lim;
  void (*prev)(int);

  (void)state;
  memset(big, 'k', sizeof(big));
  assert_int_equal(wif_file_write_atomic(p, "good", 4, 0600, &err), WIF_OK);
  assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
  lim = old;
  lim.rlim_cur = 100;
  prev = signal(SIGXFSZ, SIG_IGN);
  assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
  assert_int_equal(wif_file_write_atomic(p, big, sizeof(big), 0600, &err),
                   WIF_E_SYSTEM);
  assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
  signal(SIGXFSZ, prev);
  assert_non_null(strstr(err.msg, "write failed: File too large"));

  assert_int_equal(wif_file_read(p, 100, &buf, &len, &err), WIF_OK);
  assert_string_equal(buf, "good");
  wif_file_free_buffer(buf, len);
  assert_int_equal(count_entries(base), 1);
  free(p);
}

/* The rename itself fails (target is a non-empty directory): the
 * temporary is removed and the directory untouched. */
static void test_write_atomic_rename_fails(void **state) {
  struct wif_error err;
  char *d = path_in("target");
  char *inner = path_in("target/keep");
  char *missing = path_in("nodir/file");
  char want[PATH_MAX + 64];

  (void)state;
  assert_int_equal(mkdir(d, 0700), 0);
  wif_test_write(inner, "k", 1, 0600);
  assert_int_equal(wif_file_write_atomic(d, "data", 4, 0600, &err),
                   WIF_E_SYSTEM);
  assert_non_null(strstr(err.msg, "rename failed"));
  assert_int_equal(count_entries(base), 1);
  assert_int_equal(count_entries(d), 1);

  assert_int_equal(wif_file_write_atomic(missing, "data", 4, 0600, &err),
                   WIF_E_SYSTEM);
  snprintf(want, sizeof(want),
           "%s/nodir: cannot open: No such file or directory", base);
  assert_string_equal(err.msg, want);
  free(d);
  free(inner);
  free(missing);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_trusted_read_ok, setup, teardown),
      cmocka_unit_test_setup_teardown(test_trusted_read_empty, setup, teardown),
      cmocka_unit_test_setup_teardown(test_i1_group_writable, setup, teardown),
      cmocka_unit_test_setup_teardown(test_i1_wrong_owner, setup, teardown),
      cmocka_unit_test_setup_teardown(test_i1_symlink, setup, teardown),
      cmocka_unit_test_setup_teardown(test_i4_fifo_does_not_block, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_i1_dir_and_device, setup, teardown),
      cmocka_unit_test_setup_teardown(test_i11_too_large, setup, teardown),
      cmocka_unit_test_setup_teardown(test_i2_parent_directory, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_i3_symlink_component, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_bad_paths, setup, teardown),
      cmocka_unit_test_setup_teardown(test_untrusted_read, setup, teardown),
      cmocka_unit_test_setup_teardown(test_write_atomic, setup, teardown),
      cmocka_unit_test_setup_teardown(test_write_atomic_failure_keeps_old,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_write_atomic_rename_fails, setup,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
