/* SPDX-License-Identifier: Apache-2.0 */
/* exec: token callback (SECURITY-CASES L1-L4, L6, A10): no shell, clean
 * environment, closed fds, bounded time and output, output shapes. */
#include "source_testutil.h"

#include <time.h>

#include "source.h"

static char dir[PATH_MAX];

static int setup(void **state) {
  (void)state;
  wif_test_scratch_dir(dir, sizeof(dir), "wif-test-exec");
  return 0;
}

static int teardown(void **state) {
  (void)state;
  (void)wif_test_remove_tree(dir);
  return 0;
}

/* dir/name with a shell script body, mode 0755. */
static char *script(const char *name, const char *body) {
  char *p = NULL;
  char *text = NULL;

  assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
  assert_true(asprintf(&text, "#!/bin/sh\n%s\n", body) > 0);
  wif_test_write_text(p, text, 0755);
  free(text);
  return p;
}

static wif_rc run(const char *command, long timeout_ms, char **tok,
                  int64_t *exp, struct wif_error *err) {
  struct wif_source_opts o;

  wif_source_opts_init(&o);
  o.kind = WIF_SOURCE_EXEC;
  o.command = command;
  o.audience = "api://aud";
  o.client_id = "cid-1";
  o.timeout_ms = timeout_ms;
  wif_error_clear(err);
  return wif_source_fetch(&o, NULL, tok, exp, err);
}

static int64_t mono(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_raw_token(void **state) {
  char *s = script("raw", "printf 'aaa.bbb.ccc\\n'");
  char *tok = NULL;
  int64_t exp = -1;
  struct wif_error err;

  (void)state;
  assert_int_equal(run(s, 2000, &tok, &exp, &err), WIF_OK);
  assert_string_equal(tok, "aaa.bbb.ccc");
  assert_int_equal(exp, 0); /* not a decodable JWT: unknown expiry */
  wif_source_token_free(tok);
  free(s);
}

/* A10: exactly one trailing newline is framing; a second is not. */
static void test_a10_one_newline_only(void **state) {
  char *s = script("two", "printf 'aaa.bbb.ccc\\n\\n'");
  char *tok = NULL;
  int64_t exp;
  struct wif_error err;

  (void)state;
  assert_int_equal(run(s, 2000, &tok, &exp, &err), WIF_E_TOKEN_UNAVAILABLE);
  assert_null(tok);
  free(s);
  s = script("lead", "printf ' aaa.bbb.ccc'");
  assert_int_equal(run(s, 2000, &tok, &exp, &err), WIF_E_TOKEN_UNAVAILABLE);
  free(s);
}

static void test_json_access_token(void **state) {
  char *s = script("json", "printf '{\"access_token\":\"x.y.z\","
                           "\"expires_in\":600}'");
  char *tok = NULL;
  int64_t exp = 0;
  int64_t before = (int64_t)time(NULL);
  int64_t after;
  struct wif_error err;

  (void)state;
  assert_int_equal(run(s, 2000, &tok, &exp, &err), WIF_OK);
  after = (int64_t)time(NULL);
  assert_string_equal(tok, "x.y.z");
  /* expires_in counts from the answer, however long the run took. */
  assert_true(exp >= before + 600 && exp <= after + 600);
  wif_source_token_free(tok);
  free(s);
}

/* The Kubernetes client.authentication.k8s.io ExecCredential shape. */
static void test_exec_credential(void **state) {
  char *s = script("k8s", "cat <<'E'\n"
                          "{\"apiVersion\":\"client.authentication.k8s.io/v1\","
                          "\"kind\":\"ExecCredential\",\"status\":{\"token\":"
                          "\"k.l.m\",\"expirationTimestamp\":"
                          "\"2030-01-02T03:04:05Z\"}}\nE");
  char *tok = NULL;
  int64_t exp = 0;
  struct wif_error err;

  (void)state;
  assert_int_equal(run(s, 2000, &tok, &exp, &err), WIF_OK);
  assert_string_equal(tok, "k.l.m");
  assert_int_equal(exp, 1893553445);
  wif_source_token_free(tok);
  free(s);
}

/* Expiry from the token's own exp claim when the output has none. */
static void test_exp_from_jwt(void **state) {
  char *jwt = wif_test_signf("rs256", "RS256", "{\"exp\":%lld,\"sub\":\"a\"}",
                             (long long)2000000000);
  char *body = NULL;
  char *s;
  char *tok = NULL;
  int64_t exp = 0;
  struct wif_error err;

  (void)state;
  assert_true(asprintf(&body, "echo %s", jwt) > 0);
  s = script("jwt", body);
  assert_int_equal(run(s, 2000, &tok, &exp, &err), WIF_OK);
  assert_string_equal(tok, jwt);
  assert_int_equal(exp, 2000000000);
  wif_source_token_free(tok);
  free(s);
  free(body);
  free(jwt);
}

static void test_bad_json(void **state) {
  char *tok = NULL;
  int64_t exp;
  struct wif_error err;
  char *s = script("badjson", "printf '{\"access_token\":42}'");

  (void)state;
  assert_int_equal(run(s, 2000, &tok, &exp, &err), WIF_E_TOKEN_UNAVAILABLE);
  free(s);
  s = script("trunc", "printf '{\"access_token\":\"a.b.c\"'");
  assert_int_equal(run(s, 2000, &tok, &exp, &err), WIF_E_TOKEN_UNAVAILABLE);
  assert_non_null(strstr(err.msg, "not valid JSON"));
  free(s);
}

/* L3: non-zero exit, no output, NUL bytes, output over the cap. */
static void test_l3_failures(void **state) {
  char *tok = NULL;
  int64_t exp;
  struct wif_error err;
  char *s = script("fail", "echo a.b.c; exit 3");

  (void)state;
  assert_int_equal(run(s, 2000, &tok, &exp, &err), WIF_E_TOKEN_UNAVAILABLE);
  assert_non_null(strstr(err.msg, "status 3"));
  free(s);
  s = script("empty", "exit 0");
  assert_int_equal(run(s, 2000, &tok, &exp, &err), WIF_E_TOKEN_UNAVAILABLE);
  free(s);
  s = script("nul", "printf 'a.b\\000.c'");
  assert_int_equal(run(s, 2000, &tok, &exp, &err), WIF_E_TOKEN_UNAVAILABLE);
  assert_non_null(strstr(err.msg, "NUL"));
  free(s);
  /* Writes forever: the read is bounded and the writer killed. */
  s = script("flood", "exec /usr/bin/yes aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
  assert_int_equal(run(s, 5000, &tok, &exp, &err), WIF_E_TOKEN_UNAVAILABLE);
  assert_non_null(strstr(err.msg, "65536"));
  free(s);
  s = script("signal", "kill -9 $$");
  assert_int_equal(run(s, 2000, &tok, &exp, &err), WIF_E_TOKEN_UNAVAILABLE);
  assert_non_null(strstr(err.msg, "signal 9"));
  free(s);
  assert_null(tok);
}

/* L2: a hanging command is killed at the timeout, with its children. */
static void test_l2_timeout_kills_group(void **state) {
  char *pidfile = NULL;
  char *body = NULL;
  char *s;
  char *tok = NULL;
  int64_t exp;
  struct wif_error err;
  int64_t t0;
  char *text;
  size_t len;
  long child;
  char stat_path[64];
  FILE *f;
  char st = '?';

  (void)state;
  assert_true(asprintf(&pidfile, "%s/pid", dir) > 0);
  assert_true(asprintf(&body, "sleep 30 & echo $! > %s; sleep 30", pidfile) >
              0);
  s = script("hang", body);
  /* A loaded machine may not even reach the echo within the timeout:
   * then again with a longer one, so that the child can be checked. */
  for (long ms = 300;; ms *= 10) {
    t0 = mono();
    assert_int_equal(run(s, ms, &tok, &exp, &err), WIF_E_TOKEN_UNAVAILABLE);
    /* Did not wait for the 30 s sleep (a margin for slow runs, no speed
     * target). */
    assert_true(mono() - t0 < ms + 15000);
    assert_non_null(strstr(err.msg, "in time"));
    if (access(pidfile, F_OK) == 0 || ms >= 3000)
      break;
  }
  text = wif_test_read(pidfile, &len);
  child = strtol(text, NULL, 10);
  assert_true(child > 1);
  /* The background child got the group's SIGKILL: gone, or a zombie
   * waiting for its new parent to reap it. A loaded machine may take a
   * while to run its exit: waited for, up to a deadline. */
  (void)snprintf(stat_path, sizeof(stat_path), "/proc/%ld/stat", child);
  for (int64_t until = mono() + 10000;; usleep(20000)) {
    char buf[256];
    char *p;

    if ((f = fopen(stat_path, "r")) == NULL)
      break; /* gone */
    assert_non_null(fgets(buf, sizeof(buf), f));
    fclose(f);
    p = strrchr(buf, ')');
    assert_non_null(p);
    st = p[2];
    if (st == 'Z')
      break;
    if (mono() > until)
      fail_msg("the background child is still in state %c", st);
  }
  free(text);
  free(s);
  free(body);
  free(pidfile);
}

/* L2: a daemon keeping stdout open after the command exits. */
static void test_l2_daemon_keeps_stdout(void **state) {
  char *s = script("daemon", "(sleep 30) & echo a.b.c; exit 0");
  char *tok = NULL;
  int64_t exp;
  struct wif_error err;
  int64_t t0 = mono();

  (void)state;
  assert_int_equal(run(s, 300, &tok, &exp, &err), WIF_E_TOKEN_UNAVAILABLE);
  assert_true(mono() - t0 < 15000); /* did not wait for the daemon */
  assert_null(tok);
  free(s);
}

/* L4: a fixed environment (PATH, WIF_CALLBACK_VERSION, WIF_TIMEOUT_MS,
 * WIF_AUDIENCE, WIF_CLIENT_ID only), stdin
 * /dev/null, no inherited descriptors. */
static void test_l4_environment_and_fds(void **state) {
  char *envfile = NULL;
  char *body = NULL;
  char *s;
  char *tok = NULL;
  int64_t exp;
  struct wif_error err;
  char *text;
  size_t len;
  int fd = open("/dev/null", O_RDONLY); /* no O_CLOEXEC on purpose */
  int leak = 76;

  (void)state;
  assert_true(fd >= 0);
  assert_int_equal(dup2(fd, leak), leak);
  assert_int_equal(dup2(fd, 77), 77);
  close(fd);
  setenv("LD_PRELOAD", "/nonexistent/evil.so", 1);
  setenv("http_proxy", "http://127.0.0.1:1", 1);
  assert_true(asprintf(&envfile, "%s/env", dir) > 0);
  assert_true(asprintf(&body,
                       "env | sort > %s; "
                       "echo stdin=$(readlink /proc/$$/fd/0) >> %s; "
                       "[ -e /proc/$$/fd/77 ] && echo LEAK77 >> %s; "
                       "[ -e /proc/$$/fd/%d ] && echo LEAK >> %s; "
                       "[ -e /proc/$$/fd/5 ] && echo LEAK5 >> %s; "
                       "echo script=$(readlink /proc/$$/fd/3) >> %s; "
                       "echo a.b.c",
                       envfile, envfile, envfile, leak, envfile, envfile,
                       envfile) > 0);
  s = script("env", body);
  assert_int_equal(run(s, 2000, &tok, &exp, &err), WIF_OK);
  text = wif_test_read(envfile, &len);
  assert_non_null(strstr(text, "WIF_AUDIENCE=api://aud\n"));
  assert_non_null(strstr(text, "WIF_CLIENT_ID=cid-1\n"));
  assert_non_null(strstr(text, "PATH=/usr/local/bin:/usr/bin:/bin\n"));
  /* The callback contract: its version and the time it has. */
  assert_non_null(strstr(text, "WIF_CALLBACK_VERSION=1\n"));
  assert_non_null(strstr(text, "WIF_TIMEOUT_MS=2000\n"));
  assert_non_null(strstr(text, "stdin=/dev/null\n"));
  assert_null(strstr(text, "LD_PRELOAD"));
  assert_null(strstr(text, "http_proxy"));
  assert_null(strstr(text, "HOME="));
  assert_null(strstr(text, "LEAK"));
  /* fd 3 is the script itself, opened once and executed by descriptor:
   * its interpreter reads it as /dev/fd/3. */
  {
    char want[600];

    snprintf(want, sizeof(want), "script=%s\n", s);
    assert_non_null(strstr(text, want));
  }
  unsetenv("LD_PRELOAD");
  unsetenv("http_proxy");
  close(77);
  close(leak);
  wif_source_token_free(tok);
  free(text);
  free(s);
  free(body);
  free(envfile);
}

/* Log lines of the stderr test. */
static char said[512];

static void capture_said(void *ctx, int priority, const char *msg) {
  (void)ctx;
  (void)priority;
  if (strstr(msg, "stderr") != NULL)
    snprintf(said, sizeof(said), "%s", msg);
}

/* The command's stderr is captured and its first line logged: it never
 * reaches our own stderr (in the module, the caller's terminal; N7). */
static void test_stderr_captured(void **state) {
  char *errfile = NULL;
  char *s = script("stderr", "echo helper-diagnostic >&2; echo second >&2; "
                             "echo a.b.c");
  struct wif_log log = {capture_said, NULL, true};
  struct wif_source_opts o;
  char *tok = NULL;
  int64_t exp;
  struct wif_error err;
  int saved = dup(STDERR_FILENO);
  int fd;
  char *text;
  size_t len;
  wif_rc rc;

  (void)state;
  said[0] = '\0';
  assert_true(asprintf(&errfile, "%s/stderr.out", dir) > 0);
  fd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  assert_true(fd >= 0 && saved >= 0);
  dup2(fd, STDERR_FILENO);
  wif_source_opts_init(&o);
  o.kind = WIF_SOURCE_EXEC;
  o.command = s;
  o.timeout_ms = 2000;
  rc = wif_source_fetch(&o, &log, &tok, &exp, &err);
  dup2(saved, STDERR_FILENO);
  close(saved);
  close(fd);
  if (rc != WIF_OK)
    print_message("%s\n", err.msg);
  assert_int_equal(rc, WIF_OK);
  text = wif_test_read(errfile, &len);
  assert_null(strstr(text, "helper-diagnostic"));
  assert_non_null(strstr(said, "helper-diagnostic"));
  assert_null(strstr(said, "second"));
  free(text);
  wif_source_token_free(tok);
  free(s);
  free(errfile);
}

/* No shell: metacharacters are plain argument bytes; quotes group. */
static void test_no_shell(void **state) {
  char *marker = NULL;
  char *cmd = NULL;
  char *tok = NULL;
  int64_t exp;
  struct wif_error err;
  struct stat st;

  (void)state;
  assert_true(asprintf(&marker, "%s/pwned", dir) > 0);
  assert_true(asprintf(&cmd, "/usr/bin/printf %%s.%%s 'ab' \"c;touch %s\"",
                       marker) > 0);
  assert_int_equal(run(cmd, 2000, &tok, &exp, &err), WIF_E_TOKEN_UNAVAILABLE);
  assert_int_equal(stat(marker, &st), -1); /* nothing ran the touch */
  free(cmd);
  assert_int_equal(
      run("/usr/bin/printf %s.%s 'ab' \"c\\\"d\"", 2000, &tok, &exp, &err),
      WIF_OK);
  assert_string_equal(tok, "ab.c\"d");
  wif_source_token_free(tok);
  assert_int_equal(run("/usr/bin/printf 'unterminated", 2000, &tok, &exp, &err),
                   WIF_E_CONFIG_INVALID);
  /* A bare name is not searched in anyone's PATH. */
  assert_int_equal(run("printf a.b.c", 2000, &tok, &exp, &err),
                   WIF_E_CONFIG_INVALID);
  assert_int_equal(run("/nonexistent/helper", 2000, &tok, &exp, &err),
                   WIF_E_CONFIG_INVALID);
  assert_non_null(strstr(err.msg, "cannot run"));
  free(marker);
}

static wif_rc run_trusted(const char *command, struct wif_error *err) {
  struct wif_source_opts o;
  char *tok = NULL;
  int64_t exp;
  wif_rc rc;

  wif_source_opts_init(&o);
  o.kind = WIF_SOURCE_EXEC;
  o.command = command;
  o.trusted = true;
  o.timeout_ms = 2000;
  wif_error_clear(err);
  rc = wif_source_fetch(&o, NULL, &tok, &exp, err);
  wif_source_token_free(tok);
  return rc;
}

/* L1: host identity mode runs only root-owned, non-writable programs. */
static void test_l1_trusted_program(void **state) {
  struct wif_error err;
  char *s = script("ok", "echo a.b.c");
  char *link = NULL;
  char *sub = NULL;
  char *in_sub = NULL;

  (void)state;
  /* System binaries pass (merged /usr: /bin is a symlink; the checks
   * follow the resolved path). */
  assert_int_equal(run_trusted("/usr/bin/printf a.b.c", &err), WIF_OK);
  assert_int_equal(run_trusted("usr/bin/printf a.b.c", &err),
                   WIF_E_CONFIG_INSECURE);
  assert_non_null(strstr(err.msg, "absolute"));
  if (getuid() == 0) {
    assert_int_equal(run_trusted(s, &err), WIF_OK);
    assert_int_equal(chown(s, 1, 1), 0);
    assert_int_equal(run_trusted(s, &err), WIF_E_CONFIG_INSECURE);
    assert_int_equal(chown(s, 0, 0), 0);
  } else {
    /* Our own file is not root's. */
    assert_int_equal(run_trusted(s, &err), WIF_E_CONFIG_INSECURE);
  }
  assert_int_equal(chmod(s, 0775), 0);
  assert_int_equal(run_trusted(s, &err), WIF_E_CONFIG_INSECURE);
  assert_non_null(strstr(err.msg, "can write it"));
  assert_int_equal(chmod(s, 0757), 0);
  assert_int_equal(run_trusted(s, &err), WIF_E_CONFIG_INSECURE);
  assert_int_equal(chmod(s, 0755), 0);
  assert_true(asprintf(&link, "%s/link", dir) > 0);
  assert_int_equal(symlink(s, link), 0);
  assert_int_equal(run_trusted(link, &err), WIF_E_CONFIG_INSECURE);
  assert_non_null(strstr(err.msg, "symbolic link"));
  /* A writable directory above the program. */
  assert_true(asprintf(&sub, "%s/sub", dir) > 0);
  assert_int_equal(mkdir(sub, 0777), 0);
  assert_int_equal(chmod(sub, 0777), 0);
  assert_true(asprintf(&in_sub, "%s/helper", sub) > 0);
  wif_test_write_text(in_sub, "#!/bin/sh\necho a.b.c\n", 0755);
  assert_int_equal(run_trusted(in_sub, &err), WIF_E_CONFIG_INSECURE);
  assert_non_null(strstr(err.msg, "directory"));
  free(in_sub);
  free(sub);
  free(link);
  free(s);
}

static void handler(int sig) {
  (void)sig;
}

/* L6: the host's signal dispositions are left alone; with SIGCHLD ignored
 * (children auto-reaped) the call still ends, with a clear error. */
static void test_l6_signals(void **state) {
  struct sigaction mine, before, after;
  char *tok = NULL;
  int64_t exp;
  struct wif_error err;
  char *s = script("sig", "echo a.b.c");

  (void)state;
  memset(&mine, 0, sizeof(mine));
  mine.sa_handler = handler;
  assert_int_equal(sigaction(SIGPIPE, &mine, &before), 0);
  assert_int_equal(run(s, 2000, &tok, &exp, &err), WIF_OK);
  wif_source_token_free(tok);
  tok = NULL;
  assert_int_equal(sigaction(SIGPIPE, &before, &after), 0);
  assert_ptr_equal(after.sa_handler, handler);

  assert_true(signal(SIGCHLD, SIG_IGN) != SIG_ERR);
  assert_int_equal(run(s, 2000, &tok, &exp, &err), WIF_E_TOKEN_UNAVAILABLE);
  assert_non_null(strstr(err.msg, "SIGCHLD"));
  assert_null(tok);
  assert_true(signal(SIGCHLD, SIG_DFL) == SIG_IGN);
  free(s);
}

/* A host with stdin/stdout closed: the pipes must not land on fd 0/1. */
static void test_closed_std_fds(void **state) {
  char *s = script("std", "echo a.b.c");
  char *tok = NULL;
  int64_t exp;
  struct wif_error err;
  int in = dup(STDIN_FILENO);
  int out = dup(STDOUT_FILENO);

  (void)state;
  fflush(stdout);
  close(STDIN_FILENO);
  close(STDOUT_FILENO);
  wif_rc rc = run(s, 2000, &tok, &exp, &err);
  dup2(in, STDIN_FILENO);
  dup2(out, STDOUT_FILENO);
  close(in);
  close(out);
  assert_int_equal(rc, WIF_OK);
  assert_string_equal(tok, "a.b.c");
  wif_source_token_free(tok);
  free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_raw_token),
      cmocka_unit_test(test_a10_one_newline_only),
      cmocka_unit_test(test_json_access_token),
      cmocka_unit_test(test_exec_credential),
      cmocka_unit_test(test_exp_from_jwt),
      cmocka_unit_test(test_bad_json),
      cmocka_unit_test(test_l3_failures),
      cmocka_unit_test(test_l2_timeout_kills_group),
      cmocka_unit_test(test_l2_daemon_keeps_stdout),
      cmocka_unit_test(test_l4_environment_and_fds),
      cmocka_unit_test(test_stderr_captured),
      cmocka_unit_test(test_no_shell),
      cmocka_unit_test(test_l1_trusted_program),
      cmocka_unit_test(test_l6_signals),
      cmocka_unit_test(test_closed_std_fds),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
