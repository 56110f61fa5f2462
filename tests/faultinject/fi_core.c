/* SPDX-License-Identifier: Apache-2.0 */
/* Fault-injection sweeps over the core's success paths (H1, M6). */
#include "testutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "b64url.h"
#include "config.h"
#include "jwk.h"
#include "validate.h"
#include "wrap.h"

/*
 * Each sweep runs one success path again and again, failing wrapped call
 * number N = 1, 2, ... (malloc, calloc, realloc, strdup, open, openat,
 * read, fstat, ... see wrap.h) until a run completes without reaching call
 * N. Every run in which a call failed must end in a failure result (never
 * WIF_OK), must not leak (LeakSanitizer is asked after each run in the
 * sanitizer build; valgrind sees the whole process in tests/run.sh), and
 * must not crash. The final, unfailed run must succeed, which proves the
 * path under test is the success path.
 *
 * Files live under WIF_FI_DIR (the build tree): the trusted-file checks
 * walk every parent directory, which rules out /tmp.
 */

#define ISS "https://issuer.example/fi"
#define AUD "fi-aud"

/* Present in sanitizer builds only. */
extern int __lsan_do_recoverable_leak_check(void) __attribute__((weak));

typedef wif_rc (*scenario_fn)(void *ctx);

struct world {
  char *token;
  size_t token_len;
  char *jwks_path;
  char *jwks_text;
  size_t jwks_len;
  char *conf_path; /* provider with jwks_file */
  char *conf_text;
  struct wif_config *cfg;     /* parsed conf_text, for in-memory runs */
  struct wif_validator *warm; /* keys set, one validation done */
};

static unsigned long sweep(const char *name, scenario_fn fn, void *ctx) {
  unsigned long n;

  for (n = 1;; n++) {
    wif_rc rc;
    bool hit;
    wif_fi_arm(n);
    rc = fn(ctx);
    hit = wif_fi_injected();
    wif_fi_disarm();
    if (!hit) {
      if (rc != WIF_OK)
        fail_msg("%s: fails (%s) with no fault injected", name,
                 wif_rc_name(rc));
      break;
    }
    if (rc == WIF_OK)
      fail_msg("%s: call %lu (%s) failed, yet the result is success", name, n,
               wif_fi_injected_name());
    if (__lsan_do_recoverable_leak_check != NULL &&
        __lsan_do_recoverable_leak_check() != 0)
      fail_msg("%s: leak after failing call %lu (%s)", name, n,
               wif_fi_injected_name());
  }
  printf("sweep %s: %lu wrapped calls, each failed once\n", name, n - 1);
  /* A path with no wrapped call at all means the wrapping is broken. */
  assert_true(n > 1);
  return n - 1;
}

/* ---- scenarios ---------------------------------------------------- */

static wif_rc sc_config_parse(void *ctx) {
  struct world *w = ctx;
  struct wif_config *cfg = NULL;
  struct wif_error err;
  wif_rc rc = wif_config_parse(w->conf_text, strlen(w->conf_text), "fi.conf",
                               &cfg, &err);
  if ((rc == WIF_OK) != (cfg != NULL))
    fail_msg("config parse: output and result disagree");
  wif_config_free(cfg);
  return rc;
}

static wif_rc sc_config_load(void *ctx) {
  struct world *w = ctx;
  struct wif_config *cfg = NULL;
  struct wif_error err;
  wif_rc rc = wif_config_load(w->conf_path, getuid(), &cfg, &err);
  if ((rc == WIF_OK) != (cfg != NULL))
    fail_msg("config load: output and result disagree");
  wif_config_free(cfg);
  return rc;
}

static wif_rc sc_jwks_parse(void *ctx) {
  struct world *w = ctx;
  struct wif_jwks *set = NULL;
  struct wif_error err;
  wif_rc rc = wif_jwks_parse(w->jwks_text, w->jwks_len, NULL, &set, &err);
  if ((rc == WIF_OK) != (set != NULL))
    fail_msg("jwks parse: output and result disagree");
  /* A key set that silently lost keys to a failed allocation would be a
   * success with fewer keys: require all of them. */
  if (rc == WIF_OK && wif_jwks_count(set) != 10)
    rc = WIF_E_INTERNAL;
  wif_jwks_free(set);
  return rc;
}

static wif_rc validate_once(struct wif_validator *v, const struct world *w) {
  struct wif_result r;
  struct wif_error err;
  wif_rc rc = wif_validate(v, w->token, w->token_len, WIF_TEST_NOW, &r, &err);
  if (rc == WIF_OK && (r.identity.subject == NULL ||
                       strcmp(r.identity.subject, "workload-1") != 0))
    fail_msg("validate: success without the subject");
  wif_result_clear(&r);
  return rc;
}

static wif_rc sc_validate_warm(void *ctx) {
  struct world *w = ctx;
  return validate_once(w->warm, w);
}

/* A new validator with keys parsed from text, then one validation. */
static wif_rc sc_validate_cold(void *ctx) {
  struct world *w = ctx;
  struct wif_validator *v = wif_validator_new(w->cfg, getuid(), NULL);
  struct wif_jwks *set = NULL;
  struct wif_error err;
  wif_rc rc = WIF_E_NOMEM;

  if (v == NULL)
    return rc;
  rc = wif_jwks_parse(w->jwks_text, w->jwks_len, NULL, &set, &err);
  if (rc == WIF_OK)
    rc = wif_validator_set_keys(v, &w->cfg->providers[0], set);
  if (rc == WIF_OK)
    rc = validate_once(v, w);
  wif_validator_free(v);
  return rc;
}

/* What `pam_wif` and `wifctl verify -c` do with a jwks_file provider: load
 * the config from disk, read the key file, validate. */
static wif_rc sc_pipeline_file(void *ctx) {
  struct world *w = ctx;
  struct wif_config *cfg = NULL;
  struct wif_validator *v = NULL;
  struct wif_error err;
  wif_rc rc = wif_config_load(w->conf_path, getuid(), &cfg, &err);

  if (rc != WIF_OK)
    return rc;
  v = wif_validator_new(cfg, getuid(), NULL);
  rc = v == NULL ? WIF_E_NOMEM : validate_once(v, w);
  wif_validator_free(v);
  wif_config_free(cfg);
  return rc;
}

/* ---- tests ------------------------------------------------------- */

static void write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  size_t len = strlen(text);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, text, len), (ssize_t)len);
  assert_int_equal(fchmod(fd, 0600), 0);
  assert_int_equal(close(fd), 0);
}

static int setup(void **state) {
  struct world *w = calloc(1, sizeof(*w));
  struct wif_error err;
  char buf[1024];
  int n;

  assert_non_null(w);
  w->token = wif_test_signf(
      "rs256", "RS256",
      "{\"iss\":\"%s\",\"aud\":\"%s\",\"sub\":\"workload-1\","
      "\"exp\":%lld,\"iat\":%lld,\"groups\":[\"a\",\"b\"]}",
      ISS, AUD, (long long)WIF_TEST_NOW + 600, (long long)WIF_TEST_NOW - 10);
  w->token_len = strlen(w->token);
  w->jwks_path = wif_test_key_path("jwks.json");
  w->jwks_text = wif_test_read(w->jwks_path, &w->jwks_len);
  /* The key file the config names is a copy in the build tree, mode 0600,
   * so the trusted-read rules hold for it. */
  w->conf_path = wif_test_path(WIF_FI_DIR, "fi.conf");
  {
    char *copy = wif_test_path(WIF_FI_DIR, "fi.jwks");
    write_file(copy, w->jwks_text);
    n = snprintf(buf, sizeof(buf),
                 "[global]\nclock_skew = 30\n\n"
                 "[provider fi]\nissuer = %s\naudience = other %s\n"
                 "algorithms = RS256 ES256\njwks_file = %s\n"
                 "require = sub = workload-*\nmax_token_age = 3600\n",
                 ISS, AUD, copy);
    free(copy);
  }
  assert_true(n > 0 && (size_t)n < sizeof(buf));
  w->conf_text = strdup(buf);
  assert_non_null(w->conf_text);
  write_file(w->conf_path, w->conf_text);
  assert_int_equal(wif_config_parse(w->conf_text, strlen(w->conf_text),
                                    "fi.conf", &w->cfg, &err),
                   WIF_OK);
  w->warm = wif_validator_new(w->cfg, getuid(), NULL);
  assert_non_null(w->warm);
  assert_int_equal(validate_once(w->warm, w), WIF_OK);
  *state = w;
  return 0;
}

static int teardown(void **state) {
  struct world *w = *state;
  wif_validator_free(w->warm);
  wif_config_free(w->cfg);
  free(w->token);
  free(w->jwks_path);
  free(w->jwks_text);
  free(w->conf_path);
  free(w->conf_text);
  free(w);
  return 0;
}

/* The harness itself: a failed call fails, and counting stops when
 * disarmed. */
static void test_wrapping_works(void **state) {
  void *p;
  (void)state;
  wif_fi_arm(2);
  p = malloc(8);
  assert_non_null(p);
  free(p);
  assert_null(malloc(8));
  assert_true(wif_fi_injected());
  assert_string_equal(wif_fi_injected_name(), "malloc");
  wif_fi_disarm();
  p = malloc(8);
  assert_non_null(p);
  free(p);
  assert_int_equal(wif_fi_calls(), 2);
}

static void test_sweep_config_parse(void **state) {
  assert_true(sweep("config parse", sc_config_parse, *state) >= 10);
}

static void test_sweep_config_load(void **state) {
  /* Beyond the parse: open, fstat and read of the file and one openat and
   * fstat per parent directory. */
  assert_true(sweep("config load", sc_config_load, *state) >= 14);
}

static void test_sweep_jwks_parse(void **state) {
  assert_true(sweep("jwks parse", sc_jwks_parse, *state) >= 10);
}

static void test_sweep_validate_warm(void **state) {
  assert_true(sweep("validate (warm validator)", sc_validate_warm, *state) >=
              2);
}

static void test_sweep_validate_cold(void **state) {
  assert_true(sweep("validate (cold validator)", sc_validate_cold, *state) >=
              12);
}

static void test_sweep_pipeline_file(void **state) {
  assert_true(
      sweep("config + jwks_file + validate", sc_pipeline_file, *state) >= 30);
}

/* H10: what held token bytes is wiped before it is freed. Watches the
 * header segment, the signature segment, the decoded signature, the
 * decoded payload and a decoded claim value while a validation runs and
 * its result is cleared; the wrapped free() scans every block it frees. */
static void test_freed_memory_holds_no_token(void **state) {
  struct world *w = *state;
  const char *dot1 = strchr(w->token, '.');
  const char *dot2 = strrchr(w->token, '.');
  unsigned char sig[512], payload[1024];
  size_t sig_len, payload_len;
  static const char claim[] = "workload-1";
  char *probe;

  assert_true(wif_b64url_decode(dot2 + 1, strlen(dot2 + 1), sig, sizeof(sig),
                                &sig_len));
  assert_true(wif_b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), payload,
                                sizeof(payload), &payload_len));
  wif_fi_watch_clear();
  assert_true(wif_fi_watch(w->token, 24)); /* header segment */
  assert_true(wif_fi_watch(dot2 + 1, 24)); /* signature segment */
  assert_true(wif_fi_watch(sig, 24));      /* decoded signature */
  assert_true(wif_fi_watch(payload, 24));  /* decoded claims JSON */
  assert_true(wif_fi_watch(claim, sizeof(claim) - 1));

  /* The scan can see a residue: an unwiped copy is counted. */
  probe = malloc(64);
  assert_non_null(probe);
  memcpy(probe, dot2 + 1, 32);
  /* Keep the compiler from eliding the malloc/free pair. */
  __asm__ volatile("" : : "r"(probe) : "memory");
  free(probe);
  assert_int_equal(wif_fi_unwiped(), 1);
  wif_fi_watch_clear();
  assert_true(wif_fi_watch(w->token, 24));
  assert_true(wif_fi_watch(dot2 + 1, 24));
  assert_true(wif_fi_watch(sig, 24));
  assert_true(wif_fi_watch(payload, 24));
  assert_true(wif_fi_watch(claim, sizeof(claim) - 1));

  assert_int_equal(validate_once(w->warm, w), WIF_OK);
  assert_int_equal(sc_validate_cold(w), WIF_OK);
  assert_int_equal(sc_pipeline_file(w), WIF_OK);
  assert_true(wif_fi_scanned() >= 10);
  if (wif_fi_unwiped() != 0)
    fail_msg("%lu freed blocks still held token bytes", wif_fi_unwiped());
  wif_fi_watch_clear();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_wrapping_works),
      cmocka_unit_test_setup_teardown(test_sweep_config_parse, setup, teardown),
      cmocka_unit_test_setup_teardown(test_sweep_config_load, setup, teardown),
      cmocka_unit_test_setup_teardown(test_sweep_jwks_parse, setup, teardown),
      cmocka_unit_test_setup_teardown(test_sweep_validate_warm, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_sweep_validate_cold, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_sweep_pipeline_file, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_freed_memory_holds_no_token, setup,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
