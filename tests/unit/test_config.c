/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for config.c: every key, every default, every message, and
 * the data-driven tests/data/config/{valid,invalid} folders. */
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

#include "config.h"

#define CONFIG_DATA WIF_TEST_DATA_DIR "/config"

static const char provider_p1[] = "[provider p1]\n"
                                  "issuer = https://issuer.example/p1\n"
                                  "audience = api://host\n";

static struct wif_config *parse_ok(const char *text) {
  struct wif_config *cfg = NULL;
  struct wif_error err;

  wif_error_clear(&err);
  if (wif_config_parse(text, strlen(text), "t.conf", &cfg, &err) != WIF_OK)
    fail_msg("unexpected error: %s", err.msg);
  assert_non_null(cfg);
  return cfg;
}

/* Parses text that must fail with CONFIG_INVALID and exactly msg. */
static void parse_fails(const char *text, size_t len, const char *msg) {
  struct wif_config *cfg = (struct wif_config *)1;
  struct wif_error err;

  assert_int_equal(wif_config_parse(text, len, "t.conf", &cfg, &err),
                   WIF_E_CONFIG_INVALID);
  assert_null(cfg);
  assert_int_equal(err.rc, WIF_E_CONFIG_INVALID);
  assert_string_equal(err.msg, msg);
}

static void test_global_defaults(void **state) {
  struct wif_config *cfg = wif_config_new("/etc/security/pam_wif.conf");

  (void)state;
  assert_non_null(cfg);
  assert_string_equal(cfg->path, "/etc/security/pam_wif.conf");
  assert_string_equal(cfg->map_file, WIF_MAP_PATH);
  assert_string_equal(cfg->map_file, "/etc/security/pam_wif.map");
  assert_string_equal(cfg->cache_dir, "/var/cache/pam_wif");
  assert_int_equal(cfg->http_timeout, 5);
  assert_int_equal(cfg->clock_skew, 60);
  assert_int_equal(cfg->n_log_claims, 2);
  assert_string_equal(cfg->log_claims[0], "iss");
  assert_string_equal(cfg->log_claims[1], "sub");
  assert_null(cfg->https_proxy);
  assert_int_equal(cfg->n_providers, 0);
  wif_config_free(cfg);
  wif_config_free(NULL);

  cfg = wif_config_new(NULL);
  assert_non_null(cfg);
  assert_null(cfg->path);
  wif_config_free(cfg);
}

static void test_provider_defaults(void **state) {
  struct wif_config *cfg = parse_ok(provider_p1);
  const struct wif_provider *p = &cfg->providers[0];

  (void)state;
  assert_int_equal(cfg->n_providers, 1);
  assert_string_equal(p->name, "p1");
  assert_string_equal(p->issuer, "https://issuer.example/p1");
  assert_int_equal(p->n_audiences, 1);
  assert_string_equal(p->audiences[0], "api://host");
  assert_int_equal(p->authz_types, WIF_AUTHZ_BIT(WIF_AUTHZ_USER));
  assert_string_equal(p->user_claim, "sub");
  assert_string_equal(p->groups_claim, "groups");
  assert_int_equal(p->algorithms, WIF_ALG_BIT(WIF_ALG_RS256));
  assert_null(p->jwks_uri);
  assert_null(p->jwks_file);
  assert_null(p->ca_file);
  assert_int_equal(p->n_requires, 0);
  assert_null(p->requires);
  assert_int_equal(p->max_token_age, WIF_MAX_TOKEN_AGE_DEFAULT + 60);
  assert_int_equal(p->line, 1);
  /* The global defaults hold without a [global] section. */
  assert_string_equal(cfg->path, "t.conf");
  assert_int_equal(cfg->http_timeout, 5);
  assert_int_equal(cfg->n_log_claims, 2);
  wif_config_free(cfg);
}

static void test_every_key_values(void **state) {
  struct wif_config *cfg =
      parse_ok("# every key once\n"
               "[global]\n"
               "map_file = /etc/pam_wif/map\n"
               "cache_dir = /var/lib/wif\n"
               "http_timeout = 60\n"
               "clock_skew = 0\n"
               "log_claims = sub, /a/b~1c oid\n"
               "https_proxy = https://proxy.corp:3128\n"
               "[provider x-1]\n"
               "issuer = https://issuer.example/tenant/ # exact string kept\n"
               "audience = a1 a2,a3\n"
               "authorization = group\n"
               "user_claim = /user/id\n"
               "groups_claim = roles\n"
               "algorithms = ES256 PS512 EdDSA\n"
               "jwks_uri = https://issuer.example/keys?x=1#frag\n"
               "ca_file = /etc/ssl/ca.pem\n"
               "require = tid = 1234-*\n"
               "require =/x/y~0z=a=b\n"
               "max_token_age = 31536000\n"
               "[provider x-2]\n"
               "issuer = https://other.example\n"
               "audience = a1\n"
               "jwks_file = /etc/keys.jwks\n"
               "max_token_age = 60\n");
  const struct wif_provider *p;

  (void)state;
  assert_string_equal(cfg->map_file, "/etc/pam_wif/map");
  assert_string_equal(cfg->cache_dir, "/var/lib/wif");
  assert_int_equal(cfg->http_timeout, 60);
  assert_int_equal(cfg->clock_skew, 0);
  /* The first log_claims replaces the default list. */
  assert_int_equal(cfg->n_log_claims, 3);
  assert_string_equal(cfg->log_claims[0], "sub");
  assert_string_equal(cfg->log_claims[1], "/a/b~1c");
  assert_string_equal(cfg->log_claims[2], "oid");
  assert_string_equal(cfg->https_proxy, "https://proxy.corp:3128");
  assert_int_equal(cfg->n_providers, 2);

  p = &cfg->providers[0];
  assert_string_equal(p->name, "x-1");
  assert_int_equal(p->line, 9);
  assert_string_equal(p->issuer, "https://issuer.example/tenant/");
  assert_int_equal(p->n_audiences, 3);
  assert_string_equal(p->audiences[0], "a1");
  assert_string_equal(p->audiences[1], "a2");
  assert_string_equal(p->audiences[2], "a3");
  assert_int_equal(p->authz_types, WIF_AUTHZ_BIT(WIF_AUTHZ_GROUP));
  assert_string_equal(p->user_claim, "/user/id");
  assert_string_equal(p->groups_claim, "roles");
  assert_int_equal(p->algorithms, WIF_ALG_BIT(WIF_ALG_ES256) |
                                      WIF_ALG_BIT(WIF_ALG_PS512) |
                                      WIF_ALG_BIT(WIF_ALG_EDDSA));
  /* A # without a blank before it is part of the value. */
  assert_string_equal(p->jwks_uri, "https://issuer.example/keys?x=1#frag");
  assert_null(p->jwks_file);
  assert_string_equal(p->ca_file, "/etc/ssl/ca.pem");
  assert_int_equal(p->n_requires, 2);
  assert_string_equal(p->requires[0].claim, "tid");
  assert_string_equal(p->requires[0].pattern, "1234-*");
  /* Split on the first '=' only. */
  assert_string_equal(p->requires[1].claim, "/x/y~0z");
  assert_string_equal(p->requires[1].pattern, "a=b");
  assert_int_equal(p->max_token_age, 31536000);

  p = &cfg->providers[1];
  assert_string_equal(p->name, "x-2");
  assert_int_equal(p->line, 21);
  assert_string_equal(p->jwks_file, "/etc/keys.jwks");
  assert_null(p->jwks_uri);
  assert_int_equal(p->max_token_age, 60);
  assert_int_equal(p->authz_types, WIF_AUTHZ_BIT(WIF_AUTHZ_USER));
  wif_config_free(cfg);
}

/* A global key inside a provider section is an unknown key there. */
static void test_scope_of_keys(void **state) {
  static const char text[] = "[provider p1]\n"
                             "issuer = https://issuer.example/p1\n"
                             "audience = a\n"
                             "http_timeout = 5\n";

  (void)state;
  parse_fails(text, strlen(text),
              "t.conf:4: unknown key \"http_timeout\" in [provider p1]");
}

static void test_lists_append(void **state) {
  struct wif_config *cfg = parse_ok("[global]\n"
                                    "log_claims = iss\n"
                                    "log_claims = sub email\n"
                                    "[provider p]\n"
                                    "issuer = https://i.example\n"
                                    "audience = a\n"
                                    "audience = b, c\n"
                                    "algorithms = PS256\n"
                                    "algorithms = RS256\n");
  const struct wif_provider *p = &cfg->providers[0];

  (void)state;
  assert_int_equal(cfg->n_log_claims, 3);
  assert_string_equal(cfg->log_claims[2], "email");
  assert_int_equal(p->n_audiences, 3);
  assert_string_equal(p->audiences[2], "c");
  assert_int_equal(p->algorithms,
                   WIF_ALG_BIT(WIF_ALG_PS256) | WIF_ALG_BIT(WIF_ALG_RS256));
  wif_config_free(cfg);

  /* Setting algorithms drops the RS256 default. */
  cfg = parse_ok("[provider p]\nissuer = https://i.example\naudience = a\n"
                 "algorithms = ES384\n");
  assert_int_equal(cfg->providers[0].algorithms, WIF_ALG_BIT(WIF_ALG_ES384));
  wif_config_free(cfg);
}

static void test_number_bounds(void **state) {
  struct wif_config *cfg = parse_ok("[global]\n"
                                    "http_timeout = 1\n"
                                    "clock_skew = 600\n"
                                    "[provider p]\n"
                                    "issuer = https://i.example\n"
                                    "audience = a\n"
                                    "max_token_age = 060\n");
  char text[256];

  (void)state;
  assert_int_equal(cfg->http_timeout, 1);
  assert_int_equal(cfg->clock_skew, 600);
  assert_int_equal(cfg->providers[0].max_token_age, 60);
  wif_config_free(cfg);

  snprintf(text, sizeof(text), "[global]\nhttp_timeout = 61\n");
  parse_fails(text, strlen(text),
              "t.conf:2: http_timeout must be a number from 1 to 60, not "
              "\"61\"");
  snprintf(text, sizeof(text), "[global]\nclock_skew = +5\n");
  parse_fails(text, strlen(text),
              "t.conf:2: clock_skew must be a number from 0 to 600, not "
              "\"+5\"");
  snprintf(text, sizeof(text), "[global]\nclock_skew = 0x10\n");
  parse_fails(text, strlen(text),
              "t.conf:2: clock_skew must be a number from 0 to 600, not "
              "\"0x10\"");
  snprintf(text, sizeof(text), "%smax_token_age = 31536001\n", provider_p1);
  parse_fails(text, strlen(text),
              "t.conf:4: max_token_age must be 0 (no limit) or a number from "
              "60 to 31536000, not \"31536001\"");
  snprintf(text, sizeof(text), "%smax_token_age = 00\n", provider_p1);
  parse_fails(text, strlen(text),
              "t.conf:4: max_token_age must be 0 (no limit) or a number from "
              "60 to 31536000, not \"00\"");
  /* The default follows clock_skew wherever [global] is in the file. */
  cfg = parse_ok("[provider p]\nissuer = https://i.example\naudience = a\n"
                 "[provider q]\nissuer = https://j.example\naudience = a\n"
                 "max_token_age = 0\n"
                 "[global]\nclock_skew = 5\n");
  assert_int_equal(cfg->providers[0].max_token_age, 90005);
  assert_int_equal(cfg->providers[1].max_token_age, 0);
  wif_config_free(cfg);
}

static void test_limits(void **state) {
  char *text = NULL;
  size_t cap = 64 * 1024;
  size_t n;
  struct wif_config *cfg;

  (void)state;
  assert_non_null(text = malloc(cap));

  /* WIF_LIST_MAX audiences pass, one more fails. */
  n = (size_t)snprintf(text, cap, "[provider p]\nissuer = https://i.ex\n");
  for (int i = 0; i < WIF_LIST_MAX; i++)
    n += (size_t)snprintf(text + n, cap - n, "audience = a%d\n", i);
  cfg = parse_ok(text);
  assert_int_equal(cfg->providers[0].n_audiences, WIF_LIST_MAX);
  wif_config_free(cfg);
  n += (size_t)snprintf(text + n, cap - n, "audience = last\n");
  parse_fails(text, n, "t.conf:35: audience takes at most 32 values");

  /* WIF_LIST_MAX require lines pass, one more fails. */
  n = (size_t)snprintf(text, cap, "%s", provider_p1);
  for (int i = 0; i < WIF_LIST_MAX; i++)
    n += (size_t)snprintf(text + n, cap - n, "require = c%d = v\n", i);
  cfg = parse_ok(text);
  assert_int_equal(cfg->providers[0].n_requires, WIF_LIST_MAX);
  wif_config_free(cfg);
  n += (size_t)snprintf(text + n, cap - n, "require = c = v\n");
  parse_fails(text, n, "t.conf:36: require may appear at most 32 times");

  /* WIF_PROVIDERS_MAX providers pass, one more fails. */
  n = 0;
  for (int i = 0; i < WIF_PROVIDERS_MAX; i++)
    n += (size_t)snprintf(text + n, cap - n,
                          "[provider p%d]\nissuer = https://i.ex/%d\n"
                          "audience = a\n",
                          i, i);
  cfg = parse_ok(text);
  assert_int_equal(cfg->n_providers, WIF_PROVIDERS_MAX);
  assert_non_null(wif_config_provider_by_name(cfg, "p63"));
  wif_config_free(cfg);
  n += (size_t)snprintf(text + n, cap - n, "[provider one-more]\n");
  parse_fails(text, n, "t.conf:193: too many providers (at most 64)");

  /* A line of exactly WIF_CONFIG_LINE_MAX bytes passes; one more fails. */
  n = (size_t)snprintf(text, cap, "%s#", provider_p1);
  memset(text + n, 'x', WIF_CONFIG_LINE_MAX - 1);
  n += WIF_CONFIG_LINE_MAX - 1;
  text[n] = '\0';
  cfg = parse_ok(text);
  wif_config_free(cfg);
  text[n++] = 'x';
  parse_fails(text, n, "t.conf:4: line is longer than 4096 bytes");
  free(text);
}

/* Values quoted in messages are cut, so the message keeps its place. */
static void test_long_value_quoted(void **state) {
  char text[512];
  char want[512];
  char key[101];

  (void)state;
  memset(key, 'k', 100);
  key[100] = '\0';
  snprintf(text, sizeof(text), "[global]\n%s = 1\n", key);
  snprintf(want, sizeof(want), "t.conf:2: unknown key \"%.64s...\" in [global]",
           key);
  parse_fails(text, strlen(text), want);
}

/* NUL bytes: the length, not the terminator, bounds the text. */
static void test_nul_byte(void **state) {
  static const char text[] = "[global]\nclock_skew = 5\0 extra\n";

  (void)state;
  parse_fails(text, sizeof(text) - 1, "t.conf:2: NUL byte in line");
}

static void test_empty_text(void **state) {
  (void)state;
  parse_fails("", 0, "t.conf: no [provider] section");
  parse_fails("# only comments\n\n", 17, "t.conf: no [provider] section");
}

/* B1: "none" and HS* can never be enabled, in any spelling. */
static void test_b1_alg_none_never(void **state) {
  static const char *const bad[] = {"none",  "None",  "NONE", "HS256",
                                    "HS384", "HS512", "hs256"};
  char text[256];
  char want[256];

  (void)state;
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    snprintf(text, sizeof(text), "%salgorithms = %s\n", provider_p1, bad[i]);
    snprintf(want, sizeof(want), "t.conf:4: algorithm \"%s\" is never allowed",
             bad[i]);
    parse_fails(text, strlen(text), want);
  }
}

static void test_lookup(void **state) {
  struct wif_config *cfg =
      parse_ok("[provider a]\nissuer = https://i.example/x\naudience = 1\n"
               "[provider b]\nissuer = https://i.example/x/\naudience = 1\n");
  const char *iss = "https://i.example/x/";

  (void)state;
  assert_ptr_equal(wif_config_provider_by_name(cfg, "a"), &cfg->providers[0]);
  assert_ptr_equal(wif_config_provider_by_name(cfg, "b"), &cfg->providers[1]);
  assert_null(wif_config_provider_by_name(cfg, "c"));
  assert_null(wif_config_provider_by_name(cfg, "A"));
  /* E9: exact bytes, no normalisation; len bounds the compare. */
  assert_ptr_equal(wif_config_provider_by_issuer(cfg, iss, strlen(iss)),
                   &cfg->providers[1]);
  assert_ptr_equal(wif_config_provider_by_issuer(cfg, iss, strlen(iss) - 1),
                   &cfg->providers[0]);
  assert_null(wif_config_provider_by_issuer(cfg, "https://i.example", 17));
  assert_null(wif_config_provider_by_issuer(cfg, "http://i.example/x", 18));
  assert_null(wif_config_provider_by_issuer(cfg, "https://I.example/x", 19));
  assert_null(
      wif_config_provider_by_issuer(cfg, "https://i.example/x.evil", 24));
  assert_null(wif_config_provider_by_issuer(NULL, iss, strlen(iss)));
  wif_config_free(cfg);
}

/* The way `wifctl verify --issuer` builds a config without a file. */
static void test_api_build(void **state) {
  struct wif_config *cfg = wif_config_new(NULL);
  struct wif_provider *p = NULL;
  struct wif_provider *q = NULL;
  struct wif_error err;

  (void)state;
  assert_non_null(cfg);
  assert_int_equal(wif_config_finish(cfg, &err), WIF_E_CONFIG_INVALID);
  assert_string_equal(err.msg, "no [provider] section");
  assert_int_equal(wif_config_add_provider(cfg, "cli", &p, &err), WIF_OK);
  assert_non_null(p);
  assert_int_equal(p->line, 0);
  assert_int_equal(wif_config_finish(cfg, &err), WIF_E_CONFIG_INVALID);
  assert_string_equal(err.msg, "[provider cli] has no issuer");
  assert_int_equal(wif_config_set(cfg, p, "issuer", "https://i.ex", &err),
                   WIF_OK);
  assert_int_equal(wif_config_finish(cfg, &err), WIF_E_CONFIG_INVALID);
  assert_string_equal(err.msg, "[provider cli] has no audience");
  assert_int_equal(wif_config_set(cfg, p, "audience", "a,b", &err), WIF_OK);
  assert_int_equal(wif_config_set(cfg, p, "algorithms", "RS256,ES256", &err),
                   WIF_OK);
  assert_int_equal(wif_config_set(cfg, NULL, "clock_skew", "30", &err), WIF_OK);
  assert_int_equal(wif_config_finish(cfg, &err), WIF_OK);
  assert_int_equal(p->n_audiences, 2);
  assert_int_equal(cfg->clock_skew, 30);

  /* Messages from wif_config_set carry no place: the caller adds it. */
  assert_int_equal(wif_config_set(cfg, p, "audiense", "x", &err),
                   WIF_E_CONFIG_INVALID);
  assert_string_equal(err.msg, "unknown key \"audiense\" in [provider cli]");
  assert_int_equal(wif_config_set(cfg, p, "issuer", "https://j.ex", &err),
                   WIF_E_CONFIG_INVALID);
  assert_string_equal(err.msg, "duplicate key \"issuer\" in [provider cli]");
  assert_int_equal(wif_config_set(cfg, NULL, "clock_skew", "", &err),
                   WIF_E_CONFIG_INVALID);
  assert_string_equal(err.msg, "duplicate key \"clock_skew\" in [global]");
  assert_int_equal(wif_config_set(cfg, NULL, "https_proxy", "", &err),
                   WIF_E_CONFIG_INVALID);
  assert_string_equal(err.msg, "empty value for \"https_proxy\"");
  /* A provider the config does not own is refused. */
  {
    struct wif_provider stray;
    memset(&stray, 0, sizeof(stray));
    assert_int_equal(wif_config_set(cfg, &stray, "issuer", "https://x", &err),
                     WIF_E_INTERNAL);
  }

  /* Provider names. */
  assert_int_equal(wif_config_add_provider(cfg, "cli", &q, &err),
                   WIF_E_CONFIG_INVALID);
  assert_null(q);
  assert_string_equal(err.msg, "duplicate provider \"cli\"");
  assert_int_equal(wif_config_add_provider(cfg, "a/b", &q, &err),
                   WIF_E_CONFIG_INVALID);
  assert_string_equal(
      err.msg, "invalid provider name \"a/b\" (1 to 64 of A-Z a-z 0-9 _ . -)");
  {
    char name[66];
    memset(name, 'n', 65);
    name[65] = '\0';
    assert_int_equal(wif_config_add_provider(cfg, name, &q, &err),
                     WIF_E_CONFIG_INVALID);
    name[64] = '\0';
    assert_int_equal(wif_config_add_provider(cfg, name, &q, &err), WIF_OK);
    assert_string_equal(q->name, name);
  }

  /* finish re-checks what a caller may have filled in directly. */
  p = &cfg->providers[0];
  /* "https://i.ex" becomes "http://i.ex". */
  memmove(p->issuer + 4, p->issuer + 5, strlen(p->issuer + 5) + 1);
  assert_int_equal(wif_config_finish(cfg, &err), WIF_E_CONFIG_INVALID);
  assert_string_equal(err.msg, "[provider cli] issuer must be an https:// URL");
  wif_config_free(cfg);
}

/* Runs fn on each .conf file of tests/data/config/KIND. */
static size_t for_each_conf(const char *kind,
                            void (*fn)(const char *path, const char *name,
                                       void *ctx)) {
  char dir[PATH_MAX];

  snprintf(dir, sizeof(dir), "%s/%s", CONFIG_DATA, kind);
  return wif_test_for_each_file(dir, ".conf", fn, NULL);
}

static void check_valid(const char *path, const char *name, void *ctx) {
  struct wif_config *cfg = NULL;
  struct wif_error err;
  size_t len;
  char *text = wif_test_read(path, &len);

  (void)ctx;
  wif_error_clear(&err);
  if (wif_config_parse(text, len, name, &cfg, &err) != WIF_OK)
    fail_msg("%s: unexpected error: %s", name, err.msg);
  assert_non_null(cfg);
  assert_true(cfg->n_providers >= 1);
  wif_config_free(cfg);
  free(text);
}

static void check_invalid(const char *path, const char *name, void *ctx) {
  struct wif_config *cfg = (struct wif_config *)1;
  struct wif_error err;
  size_t len;
  char *text = wif_test_read(path, &len);
  char *want = wif_test_expected_error(text, name, NULL);

  (void)ctx;
  wif_error_clear(&err);
  if (wif_config_parse(text, len, name, &cfg, &err) != WIF_E_CONFIG_INVALID)
    fail_msg("%s: expected CONFIG_INVALID, got %s (%s)", name,
             wif_rc_name(err.rc), err.msg);
  assert_null(cfg);
  if (strcmp(err.msg, want) != 0)
    fail_msg("%s: got \"%s\", want \"%s\"", name, err.msg, want);
  free(want);
  free(text);
}

static void test_data_valid(void **state) {
  (void)state;
  assert_true(for_each_conf("valid", check_valid) >= 7);
}

/* Among the cases: B1 (alg-none, alg-hs256), J1 (http-issuer,
 * http-jwks-uri, file-jwks-uri), H5 (typo-key, missing-issuer). */
static void test_data_invalid(void **state) {
  (void)state;
  assert_true(for_each_conf("invalid", check_invalid) >= 25);
}

/* N10: under a German (decimal comma) and a Turkish (dotless i) locale
 * the parser gives the same answers: every data file, the alg names. */
static void test_locales(void **state) {
  static const char *const names[] = {"de_DE.UTF-8", "tr_TR.UTF-8"};

  (void)state;
  for (size_t i = 0; i < 2; i++) {
    (void)wif_test_setlocale(names[i]);
    test_b1_alg_none_never(NULL);
    assert_true(for_each_conf("valid", check_valid) >= 7);
    assert_true(for_each_conf("invalid", check_invalid) >= 25);
    setlocale(LC_ALL, "C");
  }
}

/* The valid design example, field by field. */
static void test_design_example(void **state) {
  struct wif_config *cfg = NULL;
  struct wif_error err;
  size_t len;
  char *text = wif_test_read(CONFIG_DATA "/valid/design-example.conf", &len);
  const struct wif_provider *p;

  (void)state;
  assert_int_equal(wif_config_parse(text, len, "d", &cfg, &err), WIF_OK);
  assert_string_equal(cfg->https_proxy, "http://proxy.corp:3128");
  p = wif_config_provider_by_name(cfg, "azure-prod");
  assert_non_null(p);
  assert_string_equal(p->issuer, "https://login.microsoftonline.com/"
                                 "0b1f5c4e-0000-4000-8000-000000000001/v2.0");
  assert_string_equal(p->jwks_file, "/etc/security/pam_wif.d/azure-prod.jwks");
  assert_string_equal(p->requires[0].claim, "tid");
  assert_string_equal(p->requires[0].pattern,
                      "0b1f5c4e-0000-4000-8000-000000000001");
  assert_int_equal(p->max_token_age, 86400);
  wif_config_free(cfg);
  free(text);
}

/* wif_config_load: the file rules of file.c (I1) apply, and the loader's
 * path names the messages. */
static char tmpdir[PATH_MAX];

static int setup_dir(void **state) {
  (void)state;
  wif_test_scratch_dir(tmpdir, sizeof(tmpdir), "wif-test-config");
  return 0;
}

static int teardown_dir(void **state) {
  (void)state;
  return wif_test_remove_tree(tmpdir);
}

static char *write_conf(const char *name, const char *data, size_t len,
                        mode_t mode) {
  char *p = wif_test_path(tmpdir, name);

  wif_test_write(p, data, len, mode);
  return p;
}

static void test_load(void **state) {
  struct wif_config *cfg = NULL;
  struct wif_error err;
  char *p = write_conf("ok.conf", provider_p1, strlen(provider_p1), 0644);
  char want[PATH_MAX + 128];

  (void)state;
  assert_int_equal(wif_config_load(p, getuid(), &cfg, &err), WIF_OK);
  assert_non_null(cfg);
  assert_string_equal(cfg->path, p);
  assert_string_equal(cfg->providers[0].name, "p1");
  wif_config_free(cfg);
  cfg = NULL;

  /* I1: group-writable. */
  assert_int_equal(chmod(p, 0664), 0);
  assert_int_equal(wif_config_load(p, getuid(), &cfg, &err),
                   WIF_E_CONFIG_INSECURE);
  assert_null(cfg);
  snprintf(want, sizeof(want), "%s: group or others can write it (mode 0664)",
           p);
  assert_string_equal(err.msg, want);
  free(p);

  /* Syntax errors name the full path. */
  p = write_conf("bad.conf", "[global]\nfoo = 1\n", 17, 0600);
  assert_int_equal(wif_config_load(p, getuid(), &cfg, &err),
                   WIF_E_CONFIG_INVALID);
  snprintf(want, sizeof(want), "%s:2: unknown key \"foo\" in [global]", p);
  assert_string_equal(err.msg, want);
  free(p);

  /* I1: size 0 is refused (no provider). */
  p = write_conf("empty.conf", "", 0, 0600);
  assert_int_equal(wif_config_load(p, getuid(), &cfg, &err),
                   WIF_E_CONFIG_INVALID);
  snprintf(want, sizeof(want), "%s: no [provider] section", p);
  assert_string_equal(err.msg, want);
  free(p);

  /* I1/I11: over WIF_CONFIG_SIZE_MAX is a configuration error. */
  {
    size_t n = WIF_CONFIG_SIZE_MAX + 1;
    char *big = malloc(n);
    assert_non_null(big);
    memset(big, '\n', n);
    p = write_conf("big.conf", big, n, 0600);
    free(big);
  }
  assert_int_equal(wif_config_load(p, getuid(), &cfg, &err),
                   WIF_E_CONFIG_INVALID);
  assert_int_equal(err.rc, WIF_E_CONFIG_INVALID);
  snprintf(want, sizeof(want), "%s: larger than 262144 bytes", p);
  assert_string_equal(err.msg, want);
  free(p);

  /* I1: a symlink to a good file. */
  p = wif_test_path(tmpdir, "ok.conf");
  assert_int_equal(chmod(p, 0600), 0);
  {
    char *l = wif_test_path(tmpdir, "link.conf");
    assert_int_equal(symlink(p, l), 0);
    assert_int_equal(wif_config_load(l, getuid(), &cfg, &err),
                     WIF_E_CONFIG_INSECURE);
    snprintf(want, sizeof(want), "%s: the file is a symbolic link", l);
    assert_string_equal(err.msg, want);
    free(l);
  }
  free(p);

  p = wif_test_path(tmpdir, "missing.conf");
  assert_int_equal(wif_config_load(p, getuid(), &cfg, &err), WIF_E_SYSTEM);
  assert_null(cfg);
  free(p);
}

/* Drop-in files: DIR/pam_wif.d/NAME.conf after the main file. */
#define DROPIN_DATA WIF_TEST_DATA_DIR "/dropin"

static const char dropin_main[] = "[global]\n"
                                  "http_timeout = 5\n"
                                  "\n"
                                  "[provider main]\n"
                                  "issuer = https://issuer.example/main\n"
                                  "audience = api://host\n";

static char *dropin_path(const char *name) {
  char sub[PATH_MAX];

  snprintf(sub, sizeof(sub), "pam_wif.d/%s", name);
  return wif_test_path(tmpdir, sub);
}

static void write_dropin(const char *name, const char *text, mode_t mode) {
  char *p = dropin_path(name);
  int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

  assert_true(fd >= 0);
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  assert_int_equal(fchmod(fd, mode), 0);
  assert_int_equal(close(fd), 0);
  free(p);
}

static void copy_dropin(const char *kind, const char *name, const char *as) {
  char src[PATH_MAX];
  size_t len;
  char *text;

  snprintf(src, sizeof(src), "%s/%s/%s", DROPIN_DATA, kind, name);
  text = wif_test_read(src, &len);
  write_dropin(as, text, 0644);
  free(text);
}

static void remove_dropin(const char *name) {
  char *p = dropin_path(name);

  assert_int_equal(unlink(p), 0);
  free(p);
}

static char *dropin_setup(void) {
  char *d = wif_test_path(tmpdir, "pam_wif.d");

  assert_int_equal(mkdir(d, 0755), 0);
  free(d);
  return write_conf("main.conf", dropin_main, strlen(dropin_main), 0644);
}

static void test_dropin_valid(void **state) {
  char *main_conf = dropin_setup();
  struct wif_config *cfg = NULL;
  struct wif_error err;
  char *p10 = dropin_path("10-github.conf");
  char *dir = wif_test_path(tmpdir, "pam_wif.d");

  (void)state;
  /* A missing directory is no error; an empty one neither. */
  assert_int_equal(rmdir(dir), 0);
  assert_int_equal(wif_config_load(main_conf, getuid(), &cfg, &err), WIF_OK);
  assert_int_equal(cfg->n_providers, 1);
  assert_string_equal(cfg->dropin_dir, dir);
  wif_config_free(cfg);
  assert_int_equal(mkdir(dir, 0755), 0);

  /* Lexical order, whatever the directory's order; dot files and other
   * suffixes are not read. */
  copy_dropin("valid", "20-global.conf", "20-global.conf");
  copy_dropin("valid", "10-github.conf", "10-github.conf");
  write_dropin(".10-github.conf.swp", "garbage", 0644);
  write_dropin("30-x.conf.dpkg-old", "garbage", 0644);
  write_dropin("README", "garbage", 0644);
  assert_int_equal(wif_config_load(main_conf, getuid(), &cfg, &err), WIF_OK);
  assert_int_equal(cfg->n_providers, 3);
  assert_string_equal(cfg->providers[0].name, "main");
  assert_null(cfg->providers[0].file);
  assert_string_equal(cfg->providers[1].name, "github");
  assert_string_equal(cfg->providers[1].file, p10);
  assert_int_equal(cfg->providers[1].line, 2);
  assert_string_equal(cfg->providers[2].name, "k8s");
  assert_int_equal(cfg->clock_skew, 30);
  assert_int_equal(cfg->n_files, 2);
  /* The default max_token_age follows clock_skew from a later file. */
  assert_int_equal(cfg->providers[0].max_token_age,
                   WIF_MAX_TOKEN_AGE_DEFAULT + 30);
  wif_config_free(cfg);
  cfg = NULL;

  /* The main file may hold only [global]: providers come from drop-ins. */
  {
    char *only =
        write_conf("global.conf", "[global]\nhttp_timeout = 9\n", 26, 0644);
    assert_int_equal(wif_config_load(only, getuid(), &cfg, &err), WIF_OK);
    assert_int_equal(cfg->n_providers, 2);
    assert_int_equal(cfg->http_timeout, 9);
    wif_config_free(cfg);
    free(only);
  }
  free(dir);
  free(p10);
  free(main_conf);
}

/* One invalid drop-in case, installed as 50-case.conf next to the main
 * file ctx. */
static void check_dropin_invalid(const char *path, const char *name,
                                 void *ctx) {
  const char *main_conf = ctx;
  struct wif_config *cfg = (struct wif_config *)1;
  struct wif_error err;
  char *as = dropin_path("50-case.conf");
  char *text = wif_test_read(path, NULL);
  char *want = wif_test_expected_error(text, name, as);

  write_dropin("50-case.conf", text, 0644);
  if (wif_config_load(main_conf, getuid(), &cfg, &err) != WIF_E_CONFIG_INVALID)
    fail_msg("%s: expected CONFIG_INVALID, got %s (%s)", name,
             wif_rc_name(err.rc), err.msg);
  assert_null(cfg);
  if (strcmp(err.msg, want) != 0)
    fail_msg("%s: got \"%s\", want \"%s\"", name, err.msg, want);
  remove_dropin("50-case.conf");
  free(want);
  free(text);
  free(as);
}

/* Each invalid/NAME.conf as a drop-in: the message names the drop-in file
 * and its line ("DROPIN" in the expectation). */
static void test_dropin_invalid(void **state) {
  char *main_conf = dropin_setup();

  (void)state;
  assert_true(wif_test_for_each_file(DROPIN_DATA "/invalid", ".conf",
                                     check_dropin_invalid, main_conf) >= 5);
  free(main_conf);
}

/* The trusted-file rules hold for the directory and each drop-in; the
 * count and the size are capped. */
static void test_dropin_limits(void **state) {
  char *main_conf = dropin_setup();
  char *dir = wif_test_path(tmpdir, "pam_wif.d");
  char *p = dropin_path("10-github.conf");
  struct wif_config *cfg = NULL;
  struct wif_error err;
  char want[PATH_MAX + 256];

  (void)state;
  copy_dropin("valid", "10-github.conf", "10-github.conf");
  assert_int_equal(chmod(p, 0664), 0);
  assert_int_equal(wif_config_load(main_conf, getuid(), &cfg, &err),
                   WIF_E_CONFIG_INSECURE);
  snprintf(want, sizeof(want), "%s: group or others can write it (mode 0664)",
           p);
  assert_string_equal(err.msg, want);
  assert_int_equal(chmod(p, 0644), 0);

  assert_int_equal(chmod(dir, 0777), 0);
  assert_int_equal(wif_config_load(main_conf, getuid(), &cfg, &err),
                   WIF_E_CONFIG_INSECURE);
  snprintf(want, sizeof(want), "%s: group or others can write it (mode 0777)",
           dir);
  assert_string_equal(err.msg, want);
  assert_int_equal(chmod(dir, 0755), 0);

  /* A symbolic link in the directory is refused, not followed. */
  {
    char *l = dropin_path("20-link.conf");
    assert_int_equal(symlink(p, l), 0);
    assert_int_equal(wif_config_load(main_conf, getuid(), &cfg, &err),
                     WIF_E_CONFIG_INSECURE);
    snprintf(want, sizeof(want), "%s: the file is a symbolic link", l);
    assert_string_equal(err.msg, want);
    assert_int_equal(unlink(l), 0);
    free(l);
  }

  /* More than WIF_DROPIN_FILES_MAX files. */
  for (int i = 0; i < WIF_DROPIN_FILES_MAX; i++) {
    char name[32];
    snprintf(name, sizeof(name), "%02d-empty.conf", i + 20);
    write_dropin(name, "# nothing\n", 0644);
  }
  assert_int_equal(wif_config_load(main_conf, getuid(), &cfg, &err),
                   WIF_E_CONFIG_INVALID);
  snprintf(want, sizeof(want), "%s: more than 64 *.conf files", dir);
  assert_string_equal(err.msg, want);
  for (int i = 0; i < WIF_DROPIN_FILES_MAX; i++) {
    char name[32];
    snprintf(name, sizeof(name), "%02d-empty.conf", i + 20);
    remove_dropin(name);
  }

  /* All files together stay within WIF_CONFIG_SIZE_MAX. */
  {
    size_t n = WIF_CONFIG_SIZE_MAX - strlen(dropin_main);
    char *big = malloc(n + 1);
    char *bp = dropin_path("90-big.conf");

    assert_non_null(big);
    memset(big, '\n', n);
    big[n] = '\0';
    write_dropin("90-big.conf", big, 0644);
    assert_int_equal(wif_config_load(main_conf, getuid(), &cfg, &err),
                     WIF_E_CONFIG_INVALID);
    snprintf(want, sizeof(want),
             "%s: the configuration and its drop-in files together are "
             "larger than 262144 bytes",
             bp);
    assert_string_equal(err.msg, want);
    remove_dropin("90-big.conf");
    free(bp);
    free(big);
  }
  assert_int_equal(wif_config_load(main_conf, getuid(), &cfg, &err), WIF_OK);
  wif_config_free(cfg);
  free(p);
  free(dir);
  free(main_conf);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_global_defaults),
      cmocka_unit_test(test_provider_defaults),
      cmocka_unit_test(test_every_key_values),
      cmocka_unit_test(test_scope_of_keys),
      cmocka_unit_test(test_lists_append),
      cmocka_unit_test(test_number_bounds),
      cmocka_unit_test(test_limits),
      cmocka_unit_test(test_long_value_quoted),
      cmocka_unit_test(test_nul_byte),
      cmocka_unit_test(test_empty_text),
      cmocka_unit_test(test_b1_alg_none_never),
      cmocka_unit_test(test_lookup),
      cmocka_unit_test(test_api_build),
      cmocka_unit_test(test_data_valid),
      cmocka_unit_test(test_data_invalid),
      cmocka_unit_test(test_locales),
      cmocka_unit_test(test_design_example),
      cmocka_unit_test_setup_teardown(test_load, setup_dir, teardown_dir),
      cmocka_unit_test_setup_teardown(test_dropin_valid, setup_dir,
                                      teardown_dir),
      cmocka_unit_test_setup_teardown(test_dropin_invalid, setup_dir,
                                      teardown_dir),
      cmocka_unit_test_setup_teardown(test_dropin_limits, setup_dir,
                                      teardown_dir),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
