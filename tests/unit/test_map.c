/* SPDX-License-Identifier: Apache-2.0 */
/* pam_wif.map: parsing (data-driven valid/invalid folders), account names,
 * matching (G2, G5, E14, E15), and loading with the file rules (I1). */
#include "testutil.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "map.h"

#define MAP_DATA WIF_TEST_DATA_DIR "/map"

static const char test_conf[] =
    "[provider azure-prod]\n"
    "issuer = https://login.example/t1/v2.0\n"
    "audience = api://host\n"
    "[provider azure-groups]\n"
    "issuer = https://login.example/t2/v2.0\n"
    "audience = api://host\n"
    "authorization = group\n"
    "[provider gcp-prod]\n"
    "issuer = https://accounts.google.com\n"
    "audience = api://host\n"
    "[provider github]\n"
    "issuer = https://token.actions.githubusercontent.com\n"
    "audience = api://host\n"
    "authorization = user claim\n";

static struct wif_config *config(void) {
  struct wif_config *cfg = NULL;
  struct wif_error err;

  if (wif_config_parse(test_conf, strlen(test_conf), "test.conf", &cfg, &err) !=
      WIF_OK)
    fail_msg("test config: %s", err.msg);
  return cfg;
}

static struct wif_map *parse_ok(const struct wif_config *cfg,
                                const char *text) {
  struct wif_map *map = NULL;
  struct wif_error err;

  if (wif_map_parse(text, strlen(text), "t.map", cfg, &map, &err) != WIF_OK)
    fail_msg("unexpected error: %s", err.msg);
  assert_non_null(map);
  return map;
}

/* Runs fn on each .map file of tests/data/map/KIND, with the test
 * config as ctx. */
static size_t for_each_map(const char *kind,
                           void (*fn)(const char *path, const char *name,
                                      void *ctx)) {
  struct wif_config *cfg = config();
  char dir[1024];
  size_t n;

  snprintf(dir, sizeof(dir), "%s/%s", MAP_DATA, kind);
  n = wif_test_for_each_file(dir, ".map", fn, cfg);
  wif_config_free(cfg);
  return n;
}

static void check_valid(const char *path, const char *name, void *ctx) {
  const struct wif_config *cfg = ctx;
  struct wif_map *map = NULL;
  struct wif_error err;
  size_t len;
  char *text = wif_test_read(path, &len);

  wif_error_clear(&err);
  if (wif_map_parse(text, len, name, cfg, &map, &err) != WIF_OK)
    fail_msg("%s: unexpected error: %s", name, err.msg);
  assert_non_null(map);
  for (size_t i = 0; i < map->n_rules; i++) {
    assert_true(map->rules[i].n_accounts > 0);
    assert_int_equal(strlen(map->rules[i].identifier),
                     map->rules[i].identifier_len);
  }
  wif_map_free(map);
  free(text);
}

static void check_invalid(const char *path, const char *name, void *ctx) {
  const struct wif_config *cfg = ctx;
  struct wif_map *map = (struct wif_map *)1;
  struct wif_error err;
  size_t len;
  char *text = wif_test_read(path, &len);
  char *want = wif_test_expected_error(text, name, NULL);
  wif_rc rc;

  wif_error_clear(&err);
  rc = wif_map_parse(text, len, name, cfg, &map, &err);
  if (rc != WIF_E_CONFIG_INVALID)
    fail_msg("%s: expected CONFIG_INVALID, got %s (%s)", name, wif_rc_name(rc),
             err.msg);
  assert_null(map);
  if (strcmp(err.msg, want) != 0)
    fail_msg("%s: got \"%s\", want \"%s\"", name, err.msg, want);
  free(want);
  free(text);
}

static void test_data_valid(void **state) {
  (void)state;
  assert_true(for_each_map("valid", check_valid) >= 9);
}

/* Unknown provider, bad or disagreeing type, empty account list, invalid
 * account names (G4 syntax), over-long line, binary garbage. */
static void test_data_invalid(void **state) {
  (void)state;
  assert_true(for_each_map("invalid", check_invalid) >= 26);
}

static void test_design_example(void **state) {
  struct wif_config *cfg = config();
  size_t len;
  char *text = wif_test_read(MAP_DATA "/valid/design-example.map", &len);
  struct wif_map *map = NULL;
  struct wif_error err;
  const struct wif_map_rule *r;

  (void)state;
  assert_int_equal(wif_map_parse(text, len, "m", cfg, &map, &err), WIF_OK);
  assert_int_equal(map->n_rules, 3);
  r = &map->rules[1];
  assert_string_equal(r->provider, "azure-groups");
  assert_int_equal(r->type, WIF_AUTHZ_GROUP);
  assert_string_equal(r->identifier, "5e0c2b7d-7a51-4c0e-8d8e-0d8c1f4b2a99");
  assert_int_equal(r->n_accounts, 2);
  assert_string_equal(r->accounts[0], "dbread");
  assert_string_equal(r->accounts[1], "dbwrite");
  assert_int_equal(r->line, 3);
  assert_string_equal(map->rules[2].identifier, "114071234567890123456");
  wif_map_free(map);
  wif_config_free(cfg);
  free(text);
}

/* G5: trailing CR and blanks are dropped by rule; `#` inside a field is
 * part of it; repeated accounts collapse. */
static void test_documented_trimming(void **state) {
  struct wif_config *cfg = config();
  struct wif_map *map;

  (void)state;
  map = parse_ok(cfg, "azure-prod user a#b x,y,x  \t \r\n");
  assert_int_equal(map->n_rules, 1);
  assert_string_equal(map->rules[0].identifier, "a#b");
  assert_int_equal(map->rules[0].n_accounts, 2);
  assert_string_equal(map->rules[0].accounts[1], "y");
  wif_map_free(map);
  map = parse_ok(cfg, "");
  assert_int_equal(map->n_rules, 0);
  wif_map_free(map);
  wif_config_free(cfg);
}

static void test_account_names(void **state) {
  static const char *const good[] = {
      "a",
      "_a",
      "dbadmin",
      "db-admin",
      "db.admin",
      "db_admin",
      "host01$",
      "a1",
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",  /* 32 */
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa$"}; /* 31 + $ */
  /* G4: paths, options, blanks, globs, upper case, non-ASCII, too long. */
  static const char *const bad[] = {
      "",
      "-abc",
      "1abc",
      "A",
      "Root",
      "root ",
      " root",
      "../../etc/shadow",
      "a/b",
      "a b",
      "a*",
      "*",
      "$",
      "a$b",
      "a$$",
      "ä",
      "a\n",
      ".a",
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",  /* 33 */
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa$"}; /* 32 + $ */

  (void)state;
  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
    if (!wif_map_account_valid(good[i]))
      fail_msg("\"%s\" should be valid", good[i]);
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    if (wif_map_account_valid(bad[i]))
      fail_msg("\"%s\" should be invalid", bad[i]);
  assert_false(wif_map_account_valid(NULL));
}

static struct wif_identity user(const char *sub) {
  struct wif_identity id;

  memset(&id, 0, sizeof(id));
  id.issuer = "https://login.example/t1/v2.0";
  id.subject = sub;
  id.subject_len = strlen(sub);
  return id;
}

static wif_rc match(const struct wif_map *map, const struct wif_config *cfg,
                    const char *provider, const struct wif_identity *id,
                    const char *account, const struct wif_map_rule **rule) {
  return wif_map_match(map, wif_config_provider_by_name(cfg, provider), id,
                       account, rule, NULL);
}

/* G2, G5, E14, E18: byte-exact identifiers, no globbing, per provider. */
static void test_match_user(void **state) {
  struct wif_config *cfg = config();
  struct wif_map *map =
      parse_ok(cfg, "azure-prod user alice dbadmin,dbread\n"
                    "azure-prod user * wildcard\n"
                    "gcp-prod user bob dbadmin\n"
                    "gcp-prod user repo:org/app:ref:refs/heads/main deploy\n");
  const struct wif_map_rule *r = NULL;
  struct wif_identity id = user("alice");
  static const char *const near[] = {"Alice", "alice ", " alice",
                                     "alic",  "alicee", "\xd0\xb0lice",
                                     "ALICE", "",       "alice\n"};

  (void)state;
  assert_int_equal(match(map, cfg, "azure-prod", &id, "dbadmin", &r), WIF_OK);
  assert_non_null(r);
  assert_int_equal(r->line, 1);
  assert_int_equal(match(map, cfg, "azure-prod", &id, "dbread", NULL), WIF_OK);
  /* G2: valid identity, not this account. */
  assert_int_equal(match(map, cfg, "azure-prod", &id, "deploy", &r),
                   WIF_E_NO_MAPPING);
  assert_null(r);
  /* Another provider's identical identifier grants nothing. */
  assert_int_equal(match(map, cfg, "gcp-prod", &id, "dbadmin", NULL),
                   WIF_E_NO_MAPPING);
  for (size_t i = 0; i < sizeof(near) / sizeof(near[0]); i++) {
    struct wif_identity n = user(near[i]);

    if (match(map, cfg, "azure-prod", &n, "dbadmin", NULL) != WIF_E_NO_MAPPING)
      fail_msg("\"%s\" must not match \"alice\"", near[i]);
  }
  /* G5: "*" is a literal identifier, never a pattern. */
  id = user("anyone");
  assert_int_equal(match(map, cfg, "azure-prod", &id, "wildcard", NULL),
                   WIF_E_NO_MAPPING);
  id = user("*");
  assert_int_equal(match(map, cfg, "azure-prod", &id, "wildcard", NULL),
                   WIF_OK);
  /* E18: GitHub subjects from another branch or event. */
  id = user("repo:org/app:ref:refs/heads/main");
  assert_int_equal(match(map, cfg, "gcp-prod", &id, "deploy", NULL), WIF_OK);
  id = user("repo:org/app:ref:refs/heads/main2");
  assert_int_equal(match(map, cfg, "gcp-prod", &id, "deploy", NULL),
                   WIF_E_NO_MAPPING);
  id = user("repo:org/app:pull_request");
  assert_int_equal(match(map, cfg, "gcp-prod", &id, "deploy", NULL),
                   WIF_E_NO_MAPPING);
  /* A subject with an embedded NUL cannot be shortened to match. */
  id = user("alice");
  id.subject = "alice\0x";
  id.subject_len = 7;
  assert_int_equal(match(map, cfg, "azure-prod", &id, "dbadmin", NULL),
                   WIF_E_NO_MAPPING);
  wif_map_free(map);
  wif_config_free(cfg);
}

/* E15: any one group grants; the subject never matches a group rule. */
static void test_match_group(void **state) {
  struct wif_config *cfg = config();
  struct wif_map *map = parse_ok(cfg, "azure-groups group g-admins dbadmin\n"
                                      "azure-groups group g-read dbread\n");
  const char *groups[] = {"x", "g-read,g-admins", "g-admins"};
  const char *other[] = {"G-ADMINS", "g-admin", "g-admins "};
  struct wif_identity id = user("g-admins");
  const struct wif_map_rule *r = NULL;

  (void)state;
  /* No groups claim: a group rule cannot match, even on the subject. */
  assert_int_equal(match(map, cfg, "azure-groups", &id, "dbadmin", NULL),
                   WIF_E_NO_MAPPING);
  id.groups = groups;
  id.n_groups = 3;
  assert_int_equal(match(map, cfg, "azure-groups", &id, "dbadmin", &r), WIF_OK);
  assert_int_equal(r->line, 1);
  /* A group name containing a comma is not split. */
  assert_int_equal(match(map, cfg, "azure-groups", &id, "dbread", NULL),
                   WIF_E_NO_MAPPING);
  id.groups = other;
  assert_int_equal(match(map, cfg, "azure-groups", &id, "dbadmin", NULL),
                   WIF_E_NO_MAPPING);
  id.n_groups = 0;
  assert_int_equal(match(map, cfg, "azure-groups", &id, "dbadmin", NULL),
                   WIF_E_NO_MAPPING);
  assert_int_equal(wif_map_match(NULL, NULL, NULL, NULL, &r, NULL),
                   WIF_E_INTERNAL);
  assert_null(r);
  wif_map_free(map);
  wif_config_free(cfg);
}

static void test_parse_bad_calls(void **state) {
  struct wif_config *cfg = config();
  struct wif_map *map = (struct wif_map *)1;
  struct wif_error err;

  (void)state;
  assert_int_equal(wif_map_parse("x", 1, "n", NULL, &map, &err),
                   WIF_E_INTERNAL);
  assert_null(map);
  assert_int_equal(wif_map_parse(NULL, 3, "n", cfg, &map, &err),
                   WIF_E_INTERNAL);
  assert_int_equal(wif_map_parse("x", 1, "n", cfg, NULL, &err), WIF_E_INTERNAL);
  wif_map_free(NULL);
  wif_config_free(cfg);
}

/* A private directory under the build tree (the trusted-file rules walk
 * every parent, which rules out /tmp). */
static char *make_dir(void) {
  return wif_test_build_dir("map", 0700);
}

/* I1: the same ownership and mode rules as the config; a missing map is a
 * configuration error, not a system error. */
static void test_load(void **state) {
  struct wif_config *cfg = config();
  char *dir = make_dir();
  char *path = wif_test_path(dir, "pam_wif.map");
  struct wif_map *map = NULL;
  struct wif_error err;

  (void)state;
  assert_int_equal(wif_map_load(path, getuid(), cfg, &map, &err),
                   WIF_E_CONFIG_INVALID);
  assert_null(map);
  assert_non_null(strstr(err.msg, path));
  wif_test_write_text(path, "azure-prod user a dbadmin\n", 0644);
  assert_int_equal(wif_map_load(path, getuid(), cfg, &map, &err), WIF_OK);
  assert_int_equal(map->n_rules, 1);
  assert_string_equal(map->name, path);
  wif_map_free(map);
  map = NULL;
  assert_int_equal(chmod(path, 0666), 0);
  assert_int_equal(wif_map_load(path, getuid(), cfg, &map, &err),
                   WIF_E_CONFIG_INSECURE);
  assert_null(map);
  assert_int_equal(chmod(path, 0620), 0);
  assert_int_equal(wif_map_load(path, getuid(), cfg, &map, &err),
                   WIF_E_CONFIG_INSECURE);
  /* Errors name the full path and the line. */
  wif_test_write_text(path, "\nazure-prd user a dbadmin\n", 0644);
  assert_int_equal(wif_map_load(path, getuid(), cfg, &map, &err),
                   WIF_E_CONFIG_INVALID);
  {
    char want[1200];

    snprintf(want, sizeof(want), "%s:2: unknown provider \"azure-prd\"", path);
    assert_string_equal(err.msg, want);
  }
  if (getuid() == 0) {
    /* Owned by someone other than root or the expected owner. */
    assert_int_equal(chown(path, 65534, 65534), 0);
    assert_int_equal(wif_map_load(path, 0, cfg, &map, &err),
                     WIF_E_CONFIG_INSECURE);
  }
  unlink(path);
  rmdir(dir);
  free(path);
  free(dir);
  wif_config_free(cfg);
}

/* Drop-in maps: the *.map files of the config's pam_wif.d, after the main
 * map, with the same rules; messages name the drop-in file:line. */
#define DROPIN_DATA WIF_TEST_DATA_DIR "/dropin"

static void copy_file(const char *src, const char *dst) {
  size_t len;
  char *text = wif_test_read(src, &len);

  wif_test_write_text(dst, text, 0644);
  free(text);
}

/* What one invalid drop-in case is checked against. */
struct dropin_case {
  const char *map_path; /* the main map */
  const char *as;       /* where the case is installed */
  const struct wif_config *cfg;
};

static void check_dropin_invalid(const char *path, const char *name,
                                 void *ctx) {
  const struct dropin_case *c = ctx;
  struct wif_map *map = NULL;
  struct wif_error err;
  char *text = wif_test_read(path, NULL);
  char *want = wif_test_expected_error(text, name, c->as);

  wif_test_write_text(c->as, text, 0644);
  if (wif_map_load(c->map_path, getuid(), c->cfg, &map, &err) !=
      WIF_E_CONFIG_INVALID)
    fail_msg("%s: expected CONFIG_INVALID, got %s (%s)", name,
             wif_rc_name(err.rc), err.msg);
  assert_null(map);
  if (strcmp(err.msg, want) != 0)
    fail_msg("%s: got \"%s\", want \"%s\"", name, err.msg, want);
  assert_int_equal(unlink(c->as), 0);
  free(want);
  free(text);
}

static void test_dropin(void **state) {
  char *dir = make_dir();
  char *d = wif_test_path(dir, "pam_wif.d");
  char *conf = wif_test_path(dir, "pam_wif.conf");
  char *path = wif_test_path(dir, "pam_wif.map");
  char *m50 = wif_test_path(d, "50-github.map");
  char *as = wif_test_path(d, "55-case.map");
  struct wif_config *cfg = NULL;
  struct wif_map *map = NULL;
  struct wif_error err;
  struct dropin_case invalid;
  static const char *const data[] = {"10-github.conf", "20-global.conf",
                                     "50-github.map", "60-k8s.map"};

  (void)state;
  assert_int_equal(mkdir(d, 0755), 0);
  wif_test_write_text(conf,
                      "[provider main]\nissuer = https://issuer.example/main\n"
                      "audience = api://host\n",
                      0644);
  wif_test_write_text(path, "main user a dbadmin\n", 0644);
  for (size_t i = 0; i < 4; i++) {
    char src[PATH_MAX];
    char *dst = wif_test_path(d, data[i]);

    snprintf(src, sizeof(src), "%s/valid/%s", DROPIN_DATA, data[i]);
    copy_file(src, dst);
    free(dst);
  }
  assert_int_equal(wif_config_load(conf, getuid(), &cfg, &err), WIF_OK);
  assert_int_equal(wif_map_load(path, getuid(), cfg, &map, &err), WIF_OK);
  assert_int_equal(map->n_rules, 3);
  assert_null(map->rules[0].file);
  assert_string_equal(map->rules[1].provider, "github");
  assert_string_equal(map->rules[1].file, m50);
  assert_int_equal(map->rules[1].line, 1);
  assert_string_equal(map->rules[2].provider, "k8s");
  {
    char where[PATH_MAX + 16];
    char want[PATH_MAX + 16];

    snprintf(want, sizeof(want), "%s:1", m50);
    assert_string_equal(
        wif_map_rule_where(map, &map->rules[1], where, sizeof(where)), want);
    snprintf(want, sizeof(want), "%s:1", path);
    assert_string_equal(
        wif_map_rule_where(map, &map->rules[0], where, sizeof(where)), want);
  }
  wif_map_free(map);
  map = NULL;

  /* A map parsed from memory has no drop-ins, whatever the config. */
  assert_int_equal(wif_map_parse("main user a b\n", 14, "m", cfg, &map, &err),
                   WIF_OK);
  assert_int_equal(map->n_rules, 1);
  wif_map_free(map);
  map = NULL;

  /* Each invalid/NAME.map as a drop-in. */
  invalid.map_path = path;
  invalid.as = as;
  invalid.cfg = cfg;
  assert_true(wif_test_for_each_file(DROPIN_DATA "/invalid", ".map",
                                     check_dropin_invalid, &invalid) >= 3);

  /* Same file rules as the main map. */
  assert_int_equal(chmod(m50, 0666), 0);
  assert_int_equal(wif_map_load(path, getuid(), cfg, &map, &err),
                   WIF_E_CONFIG_INSECURE);
  assert_non_null(strstr(err.msg, m50));
  assert_int_equal(chmod(m50, 0644), 0);
  assert_int_equal(chmod(d, 0775), 0);
  assert_int_equal(wif_map_load(path, getuid(), cfg, &map, &err),
                   WIF_E_CONFIG_INSECURE);
  assert_int_equal(chmod(d, 0755), 0);

  /* All maps together stay within WIF_MAP_SIZE_MAX. */
  {
    size_t big_len = WIF_MAP_SIZE_MAX;
    char *big = malloc(big_len + 1);

    assert_non_null(big);
    memset(big, '\n', big_len);
    big[big_len] = '\0';
    wif_test_write_text(as, big, 0644);
    free(big);
    assert_int_equal(wif_map_load(path, getuid(), cfg, &map, &err),
                     WIF_E_CONFIG_INVALID);
    assert_non_null(strstr(err.msg, "together are larger than 1048576"));
    assert_int_equal(unlink(as), 0);
  }
  assert_int_equal(wif_map_load(path, getuid(), cfg, &map, &err), WIF_OK);
  wif_map_free(map);
  wif_config_free(cfg);
  assert_int_equal(wif_test_remove_tree(dir), 0);
  free(as);
  free(m50);
  free(path);
  free(conf);
  free(d);
  free(dir);
}

/* The annotated samples in conf/ parse, and agree with each other. */
/*
 * Tokens shaped like the providers' documented ones (claims only: the
 * signature is validate.c's business), each usual policy expressed in
 * pam_wif.conf and pam_wif.map, and the attacks an admin worries about.
 */
static const char shapes_conf[] =
    "[provider github]\n"
    "issuer = https://token.actions.githubusercontent.com\n"
    "audience = https://hosts.example.com\n"
    "authorization = claim\n"
    "require = repository_owner_id = 9919\n"
    "require = repository_id = 892451357\n"
    "require = ref = refs/heads/main\n"
    "[provider entra]\n"
    "issuer = https://login.microsoftonline.com/"
    "72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0\n"
    "audience = api://pam-wif\n"
    "authorization = user claim\n"
    "user_claim = oid\n"
    "require = tid = 72f988bf-86f1-41af-91ab-2d7cd011db47\n"
    "[provider google]\n"
    "issuer = https://accounts.google.com\n"
    "audience = https://hosts.example.com\n"
    "authorization = claim\n"
    "require = email_verified = true\n"
    "require = /google/compute_engine/project_number = 314159265358\n"
    "[provider okta]\n"
    "issuer = https://example.okta.com/oauth2/default\n"
    "audience = api://pam-wif\n"
    "authorization = claim\n";

static const char shapes_map[] =
    "github claim:job_workflow_ref "
    "octo-org/ops/.github/workflows/deploy.yml@refs/heads/main deploy\n"
    "entra user 5f0e8b1c-2a3d-4e5f-8a9b-0c1d2e3f4a5b dbadmin\n"
    "entra claim:roles DB.Read dbread\n"
    "google claim:/google/compute_engine/instance_name db-1 dbread\n"
    "okta claim:scope admin:db dbadmin\n";

#define GH_CLAIMS(owner_id, repo_id, ref, wf)                                  \
  "{\"iss\":\"https://token.actions.githubusercontent.com\","                  \
  "\"aud\":\"https://hosts.example.com\",\"sub\":\"repo:octo-org/ops:ref:"     \
  "refs/heads/main\",\"repository\":\"octo-org/ops\",\"repository_owner\":"    \
  "\"octo-org\",\"repository_owner_id\":\"" owner_id "\",\"repository_id\":"   \
  "\"" repo_id "\",\"ref\":\"" ref "\",\"job_workflow_ref\":\"" wf "\","       \
  "\"runner_environment\":\"github-hosted\",\"exp\":1767226500,"               \
  "\"iat\":1767225600,\"nbf\":1767225540}"
#define GH_WF "octo-org/ops/.github/workflows/deploy.yml@refs/heads/main"

#define ENTRA_CLAIMS(tid, oid, roles)                                          \
  "{\"aud\":\"api://pam-wif\",\"iss\":\"https://login.microsoftonline.com/"    \
  "72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0\",\"iat\":1767225300,"            \
  "\"nbf\":1767225300,\"exp\":1767311700,\"azp\":\"0f5a6b7c-8d9e-4f0a-9b1c-"   \
  "2d3e4f5a6b7c\",\"azpacr\":\"2\",\"idtyp\":\"app\",\"oid\":\"" oid "\","     \
  "\"roles\":" roles ",\"sub\":\"" oid "\",\"tid\":\"" tid                     \
  "\",\"ver\":\"2.0\"}"
#define TENANT "72f988bf-86f1-41af-91ab-2d7cd011db47"
#define OID "5f0e8b1c-2a3d-4e5f-8a9b-0c1d2e3f4a5b"

#define GOOGLE_CLAIMS(verified, project, instance)                             \
  "{\"aud\":\"https://hosts.example.com\",\"azp\":\"1122334455\","             \
  "\"email\":\"db@proj.iam.gserviceaccount.com\",\"email_verified\":" verified \
  ",\"exp\":1767229200,\"iat\":1767225600,\"iss\":"                            \
  "\"https://accounts.google.com\",\"sub\":\"1122334455\",\"google\":"         \
  "{\"compute_engine\":{\"instance_id\":\"4455\",\"instance_name\":"           \
  "\"" instance "\",\"project_id\":\"proj\",\"project_number\":" project       \
  ",\"zone\":\"europe-west1-b\"}}}"

#define OKTA_CLAIMS(scope)                                                     \
  "{\"ver\":1,\"jti\":\"AT.x\",\"iss\":\"https://example.okta.com/oauth2/"     \
  "default\",\"aud\":\"api://pam-wif\",\"iat\":1767225600,"                    \
  "\"exp\":1767229200,\"cid\":\"0oa1\",\"sub\":\"0oa1\",\"scope\":\"" scope    \
  "\"}"

/* The decision for claims JSON and account: claims check, then map. */
static wif_rc decide(const struct wif_config *cfg, const struct wif_map *map,
                     const char *json, const char *account) {
  struct wif_json_doc *doc = NULL;
  struct wif_identity id;
  struct wif_error err;
  const struct wif_json *iss;
  const struct wif_provider *p;
  const char *s;
  size_t len;
  wif_rc rc;

  if (wif_json_parse(json, strlen(json), 16, &doc, &err) != WIF_OK)
    fail_msg("fixture: %s", err.msg);
  iss = wif_json_get(doc, wif_json_root(doc), "iss");
  assert_true(wif_json_string(iss, &s, &len));
  p = wif_config_provider_by_issuer(cfg, s, len);
  assert_non_null(p);
  rc = wif_claims_check(doc, p, cfg->clock_skew, WIF_TEST_NOW, &id, &err);
  if (rc == WIF_OK)
    rc = wif_map_match(map, p, &id, account, NULL, &err);
  wif_identity_clear(&id);
  wif_json_free(doc);
  return rc;
}

static void test_provider_shapes(void **state) {
  struct wif_config *cfg = NULL;
  struct wif_map *map = NULL;
  struct wif_error err;

  (void)state;
  if (wif_config_parse(shapes_conf, strlen(shapes_conf), "s.conf", &cfg,
                       &err) != WIF_OK)
    fail_msg("%s", err.msg);
  if (wif_map_parse(shapes_map, strlen(shapes_map), "s.map", cfg, &map, &err) !=
      WIF_OK)
    fail_msg("%s", err.msg);
  /* GitHub Actions: org and repo by id, branch, workflow file. */
  assert_int_equal(
      decide(cfg, map, GH_CLAIMS("9919", "892451357", "refs/heads/main", GH_WF),
             "deploy"),
      WIF_OK);
  /* Another org (a re-registered name keeps its new id), another repo,
   * another branch, another workflow. */
  assert_int_equal(
      decide(cfg, map, GH_CLAIMS("1234", "892451357", "refs/heads/main", GH_WF),
             "deploy"),
      WIF_E_CLAIM_MISMATCH);
  assert_int_equal(decide(cfg, map,
                          GH_CLAIMS("9919", "1", "refs/heads/main", GH_WF),
                          "deploy"),
                   WIF_E_CLAIM_MISMATCH);
  assert_int_equal(
      decide(cfg, map, GH_CLAIMS("9919", "892451357", "refs/heads/dev", GH_WF),
             "deploy"),
      WIF_E_CLAIM_MISMATCH);
  assert_int_equal(
      decide(
          cfg, map,
          GH_CLAIMS("9919", "892451357", "refs/heads/main",
                    "octo-org/ops/.github/workflows/evil.yml@refs/heads/main"),
          "deploy"),
      WIF_E_NO_MAPPING);
  /* Entra v2: a service principal by oid, an app role by roles. */
  assert_int_equal(
      decide(cfg, map, ENTRA_CLAIMS(TENANT, OID, "[\"DB.Write\"]"), "dbadmin"),
      WIF_OK);
  assert_int_equal(decide(cfg, map,
                          ENTRA_CLAIMS(TENANT,
                                       "0a0a0a0a-0000-0000-0000-"
                                       "000000000000",
                                       "[\"DB.Read\"]"),
                          "dbread"),
                   WIF_OK);
  assert_int_equal(decide(cfg, map,
                          ENTRA_CLAIMS(TENANT,
                                       "0a0a0a0a-0000-0000-0000-"
                                       "000000000000",
                                       "[\"DB.Read\"]"),
                          "dbadmin"),
                   WIF_E_NO_MAPPING);
  /* Another tenant: the same issuer cannot be forged, but tid is bound. */
  assert_int_equal(
      decide(cfg, map,
             ENTRA_CLAIMS("00000000-1111-2222-3333-444444444444", OID, "[]"),
             "dbadmin"),
      WIF_E_CLAIM_MISMATCH);
  /* Google: a boolean and a number bound, an instance granted. */
  assert_int_equal(
      decide(cfg, map, GOOGLE_CLAIMS("true", "314159265358", "db-1"), "dbread"),
      WIF_OK);
  assert_int_equal(decide(cfg, map,
                          GOOGLE_CLAIMS("false", "314159265358", "db-1"),
                          "dbread"),
                   WIF_E_CLAIM_MISMATCH);
  assert_int_equal(
      decide(cfg, map, GOOGLE_CLAIMS("true", "271828", "db-1"), "dbread"),
      WIF_E_CLAIM_MISMATCH);
  assert_int_equal(
      decide(cfg, map, GOOGLE_CLAIMS("true", "314159265358", "db-2"), "dbread"),
      WIF_E_NO_MAPPING);
  /* Okta scope: one of the words, not a longer one that starts alike. */
  assert_int_equal(decide(cfg, map, OKTA_CLAIMS("openid admin:db"), "dbadmin"),
                   WIF_OK);
  assert_int_equal(
      decide(cfg, map, OKTA_CLAIMS("openid admin:db-readonly"), "dbadmin"),
      WIF_E_NO_MAPPING);
  wif_map_free(map);
  wif_config_free(cfg);
}

static void test_samples(void **state) {
  size_t clen, mlen;
  char *ctext =
      wif_test_read(WIF_TEST_DATA_DIR "/../../conf/pam_wif.conf", &clen);
  char *mtext =
      wif_test_read(WIF_TEST_DATA_DIR "/../../conf/pam_wif.map", &mlen);
  struct wif_config *cfg = NULL;
  struct wif_map *map = NULL;
  struct wif_error err;

  (void)state;
  if (wif_config_parse(ctext, clen, "pam_wif.conf", &cfg, &err) != WIF_OK)
    fail_msg("%s", err.msg);
  if (wif_map_parse(mtext, mlen, "pam_wif.map", cfg, &map, &err) != WIF_OK)
    fail_msg("%s", err.msg);
  assert_int_equal(map->n_rules, 6);
  assert_int_equal(map->rules[2].n_accounts, 2);
  assert_int_equal(map->rules[5].type, WIF_AUTHZ_CLAIM);
  assert_string_equal(map->rules[5].claim, "job_workflow_ref");
  wif_map_free(map);
  wif_config_free(cfg);
  free(ctext);
  free(mtext);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_data_valid),
      cmocka_unit_test(test_data_invalid),
      cmocka_unit_test(test_design_example),
      cmocka_unit_test(test_documented_trimming),
      cmocka_unit_test(test_account_names),
      cmocka_unit_test(test_match_user),
      cmocka_unit_test(test_match_group),
      cmocka_unit_test(test_parse_bad_calls),
      cmocka_unit_test(test_load),
      cmocka_unit_test(test_dropin),
      cmocka_unit_test(test_samples),
      cmocka_unit_test(test_provider_shapes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
