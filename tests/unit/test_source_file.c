/* SPDX-License-Identifier: Apache-2.0 */
/* file: and k8s token sources (SECURITY-CASES A10): framing, limits,
 * the readable-by-others warning. */
#include "source_testutil.h"

#include "jwt.h"
#include "source.h"

static char dir[PATH_MAX];

static int setup(void **state) {
  (void)state;
  wif_test_scratch_dir(dir, sizeof(dir), "wif-test-srcfile");
  return 0;
}

static int teardown(void **state) {
  (void)state;
  (void)wif_test_remove_tree(dir);
  return 0;
}

static char *put(const char *name, const char *data, mode_t mode) {
  char *p = NULL;

  assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
  wif_test_write_text(p, data, mode);
  return p;
}

static wif_rc fetch(enum wif_source_kind kind, const char *path,
                    const struct wif_log *log, char **tok, int64_t *exp,
                    struct wif_error *err) {
  struct wif_source_opts o;

  wif_source_opts_init(&o);
  o.kind = kind;
  o.path = path;
  wif_error_clear(err);
  return wif_source_fetch(&o, log, tok, exp, err);
}

static void test_framing(void **state) {
  static const struct {
    const char *content;
    wif_rc rc;
    const char *token;
  } cases[] = {
      {"a.b.c", WIF_OK, "a.b.c"},
      {"a.b.c\n", WIF_OK, "a.b.c"},   /* A10: one LF is framing */
      {"a.b.c\r\n", WIF_OK, "a.b.c"}, /* ... or one CRLF */
      {"a.b.c\n\n", WIF_E_TOKEN_UNAVAILABLE, NULL},
      {" a.b.c", WIF_E_TOKEN_UNAVAILABLE, NULL},
      {"a.b.c ", WIF_E_TOKEN_UNAVAILABLE, NULL},
      {"a.b\n.c", WIF_E_TOKEN_UNAVAILABLE, NULL},
      {"a.b\\.c", WIF_E_TOKEN_UNAVAILABLE, NULL}, /* the part marker */
      {"", WIF_E_TOKEN_UNAVAILABLE, NULL},
      {"\n", WIF_E_TOKEN_UNAVAILABLE, NULL},
      {"a.b.\xc3\xa9", WIF_E_TOKEN_UNAVAILABLE, NULL},
  };

  (void)state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char *p = put("tok", cases[i].content, 0600);
    char *tok = NULL;
    int64_t exp = -1;
    struct wif_error err;

    assert_int_equal(fetch(WIF_SOURCE_FILE, p, NULL, &tok, &exp, &err),
                     cases[i].rc);
    if (cases[i].token != NULL) {
      assert_string_equal(tok, cases[i].token);
      assert_int_equal(exp, 0);
    } else {
      assert_null(tok);
      assert_true(err.msg[0] != '\0');
    }
    wif_source_token_free(tok);
    free(p);
  }
}

static void test_size_limit(void **state) {
  char *big = malloc(WIF_TOKEN_MAX + 2);
  char *p;
  char *tok = NULL;
  int64_t exp;
  struct wif_error err;

  (void)state;
  assert_non_null(big);
  memset(big, 'a', WIF_TOKEN_MAX);
  big[WIF_TOKEN_MAX] = '\n';
  big[WIF_TOKEN_MAX + 1] = '\0';
  p = put("max", big, 0600);
  assert_int_equal(fetch(WIF_SOURCE_FILE, p, NULL, &tok, &exp, &err), WIF_OK);
  assert_int_equal(strlen(tok), WIF_TOKEN_MAX);
  wif_source_token_free(tok);
  tok = NULL;
  free(p);
  big[WIF_TOKEN_MAX] = 'a';
  p = put("over", big, 0600);
  assert_int_equal(fetch(WIF_SOURCE_FILE, p, NULL, &tok, &exp, &err),
                   WIF_E_TOKEN_UNAVAILABLE);
  assert_non_null(strstr(err.msg, "16384"));
  assert_null(tok);
  free(p);
  free(big);
}

static void test_missing_and_not_regular(void **state) {
  char *tok = NULL;
  int64_t exp;
  struct wif_error err;

  (void)state;
  assert_int_equal(
      fetch(WIF_SOURCE_FILE, "/nonexistent/token", NULL, &tok, &exp, &err),
      WIF_E_TOKEN_UNAVAILABLE);
  assert_non_null(strstr(err.msg, "/nonexistent/token"));
  assert_int_equal(fetch(WIF_SOURCE_FILE, dir, NULL, &tok, &exp, &err),
                   WIF_E_TOKEN_UNAVAILABLE);
  assert_null(tok);
}

/* Expiry is the token's own exp; the warning names a file others can
 * read, and never the token. */
static void test_jwt_exp_and_warning(void **state) {
  char *jwt = wif_test_signf("es256", "ES256", "{\"exp\":%d,\"sub\":\"w\"}",
                             1900000000);
  char *p = put("jwt", jwt, 0644);
  char *tok = NULL;
  int64_t exp = 0;
  struct wif_error err;
  struct log_capture cap;
  struct wif_log log = capture_log(&cap);

  (void)state;
  assert_int_equal(fetch(WIF_SOURCE_FILE, p, &log, &tok, &exp, &err), WIF_OK);
  assert_int_equal(exp, 1900000000);
  assert_non_null(strstr(cap.text, "readable by others"));
  assert_null(strstr(cap.text, jwt));
  wif_source_token_free(tok);
  tok = NULL;
  assert_int_equal(chmod(p, 0600), 0);
  log = capture_log(&cap);
  assert_int_equal(fetch(WIF_SOURCE_FILE, p, &log, &tok, &exp, &err), WIF_OK);
  assert_null(strstr(cap.text, "readable by others"));
  wif_source_token_free(tok);
  free(p);
  free(jwt);
}

/* k8s with a path (the CLI fills it from AZURE_FEDERATED_TOKEN_FILE or
 * AWS_WEB_IDENTITY_TOKEN_FILE); the core never reads the environment. */
static void test_k8s(void **state) {
  char *p = put("k8s", "k.8.s\n", 0600);
  char *q = put("aws", "a.w.s\n", 0600);
  char *tok = NULL;
  int64_t exp;
  struct wif_error err;
  struct wif_source_opts o;

  (void)state;
  assert_int_equal(fetch(WIF_SOURCE_K8S, p, NULL, &tok, &exp, &err), WIF_OK);
  assert_string_equal(tok, "k.8.s");
  wif_source_token_free(tok);
  tok = NULL;
  /* Without a path: the projected service account token, never an
   * environment variable. */
  setenv("AZURE_FEDERATED_TOKEN_FILE", p, 1);
  if (access(WIF_SOURCE_K8S_TOKEN_FILE, F_OK) != 0) {
    assert_int_equal(fetch(WIF_SOURCE_K8S, NULL, NULL, &tok, &exp, &err),
                     WIF_E_TOKEN_UNAVAILABLE);
    assert_non_null(strstr(err.msg, WIF_SOURCE_K8S_TOKEN_FILE));
  }
  /* The CLI's environment chain: Azure's variable first, then AWS's. */
  setenv("AWS_WEB_IDENTITY_TOKEN_FILE", q, 1);
  wif_source_opts_init(&o);
  assert_int_equal(wif_source_parse("k8s", &o, NULL), WIF_OK);
  wif_source_opts_from_env(&o);
  assert_string_equal(o.path, p);
  unsetenv("AZURE_FEDERATED_TOKEN_FILE");
  wif_source_opts_init(&o);
  o.kind = WIF_SOURCE_K8S;
  wif_source_opts_from_env(&o);
  assert_string_equal(o.path, q);
  unsetenv("AWS_WEB_IDENTITY_TOKEN_FILE");
  wif_source_opts_init(&o);
  o.kind = WIF_SOURCE_K8S;
  wif_source_opts_from_env(&o);
  assert_null(o.path);
  free(p);
  free(q);
}

static void test_parse_spec(void **state) {
  struct wif_source_opts o;
  struct wif_error err;
  static const char *const good[] = {"azure", "gcp", "k8s", "github",
                                     "client-credentials"};

  (void)state;
  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
    wif_source_opts_init(&o);
    assert_int_equal(wif_source_parse(good[i], &o, &err), WIF_OK);
    assert_string_equal(wif_source_kind_name(o.kind), good[i]);
  }
  assert_int_equal(wif_source_parse("file:/a/b", &o, &err), WIF_OK);
  assert_int_equal(o.kind, WIF_SOURCE_FILE);
  assert_string_equal(o.path, "/a/b");
  assert_int_equal(wif_source_parse("exec:/bin/x -y", &o, &err), WIF_OK);
  assert_int_equal(o.kind, WIF_SOURCE_EXEC);
  assert_string_equal(o.command, "/bin/x -y");
  assert_int_equal(wif_source_parse("file:", &o, &err), WIF_E_CONFIG_INVALID);
  assert_int_equal(wif_source_parse("exec:", &o, &err), WIF_E_CONFIG_INVALID);
  assert_int_equal(wif_source_parse("Azure", &o, &err), WIF_E_CONFIG_INVALID);
  assert_int_equal(wif_source_parse("", &o, &err), WIF_E_CONFIG_INVALID);
  assert_int_equal(wif_source_parse("aws\n", &o, &err), WIF_E_CONFIG_INVALID);
  assert_non_null(strstr(err.msg, "aws\\x0a"));
}

/* Only Entra ID's token services get the "<resource>/.default" scope. */
static void test_is_entra(void **state) {
  static const char *const yes[] = {
      "https://login.microsoftonline.com/t/oauth2/v2.0/token",
      "https://LOGIN.microsoftonline.us/t/oauth2/token",
      "https://login.chinacloudapi.cn/t/oauth2/v2.0/token",
      "https://login.partner.microsoftonline.cn:443/t/oauth2/v2.0/token",
      "https://contoso.b2clogin.com/contoso/b2c_1/oauth2/v2.0/token?p=1"};
  static const char *const no[] = {
      "https://tenant.auth0.com/oauth/token",
      "https://login.microsoftonline.com.evil.example/t/oauth2/token",
      "https://evil.example/login.microsoftonline.com/oauth2/token",
      "https://login.microsoftonline.com@evil.example/oauth2/token",
      "http://login.microsoftonline.com/t/oauth2/v2.0/token",
      "https://idp.example/realms/r/protocol/openid-connect/token",
      "https://idp.example/oauth2/v2.0/token/x",
      ""};

  (void)state;
  for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
    assert_true(wif_source_is_entra(yes[i]));
  for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
    assert_false(wif_source_is_entra(no[i]));
  assert_false(wif_source_is_entra(NULL));
}

/* App Service's variables apply only without --endpoint, and both are
 * read; WIF_AZURE_IMDS_ENDPOINT only without them. */
static void test_azure_env(void **state) {
  struct wif_source_opts o;

  (void)state;
  setenv("IDENTITY_ENDPOINT", "http://127.0.0.1:41000/msi/token", 1);
  setenv("IDENTITY_HEADER", "h", 1);
  setenv("WIF_AZURE_IMDS_ENDPOINT", "http://127.0.0.1:1", 1);
  wif_source_opts_init(&o);
  wif_source_opts_from_env(&o);
  assert_string_equal(o.identity_endpoint, "http://127.0.0.1:41000/msi/token");
  assert_string_equal(o.identity_header, "h");
  assert_null(o.endpoint);
  wif_source_opts_init(&o);
  o.endpoint = "http://127.0.0.1:2";
  wif_source_opts_from_env(&o);
  assert_null(o.identity_endpoint);
  assert_string_equal(o.endpoint, "http://127.0.0.1:2");
  unsetenv("IDENTITY_ENDPOINT");
  unsetenv("IDENTITY_HEADER");
  wif_source_opts_init(&o);
  wif_source_opts_from_env(&o);
  assert_null(o.identity_endpoint);
  assert_string_equal(o.endpoint, "http://127.0.0.1:1");
  unsetenv("WIF_AZURE_IMDS_ENDPOINT");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_framing),
      cmocka_unit_test(test_size_limit),
      cmocka_unit_test(test_missing_and_not_regular),
      cmocka_unit_test(test_jwt_exp_and_warning),
      cmocka_unit_test(test_k8s),
      cmocka_unit_test(test_parse_spec),
      cmocka_unit_test(test_is_entra),
      cmocka_unit_test(test_azure_env),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
