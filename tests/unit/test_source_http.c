/* SPDX-License-Identifier: Apache-2.0 */
/* azure, gcp, github and client-credentials sources against the loopback
 * fakes (tests/tools/fake_metadata.py): request shape, retry schedule on a
 * fake clock, faults (SECURITY-CASES K1-K7). */
#include "source_testutil.h"

#include "jwt.h"
#include "source.h"

static char dir[PATH_MAX];
static char logpath[PATH_MAX + 16];
static char url[128];

static int setup(void **state) {
  (void)state;
  wif_test_scratch_dir(dir, sizeof(dir), "wif-test-http");
  (void)snprintf(logpath, sizeof(logpath), "%s/requests.log", dir);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  (void)wif_test_remove_tree(dir);
  return 0;
}

static void start(struct fake_service *f, const char *mode,
                  const char *faults) {
  const char *args[] = {"--log",
                        logpath,
                        "--faults",
                        faults ? faults : "",
                        "--client-id",
                        "cid-1",
                        "--client-secret",
                        "s3cret",
                        "--tls-dir",
                        dir,
                        NULL};

  (void)unlink(logpath);
  /* Plain http for the metadata services, https for the others. */
  if (strcmp(mode, "azure") == 0 || strcmp(mode, "gcp") == 0)
    args[8] = NULL;
  fake_start(f, mode, args);
  (void)snprintf(url, sizeof(url), "%s://127.0.0.1:%d",
                 args[8] ? "https" : "http", f->port);
}

static size_t requests(void) {
  size_t len = 0;
  size_t n = 0;
  char *text;

  if (access(logpath, F_OK) != 0)
    return 0;
  text = wif_test_read(logpath, &len);
  for (size_t i = 0; i < len; i++)
    n += text[i] == '\n';
  free(text);
  return n;
}

static char *request_log(void) {
  size_t len;
  return wif_test_read(logpath, &len);
}

static void opts_for(struct wif_source_opts *o, enum wif_source_kind kind,
                     struct wif_clock *clock) {
  wif_source_opts_init(o);
  o->kind = kind;
  o->endpoint = url;
  o->audience = "api://wif test&x=1";
  o->timeout_ms = 3000;
  o->clock = clock;
}

/* One test's fake service, fake clock, options and fetch results. */
struct fetch {
  struct fake_service f;
  struct fake_clock fc;
  struct wif_clock k;
  struct wif_source_opts o;
  char *tok;
  int64_t exp;
  struct wif_error err;
};

/* Starts the fake in mode with faults and sets x->o for kind (opts_for);
 * with fake_time the retries sleep on x->fc, else on the real clock. */
static void fetch_start(struct fetch *x, const char *mode, const char *faults,
                        enum wif_source_kind kind, bool fake_time) {
  memset(x, 0, sizeof(*x));
  x->k = fake_clock_of(&x->fc);
  start(&x->f, mode, faults);
  opts_for(&x->o, kind, fake_time ? &x->k : NULL);
}

static wif_rc fetch(struct fetch *x) {
  return wif_source_fetch(&x->o, NULL, &x->tok, &x->exp, &x->err);
}

static void test_azure_ok_and_request_shape(void **state) {
  struct fetch x;
  char *log;
  int64_t before = (int64_t)time(NULL);

  (void)state;
  fetch_start(&x, "azure", NULL, WIF_SOURCE_AZURE, false);
  x.o.client_id = "cid-1";
  assert_int_equal(fetch(&x), WIF_OK);
  /* expires_on arrives as a string. */
  assert_true(x.exp >= before + 3590 && x.exp <= (int64_t)time(NULL) + 3610);
  assert_true(strncmp(x.tok, "eyJ", 3) == 0);
  log = request_log();
  /* K3: Metadata header, encoded parameters, no X-Forwarded-For. */
  assert_non_null(strstr(log, "\"metadata\": \"true\""));
  assert_non_null(strstr(log, "\"resource\": [\"api://wif test&x=1\"]"));
  assert_non_null(strstr(log, "\"client_id\": [\"cid-1\"]"));
  assert_non_null(strstr(log, "\"api-version\": [\"2018-02-01\"]"));
  assert_null(strstr(log, "x-forwarded-for"));
  free(log);
  wif_source_token_free(x.tok);
  fake_stop(&x.f);
}

/* K2 + Retry-After: 429 (Retry-After 2), 500 and 404 are retried; the
 * schedule is read off the fake clock. */
static void test_azure_retry_schedule(void **state) {
  struct fetch x;

  (void)state;
  fetch_start(&x, "azure", "429:2,500,404", WIF_SOURCE_AZURE, true);
  assert_int_equal(fetch(&x), WIF_OK);
  assert_int_equal(requests(), 4);
  assert_int_equal(x.fc.n_delays, 3);
  assert_int_equal(x.fc.delays[0], 2000); /* Retry-After */
  /* The 2nd and 3rd back-off. */
  assert_true(x.fc.delays[1] >= 1000 && x.fc.delays[1] <= 2000);
  assert_true(x.fc.delays[2] >= 2000 && x.fc.delays[2] <= 4000);
  wif_source_token_free(x.tok);
  fake_stop(&x.f);
}

/* K2: more than 3 retryable failures give up with the status. */
static void test_azure_retries_exhausted(void **state) {
  struct fetch x;

  (void)state;
  fetch_start(&x, "azure", "503*", WIF_SOURCE_AZURE, true);
  assert_int_equal(fetch(&x), WIF_E_TOKEN_UNAVAILABLE);
  assert_int_equal(requests(), 4);
  assert_non_null(strstr(x.err.msg, "HTTP 503"));
  assert_non_null(strstr(x.err.msg, "fault_503"));
  assert_null(x.tok);
  fake_stop(&x.f);
}

/* K1: 410 every 10 s for 70 s: 8 requests, then unavailable. */
static void test_azure_410_window(void **state) {
  struct fetch x;

  (void)state;
  fetch_start(&x, "azure", "410*", WIF_SOURCE_AZURE, true);
  assert_int_equal(fetch(&x), WIF_E_TOKEN_UNAVAILABLE);
  assert_int_equal(requests(), 8);
  assert_int_equal(x.fc.n_delays, 7);
  assert_int_equal(x.fc.now, 70000);
  assert_non_null(strstr(x.err.msg, "HTTP 410"));
  fake_stop(&x.f);
  /* A 410 that clears within the window ends in a token. */
  memset(&x.fc, 0, sizeof(x.fc));
  start(&x.f, "azure", "410,410,410");
  assert_int_equal(fetch(&x), WIF_OK);
  assert_int_equal(x.fc.now, 30000);
  wif_source_token_free(x.tok);
  fake_stop(&x.f);
}

/* K2: 400/403 are not retried; the service's error field is reported. */
static void test_azure_no_retry_on_4xx(void **state) {
  struct fetch x;

  (void)state;
  fetch_start(&x, "azure", NULL, WIF_SOURCE_AZURE, true);
  x.o.client_id = "unknown-identity";
  assert_int_equal(fetch(&x), WIF_E_TOKEN_UNAVAILABLE);
  assert_int_equal(requests(), 1);
  assert_int_equal(x.fc.n_delays, 0);
  assert_non_null(strstr(x.err.msg, "HTTP 400"));
  assert_non_null(strstr(x.err.msg, "invalid_request: Identity not found"));
  /* Contradictory selectors never reach the network. */
  x.o.client_id = "a";
  x.o.object_id = "b";
  assert_int_equal(fetch(&x), WIF_E_CONFIG_INVALID);
  x.o.client_id = x.o.object_id = NULL;
  x.o.audience = NULL;
  assert_int_equal(fetch(&x), WIF_E_CONFIG_INVALID);
  assert_int_equal(requests(), 1);
  fake_stop(&x.f);
}

/* K5/K6: garbage and oversized answers; a hang ends at the timeout. */
static void test_azure_garbage_huge_hang(void **state) {
  struct fetch x;
  time_t t0;

  (void)state;
  fetch_start(&x, "azure", "garbage,huge,hang", WIF_SOURCE_AZURE, false);
  assert_int_equal(fetch(&x), WIF_E_TOKEN_UNAVAILABLE);
  assert_non_null(strstr(x.err.msg, "not valid JSON"));
  assert_int_equal(fetch(&x), WIF_E_TOO_LARGE);
  x.o.timeout_ms = 500;
  t0 = time(NULL);
  assert_int_equal(fetch(&x), WIF_E_UNAVAILABLE);
  /* The timeout ended it, not the fake's exit; the bound only shows that
   * it did not wait for the hang (a margin for slow runs). */
  assert_non_null(strstr(x.err.msg, "no answer within 500 ms"));
  assert_true(time(NULL) - t0 <= 15);
  assert_null(x.tok);
  fake_stop(&x.f);
}

/* K7: nothing listening: unavailable at once, no retry storm. */
static void test_unreachable(void **state) {
  struct fetch x;

  (void)state;
  fetch_start(&x, "azure", NULL, WIF_SOURCE_AZURE, true);
  fake_stop(&x.f);
  assert_int_equal(fetch(&x), WIF_E_UNAVAILABLE);
  assert_int_equal(x.fc.n_delays, 0);
  assert_non_null(strstr(x.err.msg, "azure: "));
}

static void test_gcp(void **state) {
  struct fetch x;
  char *log;
  int64_t before = (int64_t)time(NULL);

  (void)state;
  fetch_start(&x, "gcp", "503,429:1", WIF_SOURCE_GCP, true);
  x.o.gcp_format_full = true;
  assert_int_equal(fetch(&x), WIF_OK);
  /* The body is the JWT; its exp is the expiry. */
  assert_true(x.exp >= before + 3590 && x.exp <= (int64_t)time(NULL) + 3610);
  assert_int_equal(x.fc.n_delays, 2);
  assert_int_equal(x.fc.delays[1], 1000);
  log = request_log();
  assert_non_null(strstr(log, "\"metadata-flavor\": \"Google\""));
  assert_non_null(strstr(log, "\"format\": [\"full\"]"));
  assert_non_null(strstr(log, "\"audience\": [\"api://wif test&x=1\"]"));
  free(log);
  wif_source_token_free(x.tok);
  fake_stop(&x.f);
}

/* K4: an answer without Metadata-Flavor: Google is not from GCP. */
static void test_gcp_requires_flavor(void **state) {
  struct fetch x;

  (void)state;
  fetch_start(&x, "gcp", "noflavor", WIF_SOURCE_GCP, false);
  assert_int_equal(fetch(&x), WIF_E_TOKEN_UNAVAILABLE);
  assert_non_null(strstr(x.err.msg, "Metadata-Flavor"));
  assert_null(x.tok);
  /* The fake's own control: the next answer carries the header. */
  assert_int_equal(fetch(&x), WIF_OK);
  wif_source_token_free(x.tok);
  fake_stop(&x.f);
}

/* K4: 404 is not retried for GCP. */
static void test_gcp_404(void **state) {
  struct fetch x;

  (void)state;
  fetch_start(&x, "gcp", "404", WIF_SOURCE_GCP, true);
  assert_int_equal(fetch(&x), WIF_E_TOKEN_UNAVAILABLE);
  assert_int_equal(requests(), 1);
  assert_non_null(strstr(x.err.msg, "HTTP 404"));
  fake_stop(&x.f);
}

static void test_github(void **state) {
  struct fake_service f;
  struct wif_source_opts o;
  char *tok = NULL;
  int64_t exp = 0;
  struct wif_error err;
  char ca[PATH_MAX + 8];
  char req[256];
  char *log;
  struct log_capture cap;
  struct wif_log lg = capture_log(&cap);

  (void)state;
  start(&f, "github", NULL);
  (void)snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
  (void)snprintf(req, sizeof(req), "%s/idtoken?api-version=2.0", url);
  wif_source_opts_init(&o);
  o.kind = WIF_SOURCE_GITHUB;
  o.github_url = req;
  o.github_token = "gh-request-token";
  o.audience = "api://gh";
  o.ca_file = ca;
  assert_int_equal(wif_source_fetch(&o, &lg, &tok, &exp, &err), WIF_OK);
  assert_true(exp > 0);
  log = request_log();
  assert_non_null(
      strstr(log, "\"authorization\": \"bearer gh-request-token\""));
  assert_non_null(strstr(log, "\"audience\": [\"api://gh\"]"));
  free(log);
  /* The request token and the token are never logged. */
  assert_null(strstr(cap.text, "gh-request-token"));
  assert_null(strstr(cap.text, tok));
  wif_source_token_free(tok);
  tok = NULL;
  o.github_token = "wrong";
  assert_int_equal(wif_source_fetch(&o, NULL, &tok, &exp, &err),
                   WIF_E_TOKEN_UNAVAILABLE);
  assert_non_null(strstr(err.msg, "HTTP 401"));
  assert_non_null(strstr(err.msg, "Bad credentials"));
  /* No trust anchor for the throwaway CA: TLS fails. */
  o.github_token = "gh-request-token";
  o.ca_file = NULL;
  assert_int_equal(wif_source_fetch(&o, NULL, &tok, &exp, &err),
                   WIF_E_UNAVAILABLE);
  o.github_url = NULL;
  assert_int_equal(wif_source_fetch(&o, NULL, &tok, &exp, &err),
                   WIF_E_CONFIG_INVALID);
  fake_stop(&f);
}

static void test_client_secret(void **state) {
  struct fake_service f;
  struct wif_source_opts o;
  char *tok = NULL;
  int64_t exp = 0;
  struct wif_error err;
  char ca[PATH_MAX + 8];
  char ep[256];
  char *secret = NULL;
  char *log;
  int64_t before = (int64_t)time(NULL);
  struct log_capture cap;
  struct wif_log lg = capture_log(&cap);

  (void)state;
  start(&f, "oauth", NULL);
  (void)snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
  (void)snprintf(ep, sizeof(ep), "%s/oauth2/v2.0/token", url);
  assert_true(asprintf(&secret, "%s/secret", dir) > 0);
  wif_test_write_text(secret, "s3cret\n", 0600);
  wif_source_opts_init(&o);
  o.kind = WIF_SOURCE_CLIENT_CREDENTIALS;
  o.token_endpoint = ep;
  o.client_id = "cid-1";
  o.audience = "api://app";
  o.secret_file = secret;
  o.ca_file = ca;
  assert_int_equal(wif_source_fetch(&o, &lg, &tok, &exp, &err), WIF_OK);
  assert_true(exp >= before + 3590 &&
              exp <= (int64_t)time(NULL) + 3610); /* expires_in */
  assert_null(strstr(cap.text, "s3cret"));
  log = request_log();
  assert_non_null(strstr(log, "\"scope\": [\"api://app/.default\"]"));
  assert_non_null(strstr(log, "\"grant_type\": [\"client_credentials\"]"));
  free(log);
  wif_source_token_free(tok);
  tok = NULL;
  wif_test_write_text(secret, "wrong\n", 0600);
  assert_int_equal(wif_source_fetch(&o, NULL, &tok, &exp, &err),
                   WIF_E_TOKEN_UNAVAILABLE);
  assert_non_null(strstr(err.msg, "HTTP 401"));
  assert_non_null(strstr(err.msg, "invalid_client"));
  /* A secret others can read is refused before any request. */
  wif_test_write_text(secret, "s3cret\n", 0640);
  assert_int_equal(wif_source_fetch(&o, NULL, &tok, &exp, &err),
                   WIF_E_CONFIG_INSECURE);
  wif_test_write_text(secret, "s3cret\nmore\n", 0600);
  assert_int_equal(wif_source_fetch(&o, NULL, &tok, &exp, &err),
                   WIF_E_CONFIG_INVALID);
  /* https only: the form carries the secret. */
  (void)snprintf(ep, sizeof(ep), "http://127.0.0.1:%d/oauth2/v2.0/token",
                 f.port);
  wif_test_write_text(secret, "s3cret\n", 0600);
  assert_int_not_equal(wif_source_fetch(&o, NULL, &tok, &exp, &err), WIF_OK);
  assert_null(tok);
  free(secret);
  fake_stop(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_azure_ok_and_request_shape),
      cmocka_unit_test(test_azure_retry_schedule),
      cmocka_unit_test(test_azure_retries_exhausted),
      cmocka_unit_test(test_azure_410_window),
      cmocka_unit_test(test_azure_no_retry_on_4xx),
      cmocka_unit_test(test_azure_garbage_huge_hang),
      cmocka_unit_test(test_unreachable),
      cmocka_unit_test(test_gcp),
      cmocka_unit_test(test_gcp_requires_flavor),
      cmocka_unit_test(test_gcp_404),
      cmocka_unit_test(test_github),
      cmocka_unit_test(test_client_secret),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
