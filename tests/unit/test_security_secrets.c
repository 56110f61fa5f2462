/* SPDX-License-Identifier: Apache-2.0 */
/* M4, H10: no token, signature or segment of one in anything logged. */
#include "testutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "auth.h"
#include "validate.h"

/*
 * Runs validations (wif_validate) and whole decisions (wif_auth_authenticate,
 * what the module does for each login) with debug logging on and every line
 * captured, over tokens that succeed and that fail at each stage. Then
 * checks that no captured line, error message or verdict message holds the
 * token, nor any 16-character window of its header, payload or signature
 * segment. Claims may appear decoded and sanitized (log_claims); the
 * encoded segments, which are bearer credentials, never.
 */

#define ISS "https://issuer.example/secrets"
#define AUD "secrets-aud"
#define WINDOW 16
#define LOG_MAX (64 * 1024)

struct capture {
  char text[LOG_MAX]; /* every line, newline-separated */
  size_t len;
  unsigned lines;
};

struct fixture {
  char *dir;
  char *conf;
  char *map;
  char *jwks;
  struct capture cap;
  struct wif_log log;
  struct wif_config *cfg;
  struct wif_validator *v;
};

static void capture_fn(void *ctx, int priority, const char *msg) {
  struct capture *c = ctx;
  size_t n = strlen(msg);

  (void)priority;
  assert_true(c->len + n + 1 < sizeof(c->text));
  memcpy(c->text + c->len, msg, n);
  c->len += n;
  c->text[c->len++] = '\n';
  c->text[c->len] = '\0';
  c->lines++;
}

static void add_text(struct capture *c, const char *msg) {
  capture_fn(c, LOG_ERR, msg);
}

/* Whether text holds token or any WINDOW-byte window of one of its
 * segments; the window found goes to found (WINDOW + 1 bytes). */
static bool holds_segment(const char *text, const char *token, char *found) {
  size_t len = strlen(token);
  size_t start = 0;

  if (len >= WINDOW && strstr(text, token) != NULL) {
    memcpy(found, token, WINDOW);
    found[WINDOW] = '\0';
    return true;
  }
  for (size_t i = 0; i <= len; i++) {
    if (i < len && token[i] != '.')
      continue;
    /* Segment [start, i): every window, stepping by half a window. */
    for (size_t w = start; w + WINDOW <= i; w += WINDOW / 2) {
      memcpy(found, token + w, WINDOW);
      found[WINDOW] = '\0';
      if (strstr(text, found) != NULL)
        return true;
    }
    start = i + 1;
  }
  return false;
}

static void assert_no_segment(const char *text, const char *token) {
  char found[WINDOW + 1];

  if (holds_segment(text, token, found))
    fail_msg("a token segment was logged: ...%s...", found);
}

static int setup(void **state) {
  struct fixture *f = calloc(1, sizeof(*f));
  struct wif_error err;
  char text[2048], *keys;
  size_t len;

  assert_non_null(f);
  /* Under the build tree (the trusted-file walk rules out /tmp). */
  f->dir = wif_test_build_dir("secrets", 0755);
  f->conf = wif_test_path(f->dir, "pam_wif.conf");
  f->map = wif_test_path(f->dir, "pam_wif.map");
  f->jwks = wif_test_path(f->dir, "jwks.json");
  keys = wif_test_read(WIF_TEST_KEYS_DIR "/jwks.json", &len);
  wif_test_write_text(f->jwks, keys, 0644);
  free(keys);
  snprintf(text, sizeof(text),
           "[global]\nmap_file = %s\nlog_claims = iss sub jti aud\n"
           "[provider p]\nissuer = " ISS "\naudience = " AUD "\n"
           "algorithms = RS256 ES256 PS256 EdDSA\njwks_file = %s\n",
           f->map, f->jwks);
  wif_test_write_text(f->conf, text, 0644);
  wif_test_write_text(f->map, "p user workload-1 nobody\n", 0644);
  f->log.fn = capture_fn;
  f->log.ctx = &f->cap;
  f->log.debug = true;
  assert_int_equal(wif_config_load(f->conf, getuid(), &f->cfg, &err), WIF_OK);
  f->v = wif_validator_new(f->cfg, getuid(), &f->log);
  assert_non_null(f->v);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fixture *f = *state;

  wif_validator_free(f->v);
  wif_config_free(f->cfg);
  unlink(f->conf);
  unlink(f->map);
  unlink(f->jwks);
  rmdir(f->dir);
  free(f->conf);
  free(f->map);
  free(f->jwks);
  free(f->dir);
  free(f);
  return 0;
}

static char *claims_token(const char *kid, const char *alg, const char *aud,
                          long long exp, const char *sub) {
  return wif_test_signf(kid, alg,
                        "{\"iss\":\"" ISS "\",\"aud\":\"%s\",\"sub\":\"%s\","
                        "\"exp\":%lld,\"iat\":%lld,\"jti\":\"j-1\"}",
                        aud, sub, exp, (long long)WIF_TEST_NOW - 10);
}

/* Tokens that pass and that fail at each stage: a signature flipped, an
 * expired one, a wrong audience, an unknown kid, alg none, four segments,
 * a subject with control characters, and a token not mapped to the
 * account. */
static char **make_tokens(size_t *n) {
  char **t = calloc(16, sizeof(*t));
  long long exp = (long long)WIF_TEST_NOW + 600;
  size_t k = 0;
  char *dot, *none;

  assert_non_null(t);
  t[k++] = claims_token("rs256", "RS256", AUD, exp, "workload-1");
  t[k++] = claims_token("es256", "ES256", AUD, exp, "workload-1");
  t[k] = claims_token("rs256", "RS256", AUD, exp, "workload-1");
  dot = strrchr(t[k], '.');
  dot[5] = dot[5] == 'A' ? 'B' : 'A'; /* bad signature */
  k++;
  t[k++] = claims_token("ps256", "PS256", AUD, (long long)WIF_TEST_NOW - 900,
                        "workload-1");
  t[k++] = claims_token("eddsa", "EdDSA", "other-aud", exp, "workload-1");
  t[k++] = wif_test_sign("rs256", "RS256",
                         "{\"alg\":\"RS256\",\"kid\":\"no-such-kid\"}",
                         "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\","
                         "\"sub\":\"workload-1\",\"exp\":9999999999}");
  none = wif_test_b64("{\"alg\":\"none\"}", 14);
  t[k++] = wif_test_join(
      none, "eyJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlL3NlY3JldHMifQ", "");
  free(none);
  t[k++] = wif_test_join(t[0], "AAAAAAAAAAAAAAAAAAAAAAAA", "x");
  t[k++] = claims_token("rs256", "RS256", AUD, exp, "evil\\n\\u001b[31m");
  t[k++] = claims_token("rs256", "RS256", AUD, exp, "not-mapped");
  *n = k;
  return t;
}

static void free_tokens(char **t, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(t[i]);
  free(t);
}

static void test_m4_validation_logs_no_token(void **state) {
  struct fixture *f = *state;
  size_t n, ok = 0;
  char **t = make_tokens(&n);

  for (size_t i = 0; i < n; i++) {
    struct wif_result r;
    struct wif_error err;
    wif_error_clear(&err);
    if (wif_validate(f->v, t[i], strlen(t[i]), WIF_TEST_NOW, &r, &err) ==
        WIF_OK)
      ok++;
    add_text(&f->cap, err.msg);
    wif_result_clear(&r);
  }
  /* The set covers successes and failures (rs256, es256, not-mapped; the
   * control-character subject is policy's to take or refuse). */
  assert_in_range(ok, 3, 4);
  for (size_t i = 0; i < n; i++)
    assert_no_segment(f->cap.text, t[i]);
  free_tokens(t, n);
}

static void test_m4_decisions_log_no_token(void **state) {
  struct fixture *f = *state;
  struct wif_auth_params params;
  size_t n, ok = 0;
  char **t = make_tokens(&n);

  memset(&params, 0, sizeof(params));
  params.config_path = f->conf;
  params.owner = getuid();
  params.log = &f->log;
  params.log_decision = true;
  params.service = "auth";
  params.now = WIF_TEST_NOW;
  for (size_t i = 0; i < n; i++) {
    struct wif_verdict v;
    unsigned before = f->cap.lines;
    if (wif_auth_authenticate(&params, "nobody", t[i], strlen(t[i]), &v) ==
        WIF_OK)
      ok++;
    /* Each decision logs its line (so there is something to check). */
    assert_true(f->cap.lines > before);
    add_text(&f->cap, v.message);
    if (v.kid != NULL)
      add_text(&f->cap, v.kid);
    wif_verdict_clear(&v);
  }
  assert_int_equal(ok, 2); /* rs256 and es256 map to nobody */
  for (size_t i = 0; i < n; i++)
    assert_no_segment(f->cap.text, t[i]);
  /* M5: the control characters of the subject reached no line raw. */
  assert_null(strchr(f->cap.text, '\x1b'));
  free_tokens(t, n);
}

/* The checker can fail: a line holding a signature window is caught. */
static void test_checker_catches_a_segment(void **state) {
  char *t = claims_token("rs256", "RS256", AUD, 1, "s");
  char line[128];
  const char *sig = strrchr(t, '.') + 1;
  char found[WINDOW + 1];

  (void)state;
  snprintf(line, sizeof(line), "debug: sig=%.20s", sig);
  assert_true(holds_segment(line, t, found));
  assert_false(holds_segment("debug: nothing here", t, found));
  free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_m4_validation_logs_no_token, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_m4_decisions_log_no_token, setup,
                                      teardown),
      cmocka_unit_test(test_checker_catches_a_segment),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
