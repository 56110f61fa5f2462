/* SPDX-License-Identifier: Apache-2.0 */
/* subprocess.c: the clean start, what comes back, and the limits. */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "subprocess.h"

static char dir[4096];

static int setup(void **state) {
  char *base = wif_test_key_path("../subprocess_test.XXXXXX");

  (void)state;
  snprintf(dir, sizeof(dir), "%s", base);
  free(base);
  return mkdtemp(dir) != NULL && chmod(dir, 0755) == 0 ? 0 : -1;
}

static int teardown(void **state) {
  char cmd[4200];

  (void)state;
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  return system(cmd) == 0 ? 0 : -1;
}

/* A script of ours in dir, 0755. Caller frees. */
static char *script(const char *name, const char *body) {
  char *path = wif_test_path(dir, name);
  FILE *f = fopen(path, "w");

  assert_non_null(f);
  fprintf(f, "#!/bin/sh\n%s\n", body);
  assert_int_equal(fclose(f), 0);
  assert_int_equal(chmod(path, 0755), 0);
  return path;
}

static wif_rc run(const char *path, bool clean, long timeout_ms, size_t out_max,
                  struct wif_subprocess_result *r, struct wif_error *err) {
  static const char *const envp[] = {"PATH=/usr/bin:/bin", "ONLY=this", NULL};
  const char *argv[] = {path, "arg one", NULL};
  struct wif_subprocess s;

  memset(&s, 0, sizeof(s));
  s.path = path;
  s.argv = argv;
  s.envp = envp;
  s.trusted = true;
  s.owner = geteuid();
  s.clean = clean;
  s.timeout_ms = timeout_ms;
  s.out_max = out_max;
  wif_error_clear(err);
  return wif_subprocess_run(&s, r, err);
}

/* stdout comes back whole, the first stderr line alone, the status too. */
static void test_output_and_status(void **state) {
  char *p = script("out", "echo \"$1\"; echo first >&2; echo second >&2; "
                          "exit 3");
  struct wif_subprocess_result r;
  struct wif_error err;

  (void)state;
  assert_int_equal(run(p, false, 5000, 1024, &r, &err), WIF_OK);
  assert_string_equal(r.out, "arg one\n");
  assert_string_equal(r.err_line, "first");
  assert_true(r.exited);
  assert_int_equal(r.exit_status, 3);
  assert_int_equal(r.signal, 0);
  wif_subprocess_result_clear(&r);
  free(p);
}

/* The clean start: only the given environment, /, 077, fixed limits,
 * default signals and no inherited descriptor but the script itself. */
static void test_clean_start(void **state) {
  char *p = script("state", "env; pwd; umask; ulimit -n; ulimit -c; "
                            "ls /proc/self/fd | tr '\\n' ' '; echo; "
                            "grep -E '^(SigIgn|SigBlk)' /proc/self/status");
  struct wif_subprocess_result r;
  struct wif_error err;
  struct sigaction ign, old;
  sigset_t block, oldmask;
  int leak = open("/dev/null", O_RDONLY); /* no O_CLOEXEC on purpose */

  (void)state;
  assert_true(leak >= 0);
  memset(&ign, 0, sizeof(ign));
  ign.sa_handler = SIG_IGN;
  assert_int_equal(sigaction(SIGTERM, &ign, &old), 0);
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  assert_int_equal(sigprocmask(SIG_BLOCK, &block, &oldmask), 0);
  umask(0);
  assert_int_equal(run(p, true, 5000, 8192, &r, &err), WIF_OK);
  umask(022);
  assert_int_equal(sigprocmask(SIG_SETMASK, &oldmask, NULL), 0);
  assert_int_equal(sigaction(SIGTERM, &old, NULL), 0);
  close(leak);
  assert_non_null(strstr(r.out, "ONLY=this\n"));
  assert_null(strstr(r.out, "HOME="));
  /* Under valgrind the limits set before exec are its virtual ones. */
  if (getenv("LD_PRELOAD") != NULL && strstr(getenv("LD_PRELOAD"), "vgpreload"))
    assert_non_null(strstr(r.out, "\n/\n0077\n"));
  else
    assert_non_null(strstr(r.out, "\n/\n0077\n1024\n0\n"));
  /* 0-2, the script (3), and ls's own directory handle. */
  assert_non_null(strstr(r.out, "0 1 2 3 4 \n"));
  assert_non_null(strstr(r.out, "SigIgn:\t0000000000000000\n"));
  assert_non_null(strstr(r.out, "SigBlk:\t0000000000000000\n"));
  wif_subprocess_result_clear(&r);
  free(p);
}

/* A program that outlives its time is killed, with its whole session. */
static void test_timeout(void **state) {
  char *p = script("slow", "sleep 30 & sleep 30");
  struct wif_subprocess_result r;
  struct wif_error err;

  (void)state;
  assert_int_equal(run(p, true, 300, 1024, &r, &err), WIF_E_UNAVAILABLE);
  assert_non_null(strstr(err.msg, "did not finish within 300 ms"));
  assert_null(r.out);
  free(p);
}

/* More output than allowed is a failure, not a cut answer. */
static void test_output_cap(void **state) {
  char *p = script("big", "head -c 5000 /dev/zero | tr '\\0' x");
  struct wif_subprocess_result r;
  struct wif_error err;

  (void)state;
  assert_int_equal(run(p, false, 5000, 4096, &r, &err), WIF_E_TOO_LARGE);
  assert_null(r.out);
  assert_int_equal(run(p, false, 5000, 5000, &r, &err), WIF_OK);
  assert_int_equal(r.out_len, 5000);
  wif_subprocess_result_clear(&r);
  free(p);
}

/* A host that ignores SIGCHLD reaps for us: the output still counts, the
 * status is unknown. */
static void test_sigchld_ignored(void **state) {
  char *p = script("reaped", "echo done");
  struct wif_subprocess_result r;
  struct wif_error err;
  struct sigaction ign, old;

  (void)state;
  memset(&ign, 0, sizeof(ign));
  ign.sa_handler = SIG_IGN;
  assert_int_equal(sigaction(SIGCHLD, &ign, &old), 0);
  assert_int_equal(run(p, false, 5000, 1024, &r, &err), WIF_OK);
  assert_int_equal(sigaction(SIGCHLD, &old, NULL), 0);
  assert_string_equal(r.out, "done\n");
  assert_false(r.exited);
  wif_subprocess_result_clear(&r);
  free(p);
}

/* The trusted-file rule on the program, and relative paths. */
static void test_untrusted_program(void **state) {
  char *p = script("open", "echo never");
  struct wif_subprocess_result r;
  struct wif_error err;

  (void)state;
  assert_int_equal(chmod(p, 0777), 0);
  assert_int_equal(run(p, false, 5000, 1024, &r, &err), WIF_E_CONFIG_INSECURE);
  assert_non_null(strstr(err.msg, "can write it"));
  assert_int_equal(run("bin/sh", false, 5000, 1024, &r, &err),
                   WIF_E_CONFIG_INVALID);
  assert_int_equal(chmod(p, 0644), 0);
  assert_int_equal(run(p, false, 5000, 1024, &r, &err), WIF_E_CONFIG_INVALID);
  assert_non_null(strstr(err.msg, "not an executable"));
  free(p);
}

/* With 0, 1 and 2 closed in the host, nothing of ours lands there and the
 * program still gets its pipes. */
static void test_closed_std_fds(void **state) {
  char *p = script("std", "echo out; echo err >&2");
  struct wif_subprocess_result r;
  struct wif_error err;
  int saved[3];
  wif_rc rc;

  (void)state;
  for (int i = 0; i < 3; i++) {
    saved[i] = fcntl(i, F_DUPFD_CLOEXEC, 10);
    assert_true(saved[i] >= 0);
    close(i);
  }
  rc = run(p, true, 5000, 1024, &r, &err);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(dup2(saved[i], i), i);
    close(saved[i]);
  }
  assert_int_equal(rc, WIF_OK);
  assert_string_equal(r.out, "out\n");
  assert_string_equal(r.err_line, "err");
  wif_subprocess_result_clear(&r);
  free(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_output_and_status),
      cmocka_unit_test(test_clean_start),
      cmocka_unit_test(test_timeout),
      cmocka_unit_test(test_output_cap),
      cmocka_unit_test(test_sigchld_ignored),
      cmocka_unit_test(test_untrusted_program),
      cmocka_unit_test(test_closed_std_fds),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
