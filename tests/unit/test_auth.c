/* SPDX-License-Identifier: Apache-2.0 */
/* The decision end to end with real files, keys and signatures: G1-G7,
 * H3-H6 at core level, C11 and M4/M5 for the decision's log line. */
#include "testutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "auth.h"

#define ISS_U "https://issuer.example/users"
#define ISS_G "https://issuer.example/groups"
#define ISS_C "https://issuer.example/claims"
#define AUD "api://pam-wif"
#define LINES_MAX 16

/* Accounts of every Debian system: nobody (65534) and daemon (1) are
 * ordinary; root is uid 0. */
#define MAP_TEXT                                                               \
  "users  user  alice  nobody\n"                                               \
  "users  user  rooty  root\n"                                                 \
  "users  user  ghost  wif-no-such-user\n"                                     \
  "users  user  a\\b   nobody\n"                                               \
  "groups group g-admins daemon,nobody\n"                                      \
  "claims claim:roles DB.Read nobody\n"                                        \
  "claims claim:https://x.example/roles DB.Admin daemon\n"                     \
  "claims claim:/gcp/project_number 314159265358 daemon\n"

struct capture {
  char *lines[LINES_MAX];
  int priority[LINES_MAX];
  size_t n;
};

struct fixture {
  char *bind; /* the binding key's directory */
  char *bind_key;
  char *dir;
  char *conf;
  char *map;
  char *jwks;
  struct capture cap;
  struct wif_log log;
  struct wif_auth_params params;
  struct wif_verdict v;
};

static void capture_fn(void *ctx, int priority, const char *msg) {
  struct capture *c = ctx;

  if (priority == LOG_DEBUG)
    return;
  assert_true(c->n < LINES_MAX);
  c->priority[c->n] = priority;
  assert_non_null(c->lines[c->n++] = strdup(msg));
}

static void capture_reset(struct capture *c) {
  for (size_t i = 0; i < c->n; i++)
    free(c->lines[i]);
  memset(c, 0, sizeof(*c));
}

static void write_conf(struct fixture *f, const char *extra) {
  char text[4096];

  snprintf(text, sizeof(text),
           "[global]\n"
           "map_file = %s\n"
           "log_claims = iss sub jti nonce\n"
           "%s"
           "[provider users]\n"
           "issuer = " ISS_U "\n"
           "audience = " AUD "\n"
           "algorithms = RS256 ES256\n"
           "jwks_file = %s\n"
           "[provider groups]\n"
           "issuer = " ISS_G "\n"
           "audience = " AUD "\n"
           "authorization = group\n"
           "jwks_file = %s\n"
           "[provider claims]\n"
           "issuer = " ISS_C "\n"
           "audience = " AUD "\n"
           "authorization = user claim\n"
           "jwks_file = %s\n",
           f->map, extra, f->jwks, f->jwks, f->jwks);
  wif_test_write_text(f->conf, text, 0644);
}

static int setup(void **state) {
  struct fixture *f = calloc(1, sizeof(*f));
  size_t len;
  char *jwks;

  assert_non_null(f);
  f->dir = wif_test_build_dir("auth", 0755);
  f->conf = wif_test_path(f->dir, "pam_wif.conf");
  f->map = wif_test_path(f->dir, "pam_wif.map");
  f->jwks = wif_test_path(f->dir, "jwks.json");
  jwks = wif_test_read(WIF_TEST_KEYS_DIR "/jwks.json", &len);
  wif_test_write_text(f->jwks, jwks, 0644);
  free(jwks);
  write_conf(f, "");
  wif_test_write_text(f->map, MAP_TEXT, 0644);
  f->log.fn = capture_fn;
  f->log.ctx = &f->cap;
  f->params.config_path = f->conf;
  f->params.owner = getuid();
  f->params.log = &f->log;
  f->params.log_decision = true;
  f->params.service = "auth";
  f->params.now = WIF_TEST_NOW;
  f->bind = wif_test_path(f->dir, "bind");
  f->bind_key = wif_test_path(f->bind, WIF_HANDOVER_KEY_FILE);
  f->params.binding_dir = f->bind;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fixture *f = *state;

  wif_verdict_clear(&f->v);
  capture_reset(&f->cap);
  unlink(f->conf);
  unlink(f->map);
  unlink(f->jwks);
  unlink(f->bind_key);
  rmdir(f->bind);
  rmdir(f->dir);
  free(f->bind);
  free(f->bind_key);
  free(f->conf);
  free(f->map);
  free(f->jwks);
  free(f->dir);
  free(f);
  return 0;
}

static char *token_for(const char *iss, const char *sub, const char *extra) {
  return wif_test_signf("rs256", "RS256",
                        "{\"iss\":\"%s\",\"aud\":\"" AUD "\",\"sub\":\"%s\","
                        "\"exp\":%lld,\"iat\":%lld,\"jti\":\"j-1\"%s}",
                        iss, sub, (long long)WIF_TEST_NOW + 600,
                        (long long)WIF_TEST_NOW - 10, extra);
}

static wif_rc decide(struct fixture *f, const char *account,
                     const char *token) {
  wif_verdict_clear(&f->v);
  capture_reset(&f->cap);
  return wif_auth_authenticate(&f->params, account, token,
                               token != NULL ? strlen(token) : 0, &f->v);
}

/* Exactly one line, which never contains the token's signature (M4). */
static const char *one_line(struct fixture *f, const char *token) {
  assert_int_equal(f->cap.n, 1);
  if (token != NULL) {
    const char *sig = strrchr(token, '.');

    assert_non_null(sig);
    if (strlen(sig + 1) > 8)
      assert_null(strstr(f->cap.lines[0], sig + 1));
    assert_null(strstr(f->cap.lines[0], token));
  }
  assert_null(strchr(f->cap.lines[0], '\n'));
  return f->cap.lines[0];
}

static void assert_contains(const char *s, const char *part) {
  if (strstr(s, part) == NULL)
    fail_msg("\"%s\" does not contain \"%s\"", s, part);
}

static void test_user_mapped(void **state) {
  struct fixture *f = *state;
  char *tok = token_for(ISS_U, "alice", "");
  const char *line;

  assert_int_equal(decide(f, "nobody", tok), WIF_OK);
  assert_int_equal(f->v.rc, WIF_OK);
  assert_string_equal(f->v.provider, "users");
  assert_string_equal(f->v.issuer, ISS_U);
  assert_string_equal(f->v.subject, "alice");
  assert_int_equal(f->v.exp, WIF_TEST_NOW + 600);
  assert_int_equal(f->v.grant_type, WIF_AUTHZ_USER);
  assert_string_equal(f->v.grant_identifier, "alice");
  assert_string_equal(f->v.map_file, f->map);
  assert_int_equal(f->v.grant_line, 1);
  assert_string_equal(f->v.kid, "rs256");
  line = one_line(f, tok);
  assert_int_equal(f->cap.priority[0], LOG_INFO);
  assert_contains(line, "auth outcome=success reason=OK account=\"nobody\" "
                        "provider=\"users\" kid=\"rs256\" iss=\"" ISS_U
                        "\" sub=\"alice\" jti=\"j-1\" rule=\"");
  assert_contains(line, "pam_wif.map:1\"");
  free(tok);
}

static void test_group_mapped(void **state) {
  struct fixture *f = *state;
  char *tok = token_for(ISS_G, "svc-1", ",\"groups\":[\"x\",\"g-admins\"]");

  assert_int_equal(decide(f, "daemon", tok), WIF_OK);
  assert_int_equal(f->v.grant_type, WIF_AUTHZ_GROUP);
  assert_string_equal(f->v.grant_identifier, "g-admins");
  assert_int_equal(f->v.n_groups, 2);
  assert_string_equal(f->v.groups[1], "g-admins");
  assert_int_equal(f->v.grant_line, 5);
  one_line(f, tok);
  /* G2: the same token for an account no group grants. */
  assert_int_equal(decide(f, "bin", tok), WIF_E_NO_MAPPING);
  assert_contains(one_line(f, tok), "reason=NO_MAPPING account=\"bin\"");
  assert_null(f->v.subject);
  assert_null(f->v.grant_identifier);
  free(tok);
}

static wif_rc recheck(struct fixture *f, const char *account,
                      const char *provider, const char *issuer,
                      const char *expires, const char *grant);

/* claim:NAME rules, the grant they leave for the account phase, and that
 * grant re-checked (and not forgeable into another rule's). */
static void test_claim_mapped(void **state) {
  struct fixture *f = *state;
  char *tok = token_for(ISS_C, "sp-1", ",\"roles\":[\"DB.Write\",\"DB.Read\"]");
  char grant[WIF_HANDOVER_GRANT_MAX], exp[32];

  assert_int_equal(decide(f, "nobody", tok), WIF_OK);
  assert_int_equal(f->v.grant_type, WIF_AUTHZ_CLAIM);
  assert_string_equal(f->v.grant_claim, "roles");
  assert_string_equal(f->v.grant_identifier, "DB.Read");
  assert_int_equal(f->v.grant_line, 6);
  assert_true(wif_handover_grant_encode(
      f->v.grant_type, f->v.grant_claim, f->v.grant_identifier,
      strlen(f->v.grant_identifier), grant, sizeof(grant)));
  assert_string_equal(grant, "claim:roles:DB.Read");
  one_line(f, tok);
  /* Another role does not grant daemon. */
  assert_int_equal(decide(f, "daemon", tok), WIF_E_NO_MAPPING);
  assert_contains(one_line(f, tok), "its claims");
  free(tok);
  /* A claim name with ':' and a number through a pointer. */
  tok = token_for(ISS_C, "sp-2",
                  ",\"https://x.example/roles\":\"DB.Admin\","
                  "\"gcp\":{\"project_number\":314159265358}");
  assert_int_equal(decide(f, "daemon", tok), WIF_OK);
  assert_string_equal(f->v.grant_claim, "https://x.example/roles");
  assert_true(wif_handover_grant_encode(
      f->v.grant_type, f->v.grant_claim, f->v.grant_identifier,
      strlen(f->v.grant_identifier), grant, sizeof(grant)));
  assert_string_equal(grant, "claim:https\\x3a//x.example/roles:DB.Admin");
  one_line(f, tok);
  free(tok);
  /* An object where a rule wants a value: refused with a reason. */
  tok = token_for(ISS_C, "sp-3", ",\"roles\":{\"DB.Read\":true}");
  assert_int_equal(decide(f, "nobody", tok), WIF_E_CLAIM_TYPE);
  assert_contains(one_line(f, tok), "is an object, which cannot be compared");
  free(tok);
  snprintf(exp, sizeof(exp), "%lld", (long long)WIF_TEST_NOW + 600);
  /* The grant re-checked in the account phase. */
#define CLAIMS_RECHECK(account, grant)                                         \
  recheck(f, account, "claims", ISS_C, exp, grant)
  assert_int_equal(CLAIMS_RECHECK("nobody", "claim:roles:DB.Read"), WIF_OK);
  assert_string_equal(f->v.grant_claim, "roles");
  /* The same identifier under another claim, or for another account. */
  assert_int_equal(CLAIMS_RECHECK("nobody", "claim:scope:DB.Read"),
                   WIF_E_NO_MAPPING);
  assert_int_equal(CLAIMS_RECHECK("daemon", "claim:roles:DB.Read"),
                   WIF_E_NO_MAPPING);
  /* ':' in the name must be escaped: the raw form is another grant. */
  assert_int_equal(
      CLAIMS_RECHECK("daemon", "claim:https://x.example/roles:DB.Admin"),
      WIF_E_NO_MAPPING);
  assert_int_equal(
      CLAIMS_RECHECK("daemon", "claim:https\\x3a//x.example/roles:DB.Admin"),
      WIF_OK);
  assert_int_equal(CLAIMS_RECHECK("nobody", "claim:roles"), WIF_E_MALFORMED);
#undef CLAIMS_RECHECK
  capture_reset(&f->cap);
}

/* G2, G7: a valid token decides nothing about other accounts. */
static void test_no_mapping(void **state) {
  struct fixture *f = *state;
  char *tok = token_for(ISS_U, "alice", "");
  const char *line;

  assert_int_equal(decide(f, "daemon", tok), WIF_E_NO_MAPPING);
  assert_string_equal(f->v.provider, "users");
  assert_null(f->v.issuer);
  line = one_line(f, tok);
  assert_int_equal(f->cap.priority[0], LOG_NOTICE);
  assert_contains(line, "outcome=denied reason=NO_MAPPING account=\"daemon\"");
  /* Verified claims are logged on a denial. */
  assert_contains(line, "sub=\"alice\"");
  assert_contains(line, "-- no rule in ");
  free(tok);
}

/* G3: a rule naming root is never honoured. */
static void test_root_refused(void **state) {
  struct fixture *f = *state;
  char *tok = token_for(ISS_U, "rooty", "");

  assert_int_equal(decide(f, "root", tok), WIF_E_NO_MAPPING);
  assert_contains(f->v.message, "never grants uid 0");
  assert_contains(one_line(f, tok), "account=\"root\"");
  free(tok);
}

/* G1: the mapped account does not exist: denied, not a system error. */
static void test_account_missing(void **state) {
  struct fixture *f = *state;
  char *tok = token_for(ISS_U, "ghost", "");

  assert_int_equal(decide(f, "wif-no-such-user", tok), WIF_E_NO_MAPPING);
  assert_contains(f->v.message, "does not exist");
  free(tok);
}

/* G4: invalid names are refused before any file is opened: with the
 * config gone, the reason is still NO_MAPPING. */
static void test_bad_account_names(void **state) {
  struct fixture *f = *state;
  static const char *const bad[] = {"../../etc/shadow",
                                    "-abc",
                                    "",
                                    "a b",
                                    "*",
                                    "$",
                                    "Root",
                                    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                                    "x\n outcome=success"};
  char *tok = token_for(ISS_U, "alice", "");

  unlink(f->conf);
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    assert_int_equal(decide(f, bad[i], tok), WIF_E_NO_MAPPING);
    assert_contains(f->v.message, "invalid account name");
    one_line(f, tok);
  }
  assert_int_equal(decide(f, NULL, tok), WIF_E_NO_MAPPING);
  /* M5: the account is escaped in the log line. */
  assert_int_equal(decide(f, "x\n outcome=success", tok), WIF_E_NO_MAPPING);
  assert_contains(one_line(f, tok), "account=\"x\\x0a outcome=success\"");
  free(tok);
}

/* G5, E14: near misses of a mapped identifier. */
static void test_exact_identifiers(void **state) {
  struct fixture *f = *state;
  static const char *const near[] = {"Alice", "alice ", "alic", "\\u0430lice",
                                     "alice\\u200b"};
  char *tok;

  for (size_t i = 0; i < sizeof(near) / sizeof(near[0]); i++) {
    tok = token_for(ISS_U, near[i], "");
    assert_int_equal(decide(f, "nobody", tok), WIF_E_NO_MAPPING);
    free(tok);
  }
  /* A control character never reaches the mapping (claims.h). */
  tok = token_for(ISS_U, "alice\\n", "");
  assert_int_equal(decide(f, "nobody", tok), WIF_E_SUB_INVALID);
  free(tok);
}

/* H4, C11: invalid tokens; claims are logged only after the signature
 * has verified. */
static void test_invalid_tokens(void **state) {
  struct fixture *f = *state;
  char *tok = token_for(ISS_U, "alice", "");
  char *bad = strdup(tok);
  char *expired = wif_test_signf("rs256", "RS256",
                                 "{\"iss\":\"" ISS_U "\",\"aud\":\"" AUD
                                 "\",\"sub\":\"alice\","
                                 "\"exp\":%lld}",
                                 (long long)WIF_TEST_NOW - 3600);
  /* sshd's answer for an unknown user: "\b\n\r\177INCORRECT" repeated. */
  char garbage[64];
  const char *line;

  for (size_t i = 0; i < sizeof(garbage) - 1; i++)
    garbage[i] = "\b\n\r\177INCORRECT"[i % 13];
  garbage[sizeof(garbage) - 1] = '\0';
  /* Another base64url letter: a flipped bit could leave the alphabet. */
  bad[strlen(bad) - 3] = bad[strlen(bad) - 3] == 'A' ? 'B' : 'A';
  assert_int_equal(decide(f, "nobody", bad), WIF_E_BAD_SIGNATURE);
  line = one_line(f, bad);
  assert_contains(line, "reason=BAD_SIGNATURE");
  assert_contains(line, "provider=\"users\" kid=\"rs256\"");
  assert_null(strstr(line, "sub="));
  assert_int_equal(decide(f, "nobody", expired), WIF_E_EXPIRED);
  assert_contains(one_line(f, expired), "sub=\"alice\"");
  assert_int_equal(decide(f, "nobody", garbage), WIF_E_MALFORMED);
  one_line(f, NULL);
  assert_int_equal(decide(f, "nobody", ""), WIF_E_MALFORMED);
  assert_int_equal(decide(f, "nobody", NULL), WIF_E_MALFORMED);
  assert_null(f->v.provider);
  free(tok);
  free(bad);
  free(expired);
}

/* M5: a claim crafted to forge log fields stays inside its quotes. */
static void test_log_injection(void **state) {
  struct fixture *f = *state;
  char *tok = token_for(ISS_U, "x\\\" outcome=success reason=OK",
                        ",\"nonce\":\"a\\nb\\u001b[31m\"");
  const char *line;

  assert_int_equal(decide(f, "nobody", tok), WIF_E_NO_MAPPING);
  line = one_line(f, tok);
  assert_contains(line, "sub=\"x\\x22 outcome=success reason=OK\"");
  assert_contains(line, "nonce=\"a\\x0ab\\x1b[31m\"");
  /* The first outcome= is the line's own. */
  assert_ptr_equal(strstr(line, "outcome="), line + strlen("auth "));
  assert_contains(line, "auth outcome=denied reason=NO_MAPPING");
  free(tok);
}

/* H5: configuration problems are CONFIG class, never SYSTEM. */
static void test_config_errors(void **state) {
  struct fixture *f = *state;
  char *tok = token_for(ISS_U, "alice", "");

  unlink(f->conf);
  assert_int_equal(decide(f, "nobody", tok), WIF_E_CONFIG_INVALID);
  assert_int_equal(f->cap.priority[0], LOG_ALERT);
  assert_contains(one_line(f, tok), "outcome=error reason=CONFIG_INVALID");
  write_conf(f, "");
  assert_int_equal(chmod(f->conf, 0666), 0);
  assert_int_equal(decide(f, "nobody", tok), WIF_E_CONFIG_INSECURE);
  assert_int_equal(chmod(f->conf, 0644), 0);
  assert_int_equal(chmod(f->map, 0646), 0);
  assert_int_equal(decide(f, "nobody", tok), WIF_E_CONFIG_INSECURE);
  assert_int_equal(chmod(f->map, 0644), 0);
  unlink(f->map);
  assert_int_equal(decide(f, "nobody", tok), WIF_E_CONFIG_INVALID);
  wif_test_write_text(f->map, "users user alice nobody\nazure user x y\n",
                      0644);
  assert_int_equal(decide(f, "nobody", tok), WIF_E_CONFIG_INVALID);
  assert_contains(f->v.message, "pam_wif.map:2: unknown provider \"azure\"");
  wif_test_write_text(f->map, MAP_TEXT, 0644);
  write_conf(f, "unknown_key = 1\n");
  assert_int_equal(decide(f, "nobody", tok), WIF_E_CONFIG_INVALID);
  if (getuid() == 0) {
    /* I1: owned by neither root nor the expected owner. */
    write_conf(f, "");
    assert_int_equal(chown(f->conf, 65534, 65534), 0);
    f->params.owner = 0;
    assert_int_equal(decide(f, "nobody", tok), WIF_E_CONFIG_INSECURE);
  }
  free(tok);
}

/* H3: keys that cannot be obtained. */
static void test_keys_unavailable(void **state) {
  struct fixture *f = *state;
  char *tok = token_for(ISS_U, "alice", "");

  unlink(f->jwks);
  assert_int_equal(decide(f, "nobody", tok), WIF_E_JWKS_UNAVAILABLE);
  assert_int_equal(f->cap.priority[0], LOG_ERR);
  assert_contains(one_line(f, tok), "outcome=unavailable");
  free(tok);
}

static char *one_time_token(const char *sub, const char *jti_member) {
  return wif_test_signf("rs256", "RS256",
                        "{\"iss\":\"" ISS_U "\",\"aud\":\"" AUD
                        "\",\"sub\":\"%s\",\"exp\":%lld,\"iat\":%lld%s}",
                        sub, (long long)WIF_TEST_NOW + 600,
                        (long long)WIF_TEST_NOW - 10, jti_member);
}

/* one_time = yes: a jti is needed, used up only by a granted login. */
static void test_one_time(void **state) {
  struct fixture *f = *state;
  char text[4096];
  char *cache = wif_test_path(f->dir, "cache");
  char *tok = one_time_token("alice", ",\"jti\":\"once-1\"");
  char *bare = one_time_token("alice", "");
  char cmd[256];

  snprintf(text, sizeof(text),
           "[global]\nmap_file = %s\ncache_dir = %s\n"
           "log_claims = sub jti\n"
           "[provider users]\nissuer = " ISS_U "\naudience = " AUD "\n"
           "jwks_file = %s\none_time = yes\n"
           "[provider groups]\nissuer = " ISS_G "\naudience = " AUD "\n"
           "authorization = group\njwks_file = %s\n"
           "[provider claims]\nissuer = " ISS_C "\naudience = " AUD "\n"
           "authorization = user claim\njwks_file = %s\n",
           f->map, cache, f->jwks, f->jwks, f->jwks);
  wif_test_write_text(f->conf, text, 0644);
  assert_int_equal(decide(f, "nobody", bare), WIF_E_JTI_MISSING);
  assert_contains(one_line(f, bare), "outcome=denied reason=JTI_MISSING");
  /* Refused by the mapping or the account: the jti stays unused. */
  assert_int_equal(decide(f, "daemon", tok), WIF_E_NO_MAPPING);
  assert_int_equal(decide(f, "wif-no-such-user", tok), WIF_E_NO_MAPPING);
  /* wifctl verify looks without using it up. */
  f->params.replay_peek = true;
  assert_int_equal(decide(f, "nobody", tok), WIF_OK);
  f->params.replay_peek = false;
  assert_int_equal(decide(f, "nobody", tok), WIF_OK);
  assert_int_equal(decide(f, "nobody", tok), WIF_E_REPLAYED);
  assert_null(f->v.subject);
  assert_contains(one_line(f, tok), "outcome=denied reason=REPLAYED "
                                    "account=\"nobody\" provider=\"users\" "
                                    "kid=\"rs256\" sub=\"alice\" "
                                    "jti=\"once-1\" -- ");
  f->params.replay_peek = true;
  assert_int_equal(decide(f, "nobody", tok), WIF_E_REPLAYED);
  f->params.replay_peek = false;
  /* Without a directory nothing could be remembered: refused. */
  f->params.cache_dir = "";
  assert_int_equal(decide(f, "nobody", bare), WIF_E_JTI_MISSING);
  free(tok);
  tok = one_time_token("alice", ",\"jti\":\"once-2\"");
  assert_int_equal(decide(f, "nobody", tok), WIF_E_CONFIG_INVALID);
  f->params.cache_dir = NULL;
  assert_int_equal(decide(f, "nobody", tok), WIF_OK);
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", cache);
  assert_int_equal(system(cmd), 0);
  free(cache);
  free(tok);
  free(bare);
}

/* The account phase on values that auth recorded in this process (the
 * binding itself is tested in test_handover.c and below). */
static wif_rc recheck(struct fixture *f, const char *account,
                      const char *provider, const char *issuer,
                      const char *expires, const char *grant) {
  struct wif_handover rec;
  struct wif_handover_input in;
  wif_rc rc;

  memset(&in, 0, sizeof(in));
  in.values[WIF_HO_PROVIDER] = provider;
  in.values[WIF_HO_SUBJECT] = "s";
  in.values[WIF_HO_ISSUER] = issuer;
  in.values[WIF_HO_EXPIRES] = expires;
  in.values[WIF_HO_GRANT] = grant;
  in.service = "svc";
  assert_int_equal(wif_handover_record(in.values, account, "svc", &rec),
                   WIF_OK);
  in.record = &rec;
  wif_verdict_clear(&f->v);
  capture_reset(&f->cap);
  f->params.service = "account";
  rc = wif_auth_recheck(&f->params, account, &in, &f->v);
  wif_handover_clear(&rec);
  return rc;
}

/* Auth binds what it hands over; account accepts exactly that. */
static void test_bound_handover(void **state) {
  struct fixture *f = *state;
  char *tok = token_for(ISS_U, "alice", "");
  struct wif_handover h;
  struct wif_handover_input in;

  capture_reset(&f->cap);
  assert_int_equal(wif_auth_authenticate_bound(&f->params, "nobody", tok,
                                               strlen(tok), "svc", &f->v, &h),
                   WIF_OK);
  assert_string_equal(wif_handover_value(&h, WIF_HO_GRANT), "user:alice");
  assert_non_null(wif_handover_value(&h, WIF_HO_BINDING));
  memset(&in, 0, sizeof(in));
  for (size_t i = 0; i < WIF_HO_COUNT; i++)
    in.values[i] = wif_handover_value(&h, (enum wif_handover_var)i);
  in.service = "svc";
  wif_verdict_clear(&f->v);
  f->params.service = "account";
  capture_reset(&f->cap);
  assert_int_equal(wif_auth_recheck(&f->params, "nobody", &in, &f->v), WIF_OK);
  assert_int_equal(f->v.exp, WIF_TEST_NOW + 600);
  /* Another service, or a forged never-expiring WIF_EXPIRES. */
  in.service = "other";
  wif_verdict_clear(&f->v);
  capture_reset(&f->cap);
  assert_int_equal(wif_auth_recheck(&f->params, "nobody", &in, &f->v),
                   WIF_E_TAMPERED);
  assert_contains(one_line(f, NULL), "account outcome=denied reason=TAMPERED");
  in.service = "svc";
  in.values[WIF_HO_EXPIRES] = "9223372036854775807";
  wif_verdict_clear(&f->v);
  assert_int_equal(wif_auth_recheck(&f->params, "nobody", &in, &f->v),
                   WIF_E_TAMPERED);
  /* No binding at all. */
  in.values[WIF_HO_BINDING] = NULL;
  wif_verdict_clear(&f->v);
  capture_reset(&f->cap);
  assert_int_equal(wif_auth_recheck(&f->params, "nobody", &in, &f->v),
                   WIF_E_UNBOUND);
  assert_contains(one_line(f, NULL), "reason=UNBOUND");
  wif_handover_clear(&h);
  if (getuid() != 0) {
    free(tok);
    skip(); /* root's rule and a service user's differ: reported skipped */
  }
  /* Root: no hand-over when the key directory is unusable; the decision
   * says so, in its one line. */
  wif_verdict_clear(&f->v);
  assert_int_equal(chmod(f->bind, 0750), 0);
  capture_reset(&f->cap);
  f->params.service = "auth";
  assert_int_equal(wif_auth_authenticate_bound(&f->params, "nobody", tok,
                                               strlen(tok), "svc", &f->v, &h),
                   WIF_E_CONFIG_INSECURE);
  assert_int_equal(f->cap.n, 1);
  assert_null(h.env[0]);
  /* A service user's unusable key directory (here: root's, not its own)
   * only warns, and the hand-over then holds in this process only. */
  f->params.owner = 65534;
  wif_verdict_clear(&f->v);
  capture_reset(&f->cap);
  assert_int_equal(wif_auth_authenticate_bound(&f->params, "nobody", tok,
                                               strlen(tok), "svc", &f->v, &h),
                   WIF_OK);
  assert_null(h.env[WIF_HO_BINDING]);
  assert_non_null(h.env[WIF_HO_GRANT]);
  assert_int_equal(f->cap.n, 2);
  assert_int_equal(f->cap.priority[0], LOG_WARNING);
  wif_handover_clear(&h);
  f->params.owner = getuid();
  assert_int_equal(chmod(f->bind, 0700), 0);
  free(tok);
}

/* The account phase: mapping and expiry re-checked from the grant. */
static void test_recheck(void **state) {
  struct fixture *f = *state;
  char exp[32];

  snprintf(exp, sizeof(exp), "%lld", (long long)WIF_TEST_NOW + 600);
  assert_int_equal(recheck(f, "nobody", "users", ISS_U, exp, "user:alice"),
                   WIF_OK);
  assert_int_equal(f->v.grant_line, 1);
  assert_contains(one_line(f, NULL), "account outcome=success");
  assert_int_equal(recheck(f, "daemon", "groups", ISS_G, exp, "group:g-admins"),
                   WIF_OK);
  /* The encoded form of an identifier holding a backslash. */
  assert_int_equal(recheck(f, "nobody", "users", ISS_U, exp, "user:a\\x5cb"),
                   WIF_OK);
  assert_int_equal(recheck(f, "nobody", "users", ISS_U, exp, "user:a\\b"),
                   WIF_E_NO_MAPPING);
  /* G6: PAM_USER changed after auth. */
  assert_int_equal(recheck(f, "daemon", "users", ISS_U, exp, "user:alice"),
                   WIF_E_NO_MAPPING);
  assert_int_equal(recheck(f, "root", "users", ISS_U, exp, "user:rooty"),
                   WIF_E_NO_MAPPING);
  assert_int_equal(recheck(f, "../x", "users", ISS_U, exp, "user:alice"),
                   WIF_E_NO_MAPPING);
  /* Tampered or inconsistent grants. */
  assert_int_equal(recheck(f, "nobody", "users", ISS_U, exp, "group:alice"),
                   WIF_E_NO_MAPPING);
  assert_int_equal(recheck(f, "nobody", "users", ISS_G, exp, "user:alice"),
                   WIF_E_NO_MAPPING);
  assert_int_equal(recheck(f, "nobody", "gone", ISS_U, exp, "user:alice"),
                   WIF_E_NO_MAPPING);
  assert_int_equal(recheck(f, "nobody", "users", ISS_U, exp, "alice"),
                   WIF_E_MALFORMED);
  assert_int_equal(recheck(f, "nobody", "users", ISS_U, "12a", "user:alice"),
                   WIF_E_MALFORMED);
  assert_int_equal(recheck(f, "nobody", "users", ISS_U, "-5", "user:alice"),
                   WIF_E_MALFORMED);
  assert_int_equal(recheck(f, "nobody", "users", ISS_U,
                           "99999999999999999999999", "user:alice"),
                   WIF_E_MALFORMED);
  /* Incomplete, though recorded. */
  assert_int_equal(recheck(f, "nobody", "users", NULL, NULL, NULL),
                   WIF_E_MALFORMED);
  assert_contains(one_line(f, NULL), "reason=MALFORMED");
  /* Expiry, with the clock skew (60 s by default). */
  snprintf(exp, sizeof(exp), "%lld", (long long)WIF_TEST_NOW - 60);
  assert_int_equal(recheck(f, "nobody", "users", ISS_U, exp, "user:alice"),
                   WIF_E_EXPIRED);
  snprintf(exp, sizeof(exp), "%lld", (long long)WIF_TEST_NOW - 59);
  assert_int_equal(recheck(f, "nobody", "users", ISS_U, exp, "user:alice"),
                   WIF_OK);
  assert_int_equal(
      recheck(f, "nobody", "users", ISS_U, "9223372036854775807", "user:alice"),
      WIF_OK);
  /* The mapping changed between auth and account. */
  wif_test_write_text(f->map, "users user bob nobody\n", 0644);
  assert_int_equal(recheck(f, "nobody", "users", ISS_U, exp, "user:alice"),
                   WIF_E_NO_MAPPING);
  assert_contains(one_line(f, NULL), "reason=NO_MAPPING");
}

/* accounts=names: PAM_USER is a database role, not a Unix account. The
 * map still names it exactly; only root stays refused. */
static void test_accounts_names(void **state) {
  struct fixture *f = *state;
  char *ghost = token_for(ISS_U, "ghost", "");
  char *rooty = token_for(ISS_U, "rooty", "");
  char exp[32];

  /* The default (unix) looks the role up and refuses it. */
  assert_int_equal(decide(f, "wif-no-such-user", ghost), WIF_E_NO_MAPPING);
  assert_contains(f->v.message, "does not exist");
  f->params.accounts = WIF_ACCOUNTS_NAMES;
  assert_int_equal(decide(f, "wif-no-such-user", ghost), WIF_OK);
  assert_string_equal(f->v.grant_identifier, "ghost");
  assert_contains(one_line(f, ghost),
                  "outcome=success reason=OK account=\"wif-no-such-user\"");
  /* Exactly the name the map lists: not another role, not a prefix. */
  assert_int_equal(decide(f, "nobody", ghost), WIF_E_NO_MAPPING);
  assert_int_equal(decide(f, "wif-no-such-use", ghost), WIF_E_NO_MAPPING);
  assert_int_equal(decide(f, "Wif-no-such-user", ghost), WIF_E_NO_MAPPING);
  /* Root is never granted, even though nothing is looked up. */
  assert_int_equal(decide(f, "root", rooty), WIF_E_NO_MAPPING);
  assert_contains(f->v.message, "not even with accounts=names");
  /* The account phase follows the same rule. */
  snprintf(exp, sizeof(exp), "%lld", (long long)WIF_TEST_NOW + 600);
  assert_int_equal(
      recheck(f, "wif-no-such-user", "users", ISS_U, exp, "user:ghost"),
      WIF_OK);
  assert_int_equal(recheck(f, "root", "users", ISS_U, exp, "user:rooty"),
                   WIF_E_NO_MAPPING);
  f->params.accounts = WIF_ACCOUNTS_UNIX;
  assert_int_equal(
      recheck(f, "wif-no-such-user", "users", ISS_U, exp, "user:ghost"),
      WIF_E_NO_MAPPING);
  assert_contains(f->v.message, "does not exist");
  free(ghost);
  free(rooty);
}

static void test_reject(void **state) {
  struct fixture *f = *state;

  capture_reset(&f->cap);
  assert_int_equal(wif_auth_reject(&f->params, "nobody", WIF_E_TOO_LARGE,
                                   "the token has more than 64 parts", &f->v),
                   WIF_E_TOO_LARGE);
  assert_contains(one_line(f, NULL),
                  "outcome=denied reason=TOO_LARGE account=\"nobody\" -- the "
                  "token has more than 64 parts");
  wif_verdict_clear(&f->v);
  capture_reset(&f->cap);
  /* A rejection is never a success (H1). */
  assert_int_equal(wif_auth_reject(&f->params, "nobody", WIF_OK, NULL, &f->v),
                   WIF_E_INTERNAL);
  assert_int_equal(wif_auth_authenticate(NULL, "x", "t", 1, &f->v),
                   WIF_E_INTERNAL);
  wif_verdict_clear(NULL);
}

static void test_no_log_unless_asked(void **state) {
  struct fixture *f = *state;
  char *tok = token_for(ISS_U, "alice", "");

  f->params.log_decision = false;
  assert_int_equal(decide(f, "nobody", tok), WIF_OK);
  assert_int_equal(f->cap.n, 0);
  free(tok);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_user_mapped, setup, teardown),
      cmocka_unit_test_setup_teardown(test_group_mapped, setup, teardown),
      cmocka_unit_test_setup_teardown(test_no_mapping, setup, teardown),
      cmocka_unit_test_setup_teardown(test_root_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_account_missing, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_account_names, setup, teardown),
      cmocka_unit_test_setup_teardown(test_exact_identifiers, setup, teardown),
      cmocka_unit_test_setup_teardown(test_invalid_tokens, setup, teardown),
      cmocka_unit_test_setup_teardown(test_log_injection, setup, teardown),
      cmocka_unit_test_setup_teardown(test_config_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_keys_unavailable, setup, teardown),
      cmocka_unit_test_setup_teardown(test_one_time, setup, teardown),
      cmocka_unit_test_setup_teardown(test_recheck, setup, teardown),
      cmocka_unit_test_setup_teardown(test_accounts_names, setup, teardown),
      cmocka_unit_test_setup_teardown(test_claim_mapped, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bound_handover, setup, teardown),
      cmocka_unit_test_setup_teardown(test_reject, setup, teardown),
      cmocka_unit_test_setup_teardown(test_no_log_unless_asked, setup,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
