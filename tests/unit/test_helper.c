/* SPDX-License-Identifier: Apache-2.0 */
/* helper.c: the fetch helper's answer, written and parsed, and a helper
 * that cannot be run. */
#include "testutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "helper.h"

struct sink {
  char text[4096];
  int worst;
};

static void capture(void *ctx, int priority, const char *msg) {
  struct sink *s = ctx;
  size_t n = strlen(s->text);

  snprintf(s->text + n, sizeof(s->text) - n, "%d %s\n", priority, msg);
  if (priority < s->worst)
    s->worst = priority;
}

static wif_rc parse(const char *text, struct sink *s,
                    struct wif_helper_answer *a) {
  struct wif_log log = {capture, s, true};
  struct wif_error err;

  memset(s, 0, sizeof(*s));
  s->worst = LOG_DEBUG + 1;
  return wif_helper_answer_parse(text, strlen(text), &log, a, &err);
}

/* What the helper's writers produce parses back to the same answer. */
static void test_round_trip(void **state) {
  int p[2];
  char buf[512];
  ssize_t n;
  struct sink s;
  struct wif_helper_answer a;

  (void)state;
  assert_int_equal(pipe(p), 0);
  assert_true(wif_helper_write_log(p[1], LOG_WARNING, "stale\x01keys"));
  assert_true(wif_helper_write_ok(p[1], 1767225600, "a.b.c", 5));
  close(p[1]);
  n = read(p[0], buf, sizeof(buf) - 1);
  close(p[0]);
  assert_true(n > 0);
  buf[n] = '\0';
  assert_int_equal(parse(buf, &s, &a), WIF_OK);
  assert_int_equal(a.rc, WIF_OK);
  assert_int_equal(a.exp, 1767225600);
  assert_int_equal(a.payload_len, 5);
  assert_string_equal(a.payload, "a.b.c");
  /* A control byte never travels as is. */
  assert_string_equal(s.text, "4 stale?keys\n");
  wif_helper_answer_clear(&a);

  assert_int_equal(pipe(p), 0);
  assert_true(
      wif_helper_write_error(p[1], WIF_E_JWKS_UNAVAILABLE, "no usable keys"));
  close(p[1]);
  n = read(p[0], buf, sizeof(buf) - 1);
  close(p[0]);
  buf[n] = '\0';
  assert_int_equal(parse(buf, &s, &a), WIF_OK);
  assert_int_equal(a.rc, WIF_E_JWKS_UNAVAILABLE);
  assert_string_equal(a.message, "no usable keys");
  assert_null(a.payload);
  wif_helper_answer_clear(&a);
}

/* Anything else is MALFORMED, and leaves nothing behind. */
static void test_malformed(void **state) {
  static const char *const bad[] = {
      "",
      "ok 0 5\nabc",                    /* shorter than announced */
      "ok 0 2\nabc",                    /* longer */
      "ok -1 3\nabc",                   /* a sign */
      "ok 0 +3\nabc",                   /* a sign */
      "ok 0 3",                         /* no newline */
      "error OK fine\n",                /* success as a failure */
      "error NOPE x\n",                 /* no such reason */
      "error JWKS_INVALID x\nok 0 0\n", /* data after the answer */
      "log 8 x\nok 0 0\n",              /* no such priority */
      "log 3 a\x02\nok 0 0\n",          /* a control byte */
      "hello\n",                        /* an unknown line */
  };
  struct sink s;
  struct wif_helper_answer a;
  char many[8192];
  size_t off = 0;

  (void)state;
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    if (parse(bad[i], &s, &a) != WIF_E_MALFORMED)
      fail_msg("accepted: \"%s\"", bad[i]);
    assert_null(a.payload);
  }
  for (int i = 0; i <= WIF_HELPER_LOG_LINES; i++)
    off += (size_t)snprintf(many + off, sizeof(many) - off, "log 6 x\n");
  snprintf(many + off, sizeof(many) - off, "ok 0 0\n");
  assert_int_equal(parse(many, &s, &a), WIF_E_MALFORMED);
}

/* The helper's own priorities are kept, but never above LOG_ERR. */
static void test_priorities(void **state) {
  struct sink s;
  struct wif_helper_answer a;

  (void)state;
  assert_int_equal(parse("log 0 panic\nok 0 0\n", &s, &a), WIF_OK);
  assert_int_equal(s.worst, LOG_ERR);
  wif_helper_answer_clear(&a);
}

/* A helper that does not exist, or that anyone may change, is never run;
 * the module then says which and why. */
static void test_helper_not_run(void **state) {
  struct wif_error err;
  char *out = NULL;
  size_t len = 0;
  char *tok = NULL;
  int64_t exp = 0;
  struct wif_helper_token_request req = {"azure", "aud", NULL, NULL};

  (void)state;
  assert_int_equal(wif_helper_keys("/nonexistent/pam_wif-helper", "/c", "p",
                                   WIF_HELPER_KEYS_LOAD, 1000, NULL, &out, &len,
                                   &err),
                   WIF_E_JWKS_UNAVAILABLE);
  assert_non_null(strstr(err.msg, "/nonexistent"));
  assert_null(out);
  assert_int_equal(wif_helper_token("/tmp", &req, 1000, NULL, &tok, &exp, &err),
                   WIF_E_CONFIG_INSECURE);
  assert_null(tok);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_malformed),
      cmocka_unit_test(test_priorities),
      cmocka_unit_test(test_helper_not_run),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
