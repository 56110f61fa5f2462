/* SPDX-License-Identifier: Apache-2.0 */
/* PAM transactions through pam_wif.so under pam_wrapper + libpamtest:
 * return codes, stacks (H2), the prompt protocol, first-pass tokens,
 * conversation failures (H8), file rules (I1) and the account phase. */
#include "testutil.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libpamtest.h>
#include <security/pam_appl.h>

#include "config.h"
#include "replay.h"

#define ISS_U "https://issuer.example/users"
#define ISS_G "https://issuer.example/groups"
#define AUD "api://pam-wif"
#define CONF PAM_TEST_ETC "/pam_wif.conf"
#define MAP PAM_TEST_ETC "/pam_wif.map"
#define JWKS PAM_TEST_ETC "/jwks.json"
#define LOG_FILE PAM_TEST_ETC "/decisions.log"
#define RUNTIME "systemd.runtime_max_sec"
#define ANSWERS_MAX 80

/* libpamtest 1.1.4's run_pamtest_conv macro misplaces a parenthesis. */
#define RUN_CONV(service, user, c, tests)                                      \
  _pamtest_conv(service, user, conv_fn, c, tests,                              \
                sizeof(tests) / sizeof(tests[0]), NULL)

#define MAP_TEXT                                                               \
  "users  user  alice  nobody\n"                                               \
  "users  user  rooty  root\n"                                                 \
  "groups group g-admins daemon\n"                                             \
  "users  user  dbrole wif-no-such-role\n"

/* A scripted conversation. */
struct conv {
  const char *answers[ANSWERS_MAX];
  size_t n;
  size_t asked;
  int fail_with; /* returned at prompt number fail_at (1-based) */
  size_t fail_at;
  bool null_resp; /* answer with a NULL resp at fail_at */
  bool echo_on_seen;
  char prompts[ANSWERS_MAX][64];
};

static int conv_fn(int num_msg, const struct pam_message **msg,
                   struct pam_response **resp, void *data) {
  struct conv *c = data;
  struct pam_response *r;

  if (num_msg != 1)
    return PAM_CONV_ERR;
  if (msg[0]->msg_style != PAM_PROMPT_ECHO_OFF) {
    c->echo_on_seen = true;
    return PAM_CONV_ERR;
  }
  if (c->asked < ANSWERS_MAX)
    snprintf(c->prompts[c->asked], sizeof(c->prompts[0]), "%s", msg[0]->msg);
  c->asked++;
  if (c->fail_at == c->asked && !c->null_resp)
    return c->fail_with;
  r = calloc(1, sizeof(*r));
  if (r == NULL)
    return PAM_BUF_ERR;
  if (!(c->fail_at == c->asked && c->null_resp)) {
    if (c->asked > c->n) {
      free(r);
      return PAM_CONV_ERR;
    }
    r->resp = strdup(c->answers[c->asked - 1]);
  }
  *resp = r;
  return PAM_SUCCESS;
}

static void write_file(const char *path, const char *text, mode_t mode) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

  assert_true(fd >= 0);
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  assert_int_equal(fchmod(fd, mode), 0);
  assert_int_equal(fchown(fd, geteuid(), getegid()), 0);
  close(fd);
}

static void write_all(void) {
  size_t len;
  char *jwks = wif_test_read(WIF_TEST_KEYS_DIR "/jwks.json", &len);

  write_file(CONF,
             "[global]\n"
             "map_file = " MAP "\n"
             "cache_dir = " PAM_TEST_ETC "/cache\n"
             "[provider users]\n"
             "issuer = " ISS_U "\n"
             "audience = " AUD "\n"
             "jwks_file = " JWKS "\n"
             "[provider groups]\n"
             "issuer = " ISS_G "\n"
             "audience = " AUD "\n"
             "authorization = group\n"
             "jwks_file = " JWKS "\n",
             0644);
  write_file(MAP, MAP_TEXT, 0644);
  write_file(JWKS, jwks, 0644);
  free(jwks);
}

static int setup(void **state) {
  (void)state;
  write_all();
  unsetenv("PAM_AUTHTOK");
  return 0;
}

static char *token(const char *iss, const char *sub, const char *extra) {
  int64_t now = (int64_t)time(NULL);

  return wif_test_signf("rs256", "RS256",
                        "{\"iss\":\"%s\",\"aud\":\"" AUD "\",\"sub\":\"%s\","
                        "\"exp\":%lld,\"iat\":%lld%s}",
                        iss, sub, (long long)now + 600, (long long)now - 5,
                        extra);
}

/* Runs one operation on service for user; returns its PAM code. */
static int run(const char *service, const char *user, struct conv *c,
               enum pamtest_ops op) {
  struct pam_testcase tests[] = {pam_test(op, PAM_SUCCESS)};

  (void)RUN_CONV(service, user, c, tests);
  return tests[0].op_rv;
}

static int auth(const char *service, const char *user, const char *tok) {
  struct conv c;

  memset(&c, 0, sizeof(c));
  c.answers[0] = tok;
  c.n = 1;
  return run(service, user, &c, PAMTEST_AUTHENTICATE);
}

static const char *env_get(char **env, const char *name) {
  size_t n = strlen(name);

  for (size_t i = 0; env != NULL && env[i] != NULL; i++)
    if (strncmp(env[i], name, n) == 0 && env[i][n] == '=')
      return env[i] + n + 1;
  return NULL;
}

static void test_user_mapped(void **state) {
  char *tok = token(ISS_U, "alice", "");
  struct conv c;
  struct pam_testcase tests[] = {
      pam_test(PAMTEST_AUTHENTICATE, PAM_SUCCESS),
      pam_test(PAMTEST_SETCRED, PAM_SUCCESS),
      pam_test(PAMTEST_ACCOUNT, PAM_SUCCESS),
      pam_test(PAMTEST_OPEN_SESSION, PAM_SUCCESS),
      pam_test(PAMTEST_CLOSE_SESSION, PAM_SUCCESS),
      pam_test(PAMTEST_GETENVLIST, PAM_SUCCESS),
  };
  char **env;
  char exp[32];

  (void)state;
  memset(&c, 0, sizeof(c));
  c.answers[0] = tok;
  c.n = 1;
  assert_int_equal(RUN_CONV("wif", "nobody", &c, tests), PAMTEST_ERR_OK);
  assert_int_equal(c.asked, 1);
  assert_string_equal(c.prompts[0], "Workload identity token: ");
  assert_false(c.echo_on_seen);
  env = tests[5].case_out.envlist;
  assert_string_equal(env_get(env, "WIF_PROVIDER"), "users");
  assert_string_equal(env_get(env, "WIF_SUBJECT"), "alice");
  assert_string_equal(env_get(env, "WIF_ISSUER"), ISS_U);
  assert_string_equal(env_get(env, "WIF_GRANT"), "user:alice");
  snprintf(exp, sizeof(exp), "%lld", (long long)time(NULL) + 600);
  assert_non_null(env_get(env, "WIF_EXPIRES"));
  assert_true(llabs(atoll(env_get(env, "WIF_EXPIRES")) - atoll(exp)) < 5);
  pamtest_free_env(env);
  /* debug changes nothing but the log. */
  assert_int_equal(auth("wif_debug", "nobody", tok), PAM_SUCCESS);
  free(tok);
}

static void test_group_mapped(void **state) {
  char *tok = token(ISS_G, "svc", ",\"groups\":[\"a\",\"g-admins\"]");
  struct conv c;
  struct pam_testcase tests[] = {
      pam_test(PAMTEST_AUTHENTICATE, PAM_SUCCESS),
      pam_test(PAMTEST_ACCOUNT, PAM_SUCCESS),
      pam_test(PAMTEST_GETENVLIST, PAM_SUCCESS),
  };

  (void)state;
  memset(&c, 0, sizeof(c));
  c.answers[0] = tok;
  c.n = 1;
  assert_int_equal(RUN_CONV("wif", "daemon", &c, tests), PAMTEST_ERR_OK);
  assert_string_equal(env_get(tests[2].case_out.envlist, "WIF_GRANT"),
                      "group:g-admins");
  assert_string_equal(env_get(tests[2].case_out.envlist, "WIF_SUBJECT"), "svc");
  pamtest_free_env(tests[2].case_out.envlist);
  free(tok);
}

/* Every failure and its code (DESIGN.md). */
static void test_failure_codes(void **state) {
  char *tok = token(ISS_U, "alice", "");
  char *root = token(ISS_U, "rooty", "");
  char *other = token("https://unknown.example/", "alice", "");
  char *bad = strdup(tok);

  (void)state;
  /* Another base64url letter: a flipped bit could leave the alphabet. */
  bad[strlen(bad) - 2] = bad[strlen(bad) - 2] == 'A' ? 'B' : 'A';
  assert_int_equal(auth("wif", "nobody", bad), PAM_AUTH_ERR);
  assert_int_equal(auth("wif", "nobody", other), PAM_AUTH_ERR);
  assert_int_equal(auth("wif", "nobody", ""), PAM_AUTH_ERR);
  assert_int_equal(auth("wif", "nobody", "not a token"), PAM_AUTH_ERR);
  /* G2: not mapped to this account; G3: root is refused. */
  assert_int_equal(auth("wif", "daemon", tok), PAM_AUTH_ERR);
  assert_int_equal(auth("wif", "root", root), PAM_AUTH_ERR);
  /* G4: invalid PAM_USER. */
  assert_int_equal(auth("wif", "../../etc/shadow", tok), PAM_AUTH_ERR);
  assert_int_equal(auth("wif", "-nobody", tok), PAM_AUTH_ERR);
  /* H3: keys cannot be obtained. */
  assert_int_equal(unlink(JWKS), 0);
  assert_int_equal(auth("wif", "nobody", tok), PAM_AUTHINFO_UNAVAIL);
  write_all();
  /* H5: configuration and arguments. */
  assert_int_equal(unlink(CONF), 0);
  assert_int_equal(auth("wif", "nobody", tok), PAM_SERVICE_ERR);
  write_all();
  write_file(CONF, "[global]\nbogus = 1\n", 0644);
  assert_int_equal(auth("wif", "nobody", tok), PAM_SERVICE_ERR);
  write_all();
  assert_int_equal(auth("wif_badarg", "nobody", tok), PAM_SERVICE_ERR);
  assert_int_equal(auth("wif_relative", "nobody", tok), PAM_SERVICE_ERR);
  assert_int_equal(auth("wif_both_pass", "nobody", tok), PAM_SERVICE_ERR);
  {
    struct conv c;

    memset(&c, 0, sizeof(c));
    assert_int_equal(run("wif_badarg", "nobody", &c, PAMTEST_ACCOUNT),
                     PAM_SERVICE_ERR);
    assert_int_equal(run("wif_badarg", "nobody", &c, PAMTEST_OPEN_SESSION),
                     PAM_SERVICE_ERR);
    assert_int_equal(c.asked, 0);
  }
  assert_int_equal(auth("wif", "nobody", tok), PAM_SUCCESS);
  free(tok);
  free(root);
  free(other);
  free(bad);
}

/* I1: a world-writable or foreign-owned config or map. */
static void test_insecure_files(void **state) {
  char *tok = token(ISS_U, "alice", "");

  (void)state;
  assert_int_equal(chmod(CONF, 0666), 0);
  assert_int_equal(auth("wif", "nobody", tok), PAM_SERVICE_ERR);
  assert_int_equal(chmod(CONF, 0664), 0);
  assert_int_equal(auth("wif", "nobody", tok), PAM_SERVICE_ERR);
  assert_int_equal(chmod(CONF, 0644), 0);
  assert_int_equal(chmod(MAP, 0606), 0);
  assert_int_equal(auth("wif", "nobody", tok), PAM_SERVICE_ERR);
  assert_int_equal(chmod(MAP, 0644), 0);
  assert_int_equal(auth("wif", "nobody", tok), PAM_SUCCESS);
  if (geteuid() != 0) {
    free(tok);
    skip(); /* chown to another user needs root: reported as skipped */
  }
  assert_int_equal(chown(CONF, 65534, 65534), 0);
  assert_int_equal(auth("wif", "nobody", tok), PAM_SERVICE_ERR);
  write_all();
  assert_int_equal(chown(MAP, 65534, 65534), 0);
  assert_int_equal(auth("wif", "nobody", tok), PAM_SERVICE_ERR);
  write_all();
  assert_int_equal(chown(JWKS, 65534, 65534), 0);
  assert_int_equal(auth("wif", "nobody", tok), PAM_SERVICE_ERR);
  write_all();
  free(tok);
}

/* H2: no error may become a skip that leads to success. */
static void test_stacks(void **state) {
  char *tok = token(ISS_U, "alice", "");

  (void)state;
  assert_int_equal(auth("wif_sufficient", "nobody", tok), PAM_SUCCESS);
  assert_int_equal(auth("wif_sufficient", "nobody", "garbage"), PAM_AUTH_ERR);
  assert_int_equal(auth("wif_requisite", "nobody", tok), PAM_SUCCESS);
  assert_int_equal(auth("wif_requisite", "daemon", tok), PAM_AUTH_ERR);
  assert_int_equal(auth("wif_done_die", "nobody", tok), PAM_SUCCESS);
  assert_int_equal(auth("wif_done_die", "nobody", "garbage"), PAM_AUTH_ERR);
  assert_int_equal(auth("wif_jump", "nobody", tok), PAM_SUCCESS);
  assert_int_equal(auth("wif_jump", "nobody", "garbage"), PAM_AUTH_ERR);
  /* A broken config under each control. */
  assert_int_equal(chmod(CONF, 0666), 0);
  assert_int_equal(auth("wif_sufficient", "nobody", tok), PAM_AUTH_ERR);
  assert_int_equal(auth("wif_requisite", "nobody", tok), PAM_SERVICE_ERR);
  assert_int_equal(auth("wif_done_die", "nobody", tok), PAM_SERVICE_ERR);
  assert_int_equal(auth("wif_jump", "nobody", tok), PAM_AUTH_ERR);
  assert_int_equal(chmod(CONF, 0644), 0);
  free(tok);
}

/* Splits tok into n parts, each but the last ending in `\`. */
static int auth_parts(const char *service, const char *user, const char *tok,
                      size_t n, struct conv *c) {
  size_t len = strlen(tok);
  char *parts[ANSWERS_MAX];
  int ret;

  memset(c, 0, sizeof(*c));
  assert_true(n <= ANSWERS_MAX && n <= len);
  for (size_t i = 0; i < n; i++) {
    size_t from = len * i / n, to = len * (i + 1) / n;

    assert_non_null(parts[i] = calloc(1, to - from + 2));
    memcpy(parts[i], tok + from, to - from);
    if (i + 1 < n)
      parts[i][to - from] = '\\';
    c->answers[i] = parts[i];
  }
  c->n = n;
  ret = run(service, user, c, PAMTEST_AUTHENTICATE);
  for (size_t i = 0; i < n; i++)
    free(parts[i]);
  return ret;
}

/* The prompt protocol: 1, 2, 5 and 64 parts; 65 parts fail. */
static void test_parts(void **state) {
  char *tok = token(ISS_U, "alice", "");
  struct conv c;
  static const size_t counts[] = {1, 2, 5, 64};

  (void)state;
  for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
    assert_int_equal(auth_parts("wif", "nobody", tok, counts[i], &c),
                     PAM_SUCCESS);
    assert_int_equal(c.asked, counts[i]);
  }
  assert_string_equal(c.prompts[0], "Workload identity token: ");
  assert_string_equal(c.prompts[1], "Workload identity token (part 2): ");
  assert_string_equal(c.prompts[63], "Workload identity token (part 64): ");
  /* A 65th part is never asked for. */
  assert_int_equal(auth_parts("wif", "nobody", tok, 65, &c), PAM_AUTH_ERR);
  assert_int_equal(c.asked, 64);
  /* An empty part is a part; a lone `\` continues. */
  memset(&c, 0, sizeof(c));
  c.answers[0] = "\\";
  c.answers[1] = tok;
  c.n = 2;
  assert_int_equal(run("wif", "nobody", &c, PAMTEST_AUTHENTICATE), PAM_SUCCESS);
  free(tok);
}

/* A signed token of exactly len bytes: the pad claim sets the length
 * but skips base64url lengths 4k+1, so blanks in the header (which is
 * signed as given) shift the rest. */
static char *token_of_length(size_t len) {
  int64_t now = (int64_t)time(NULL);

  for (int blanks = 0; blanks < 4; blanks++) {
    char header[128];

    snprintf(header, sizeof(header), "{\"alg\":\"RS256\",%*s\"kid\":\"rs256\"}",
             blanks, "");
    for (size_t pad = len * 3 / 4 - 700; pad < len; pad++) {
      char *claims = malloc(pad + 256);
      char *tok;

      assert_non_null(claims);
      snprintf(claims, pad + 256,
               "{\"iss\":\"" ISS_U "\",\"aud\":\"" AUD "\",\"sub\":\"alice\","
               "\"exp\":%lld,\"pad\":\"%0*d\"}",
               (long long)now + 600, (int)pad, 0);
      tok = wif_test_sign("rs256", "RS256", header, claims);
      free(claims);
      if (strlen(tok) == len)
        return tok;
      if (strlen(tok) > len) {
        free(tok);
        break;
      }
      free(tok);
    }
  }
  fail_msg("no token of %zu bytes", len);
  return NULL;
}

/* The 16 KiB limit: 16384 bytes pass (in one answer or in 32 parts), one
 * more byte fails, as does a huge single answer. */
static void test_size_limit(void **state) {
  char *tok = token_of_length(16384);
  char *big;
  struct conv c;

  (void)state;
  assert_int_equal(auth("wif", "nobody", tok), PAM_SUCCESS);
  assert_int_equal(auth_parts("wif", "nobody", tok, 32, &c), PAM_SUCCESS);
  big = malloc(16386);
  assert_non_null(big);
  memcpy(big, tok, 16384);
  big[16384] = 'A';
  big[16385] = '\0';
  assert_int_equal(auth("wif", "nobody", big), PAM_AUTH_ERR);
  assert_int_equal(auth_parts("wif", "nobody", big, 3, &c), PAM_AUTH_ERR);
  free(big);
  big = malloc(1 << 20);
  assert_non_null(big);
  memset(big, 'A', (1 << 20) - 1);
  big[(1 << 20) - 1] = '\0';
  assert_int_equal(auth("wif", "nobody", big), PAM_AUTH_ERR);
  free(big);
  free(tok);
}

/* use_first_pass and try_first_pass after an earlier module's answer
 * (PAM_AUTHTOK); the conversation holds the token, should they ask. */
static void test_first_pass(void **state) {
  static const struct {
    const char *authtok; /* PAM_AUTHTOK, NULL: none, "TOKEN": the token */
    int first_pass;      /* use_first_pass: never asks */
    int try_first_pass;
    size_t asked; /* whether try_first_pass asked */
  } cases[] = {
      /* No PAM_AUTHTOK: use_first_pass fails, try_first_pass asks. */
      {NULL, PAM_AUTH_ERR, PAM_SUCCESS, 1},
      /* pam_set_items (pam_wrapper) copies $PAM_AUTHTOK into the item. */
      {"TOKEN", PAM_SUCCESS, PAM_SUCCESS, 0},
      /* A token-shaped PAM_AUTHTOK that does not verify is refused, never
       * asked again. */
      {"aaaa.bbbb.cccc", PAM_AUTH_ERR, PAM_AUTH_ERR, 0},
      /* An earlier answer that is no token (a password): use_first_pass
       * refuses it, try_first_pass asks (pam_unix's convention). */
      {"garbage", PAM_AUTH_ERR, PAM_SUCCESS, 1},
  };
  char *tok = token(ISS_U, "alice", "");

  (void)state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const char *authtok = cases[i].authtok;
    struct conv c;
    int rv;

    if (authtok == NULL)
      unsetenv("PAM_AUTHTOK");
    else
      assert_int_equal(
          setenv("PAM_AUTHTOK", strcmp(authtok, "TOKEN") ? authtok : tok, 1),
          0);
    memset(&c, 0, sizeof(c));
    c.answers[0] = tok;
    c.n = 1;
    rv = run("wif_first_pass", "nobody", &c, PAMTEST_AUTHENTICATE);
    if (rv != cases[i].first_pass || c.asked != 0)
      fail_msg("%s: use_first_pass %d (asked %zu), want %d", authtok, rv,
               c.asked, cases[i].first_pass);
    rv = run("wif_try_first_pass", "nobody", &c, PAMTEST_AUTHENTICATE);
    if (rv != cases[i].try_first_pass || c.asked != cases[i].asked)
      fail_msg("%s: try_first_pass %d (asked %zu), want %d (asked %zu)",
               authtok, rv, c.asked, cases[i].try_first_pass, cases[i].asked);
  }
  unsetenv("PAM_AUTHTOK");
  free(tok);
}

/* H8: the conversation fails, or answers NULL, at the first or a later
 * prompt. */
static void test_conversation_failure(void **state) {
  static const struct {
    const char *service;
    struct conv conv;
    int want;
  } cases[] = {
      {"wif", {.fail_at = 1, .fail_with = PAM_CONV_ERR}, PAM_CONV_ERR},
      {"wif", {.fail_at = 1, .fail_with = PAM_ABORT}, PAM_CONV_ERR},
      {"wif", {.fail_at = 1, .null_resp = true}, PAM_CONV_ERR},
      {"wif",
       {.answers = {"abc\\"}, .n = 1, .fail_at = 2, .null_resp = true},
       PAM_CONV_ERR},
      /* Under sufficient, a conversation failure still ends in denial. */
      {"wif_sufficient",
       {.fail_at = 1, .fail_with = PAM_CONV_ERR},
       PAM_AUTH_ERR},
  };

  (void)state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct conv c = cases[i].conv;
    int rv = run(cases[i].service, "nobody", &c, PAMTEST_AUTHENTICATE);

    if (rv != cases[i].want)
      fail_msg("case %zu (%s): %d, want %d", i, cases[i].service, rv,
               cases[i].want);
  }
}

/* sshd answers for an unknown user or a refused root with
 * "\b\n\r\177INCORRECT" repeated to the answer's length. */
static void test_sshd_garbage(void **state) {
  char *tok = token(ISS_U, "alice", "");
  size_t len = strlen(tok);
  char *garbage = malloc(len + 1);

  (void)state;
  assert_non_null(garbage);
  for (size_t i = 0; i < len; i++)
    garbage[i] = "\b\n\r\177INCORRECT"[i % 13];
  garbage[len] = '\0';
  assert_int_equal(auth("wif", "nobody", garbage), PAM_AUTH_ERR);
  assert_int_equal(auth("wif", "wif-no-such-user", garbage), PAM_AUTH_ERR);
  free(garbage);
  free(tok);
}

/* The account phase: PAM_IGNORE without pam_wif's auth (H6); the mapping
 * is re-read, so a change between auth and account is honoured. */
static void test_account_phase(void **state) {
  char *tok = token(ISS_U, "alice", "");
  struct conv c;
  struct pam_testcase tests[] = {
      pam_test(PAMTEST_AUTHENTICATE, PAM_SUCCESS),
      pam_test(PAMTEST_KEEPHANDLE, PAM_SUCCESS),
  };
  pam_handle_t *ph;

  (void)state;
  memset(&c, 0, sizeof(c));
  assert_int_equal(run("wif_account_permit", "nobody", &c, PAMTEST_ACCOUNT),
                   PAM_SUCCESS);
  /* Only ignores in a stack: libpam denies. */
  assert_int_equal(run("wif_account_only", "nobody", &c, PAMTEST_ACCOUNT),
                   PAM_PERM_DENIED);
  c.answers[0] = tok;
  c.n = 1;
  assert_int_equal(RUN_CONV("wif", "nobody", &c, tests), PAMTEST_ERR_OK);
  ph = tests[1].case_out.ph;
  assert_non_null(ph);
  assert_int_equal(pam_acct_mgmt(ph, 0), PAM_SUCCESS);
  write_file(MAP, "users user bob nobody\n", 0644);
  assert_int_equal(pam_acct_mgmt(ph, 0), PAM_AUTH_ERR);
  write_file(MAP, MAP_TEXT, 0644);
  assert_int_equal(pam_acct_mgmt(ph, 0), PAM_SUCCESS);
  /* G6: PAM_USER changed after auth. */
  assert_int_equal(pam_set_item(ph, PAM_USER, "daemon"), PAM_SUCCESS);
  assert_int_equal(pam_acct_mgmt(ph, 0), PAM_AUTH_ERR);
  assert_int_equal(pam_set_item(ph, PAM_USER, "nobody"), PAM_SUCCESS);
  /* Tampered environment. */
  assert_int_equal(pam_putenv(ph, "WIF_EXPIRES=1"), PAM_SUCCESS);
  assert_int_equal(pam_acct_mgmt(ph, 0), PAM_AUTH_ERR);
  assert_int_equal(pam_putenv(ph, "WIF_EXPIRES"), PAM_SUCCESS);
  assert_int_equal(pam_acct_mgmt(ph, 0), PAM_AUTH_ERR);
  /* A failed second authentication (the conversation has no more
   * answers) clears the grant. */
  assert_int_equal(pam_authenticate(ph, 0), PAM_CONV_ERR);
  assert_null(pam_getenv(ph, "WIF_PROVIDER"));
  assert_int_equal(pam_end(ph, PAM_SUCCESS), PAM_SUCCESS);
  free(tok);
}

/* accounts=names: PAM_USER is a database role with no passwd entry; the
 * map must name it exactly, root stays refused, the account phase agrees,
 * and a misspelt value refuses to run. */
static void test_accounts_names(void **state) {
  char *tok = token(ISS_U, "dbrole", "");
  char *alice = token(ISS_U, "alice", "");
  char *root = token(ISS_U, "rooty", "");
  struct conv c;
  struct pam_testcase tests[] = {
      pam_test(PAMTEST_AUTHENTICATE, PAM_SUCCESS),
      pam_test(PAMTEST_ACCOUNT, PAM_SUCCESS),
  };

  (void)state;
  /* The default looks the role up in passwd and refuses it. */
  assert_int_equal(auth("wif", "wif-no-such-role", tok), PAM_AUTH_ERR);
  memset(&c, 0, sizeof(c));
  c.answers[0] = tok;
  c.n = 1;
  assert_int_equal(RUN_CONV("wif_names", "wif-no-such-role", &c, tests),
                   PAMTEST_ERR_OK);
  assert_int_equal(auth("wif_names", "nobody", alice), PAM_SUCCESS);
  assert_int_equal(auth("wif_names", "nobody", tok), PAM_AUTH_ERR);
  assert_int_equal(auth("wif_names", "wif-no-such-rol", tok), PAM_AUTH_ERR);
  assert_int_equal(auth("wif_names", "wif-no-such-role", alice), PAM_AUTH_ERR);
  assert_int_equal(auth("wif_names", "root", root), PAM_AUTH_ERR);
  assert_int_equal(auth("wif_names", "wif-no-such-role", "not a token"),
                   PAM_AUTH_ERR);
  assert_int_equal(auth("wif_badaccounts", "nobody", alice), PAM_SERVICE_ERR);
  free(tok);
  free(alice);
  free(root);
}

/* one_time = yes: a token logs in once; a replay is PAM_AUTH_ERR. */
static void test_one_time(void **state) {
  char extra[128];
  char *tok, *bare, *store = NULL, *lock = NULL;
  struct wif_config *cfg = NULL;
  struct wif_error err;
  int fd;

  (void)state;
  assert_int_equal(system("rm -rf '" PAM_TEST_ETC "/replay-cache'"), 0);
  write_file(CONF,
             "[global]\n"
             "map_file = " MAP "\n"
             "cache_dir = " PAM_TEST_ETC "/replay-cache\n"
             "[provider users]\n"
             "issuer = " ISS_U "\n"
             "audience = " AUD "\n"
             "jwks_file = " JWKS "\n"
             "one_time = yes\n"
             "[provider groups]\n"
             "issuer = " ISS_G "\n"
             "audience = " AUD "\n"
             "authorization = group\n"
             "jwks_file = " JWKS "\n",
             0644);
  snprintf(extra, sizeof(extra), ",\"jti\":\"pam-%ld-%ld\"", (long)getpid(),
           (long)time(NULL));
  tok = token(ISS_U, "alice", extra);
  bare = token(ISS_U, "alice", "");
  assert_int_equal(auth("wif", "nobody", bare), PAM_AUTH_ERR);
  /* Refused by the mapping: the token keeps its one use. */
  assert_int_equal(auth("wif", "daemon", tok), PAM_AUTH_ERR);
  assert_int_equal(auth("wif", "nobody", tok), PAM_SUCCESS);
  assert_int_equal(auth("wif", "nobody", tok), PAM_AUTH_ERR);
  /* The other provider is not one_time: its tokens need no jti. */
  free(bare);
  bare = token(ISS_G, "svc", ",\"groups\":[\"g-admins\"]");
  assert_int_equal(auth("wif", "daemon", bare), PAM_SUCCESS);
  assert_int_equal(auth("wif", "daemon", bare), PAM_SUCCESS);
  /* A damaged store refuses every one-time login, and stays damaged. */
  assert_int_equal(wif_config_load(CONF, geteuid(), &cfg, &err), WIF_OK);
  assert_int_equal(
      wif_replay_paths(cfg->cache_dir, &cfg->providers[0], &store, &lock, &err),
      WIF_OK);
  fd = open(store, O_WRONLY | O_TRUNC);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, "junk", 4), 4);
  close(fd);
  free(tok);
  snprintf(extra, sizeof(extra), ",\"jti\":\"pam-new-%ld\"", (long)getpid());
  tok = token(ISS_U, "alice", extra);
  assert_int_equal(auth("wif", "nobody", tok), PAM_SERVICE_ERR);
  assert_int_equal(auth("wif", "nobody", tok), PAM_SERVICE_ERR);
  assert_int_equal(unlink(store), 0);
  assert_int_equal(auth("wif", "nobody", tok), PAM_SUCCESS);
  assert_int_equal(system("rm -rf '" PAM_TEST_ETC "/replay-cache'"), 0);
  wif_config_free(cfg);
  free(store);
  free(lock);
  free(tok);
  free(bare);
}

/* The log_file's text so far; the file is emptied for the next check. */
static char *log_take(void) {
  char *text = wif_test_read(LOG_FILE, NULL);

  assert_int_equal(truncate(LOG_FILE, 0), 0);
  return text;
}

static void assert_logged(const char *needle) {
  char *text = log_take();

  if (strstr(text, needle) == NULL)
    fail_msg("log_file lacks \"%s\":\n%s", needle, text);
  free(text);
}

static long long env_number(pam_handle_t *ph, const char *name) {
  const char *v = pam_getenv(ph, name);

  assert_non_null(v);
  return atoll(v);
}

/* Authenticates tok on service in a kept handle. */
static pam_handle_t *auth_keep(const char *service, const char *tok,
                               struct conv *c) {
  struct pam_testcase tests[] = {
      pam_test(PAMTEST_AUTHENTICATE, PAM_SUCCESS),
      pam_test(PAMTEST_KEEPHANDLE, PAM_SUCCESS),
  };

  memset(c, 0, sizeof(*c));
  c->answers[0] = tok;
  c->n = 1;
  assert_int_equal(RUN_CONV(service, "nobody", c, tests), PAMTEST_ERR_OK);
  assert_non_null(tests[1].case_out.ph);
  return tests[1].case_out.ph;
}

/* A new handle (sshd's other process) holding env, a NULL-ended list of
 * "NAME=value". */
static pam_handle_t *handle_with(const char *service, char **env,
                                 struct conv *c) {
  struct pam_conv pc = {conv_fn, c};
  pam_handle_t *ph = NULL;

  assert_int_equal(pam_start(service, "nobody", &pc, &ph), PAM_SUCCESS);
  for (size_t i = 0; env != NULL && env[i] != NULL; i++)
    assert_int_equal(pam_putenv(ph, env[i]), PAM_SUCCESS);
  return ph;
}

/* The WIF_* variables auth left, with name's value replaced by value
 * (NULL: dropped). */
static char **wif_env(pam_handle_t *ph, const char *name, const char *value) {
  static const char *const names[] = {"WIF_PROVIDER", "WIF_SUBJECT",
                                      "WIF_ISSUER",   "WIF_EXPIRES",
                                      "WIF_GRANT",    "WIF_BINDING"};
  char **env = calloc(8, sizeof(*env));
  size_t n = 0;

  assert_non_null(env);
  for (size_t i = 0; i < 6; i++) {
    const char *v = pam_getenv(ph, names[i]);

    if (name != NULL && strcmp(names[i], name) == 0)
      v = value;
    if (v != NULL)
      assert_true(asprintf(&env[n++], "%s=%s", names[i], v) > 0);
  }
  return env;
}

static void env_free(char **env) {
  for (size_t i = 0; env[i] != NULL; i++)
    free(env[i]);
  free(env);
}

/* Account (and session) in a new handle holding env: sshd's shape. */
static int account_elsewhere(char **env, bool *tag_left, long long *runtime) {
  struct conv c;
  pam_handle_t *ph;
  int ret;

  memset(&c, 0, sizeof(c));
  ph = handle_with("wif_log", env, &c);
  ret = pam_acct_mgmt(ph, 0);
  *tag_left = pam_getenv(ph, "WIF_BINDING") != NULL;
  if (runtime != NULL) {
    assert_int_equal(pam_open_session(ph, 0), PAM_SUCCESS);
    *runtime = env_number(ph, RUNTIME);
    assert_null(pam_getenv(ph, "WIF_BINDING"));
  }
  assert_int_equal(pam_end(ph, PAM_SUCCESS), PAM_SUCCESS);
  return ret;
}

/* sshd runs account in another process: the environment carries the
 * grant, and only the binding makes it count. */
static void test_binding_across_processes(void **state) {
  int64_t minted = (int64_t)time(NULL);
  char *tok = token(ISS_U, "alice", "");
  struct conv c;
  pam_handle_t *auth_ph;
  char **env;
  char *tag;
  bool tag_left = true;
  long long runtime = 0;

  (void)state;
  (void)unlink(LOG_FILE);
  auth_ph = auth_keep("wif_log", tok, &c);
  assert_non_null(pam_getenv(auth_ph, "WIF_BINDING"));
  env = wif_env(auth_ph, NULL, NULL);
  assert_int_equal(account_elsewhere(env, &tag_left, &runtime), PAM_SUCCESS);
  assert_false(tag_left);
  /* Until exp, minted 600 s ahead: less by the time this run took. */
  assert_true(runtime >= 600 - ((int64_t)time(NULL) - minted) &&
              runtime <= 600);
  env_free(env);
  assert_logged("account outcome=success reason=OK");

  /* A never-expiring WIF_EXPIRES under the genuine tag. */
  env = wif_env(auth_ph, "WIF_EXPIRES", "9223372036854775807");
  assert_int_equal(account_elsewhere(env, &tag_left, NULL), PAM_AUTH_ERR);
  assert_false(tag_left);
  env_free(env);
  assert_logged("account outcome=denied reason=TAMPERED");
  /* Another identity's grant under the genuine tag. */
  env = wif_env(auth_ph, "WIF_GRANT", "user:bob");
  assert_int_equal(account_elsewhere(env, &tag_left, NULL), PAM_AUTH_ERR);
  env_free(env);
  assert_logged("reason=TAMPERED");
  /* One hex digit of the tag changed. */
  tag = strdup(pam_getenv(auth_ph, "WIF_BINDING"));
  assert_non_null(tag);
  tag[strlen(tag) - 1] = tag[strlen(tag) - 1] == '0' ? '1' : '0';
  env = wif_env(auth_ph, "WIF_BINDING", tag);
  assert_int_equal(account_elsewhere(env, &tag_left, NULL), PAM_AUTH_ERR);
  env_free(env);
  free(tag);
  assert_logged("reason=TAMPERED");
  /* No tag: values a user set (pam_env user_readenv), never expiring. */
  env = wif_env(auth_ph, "WIF_BINDING", NULL);
  free(env[3]);
  assert_true(asprintf(&env[3], "WIF_EXPIRES=9223372036854775807") > 0);
  assert_int_equal(account_elsewhere(env, &tag_left, NULL), PAM_AUTH_ERR);
  env_free(env);
  assert_logged("account outcome=denied reason=UNBOUND");
  /* Only a forged WIF_EXPIRES: still pam_wif's business, and refused. */
  {
    char *one[] = {wif_test_str("WIF_EXPIRES=9223372036854775807"), NULL};

    assert_int_equal(account_elsewhere(one, &tag_left, NULL), PAM_AUTH_ERR);
    assert_logged("reason=UNBOUND");
  }
  assert_int_equal(pam_end(auth_ph, PAM_SUCCESS), PAM_SUCCESS);
  free(tok);
}

/* One process (su, sudo, PostgreSQL): auth's PAM data is the grant, and
 * the environment must still equal it. */
static void test_binding_one_process(void **state) {
  int64_t minted = (int64_t)time(NULL);
  char *tok = token(ISS_U, "alice", "");
  struct conv c;
  pam_handle_t *ph;

  (void)state;
  ph = auth_keep("wif_log", tok, &c);
  assert_int_equal(pam_acct_mgmt(ph, 0), PAM_SUCCESS);
  assert_null(pam_getenv(ph, "WIF_BINDING"));
  assert_int_equal(pam_acct_mgmt(ph, 0), PAM_SUCCESS);
  assert_int_equal(pam_putenv(ph, "WIF_EXPIRES=9223372036854775807"),
                   PAM_SUCCESS);
  assert_int_equal(pam_acct_mgmt(ph, 0), PAM_AUTH_ERR);
  assert_logged("account outcome=denied reason=TAMPERED");
  /* session_max=token takes the bound exp, never the forged one. */
  assert_int_equal(pam_open_session(ph, 0), PAM_SUCCESS);
  assert_true(env_number(ph, RUNTIME) >= 600 - ((int64_t)time(NULL) - minted) &&
              env_number(ph, RUNTIME) <= 600);
  assert_int_equal(pam_end(ph, PAM_SUCCESS), PAM_SUCCESS);
  free(tok);
}

/* session_max: a token about to expire gets a minute; SECONDS as given;
 * a session whose grant was never verified in this process is refused;
 * a bad value is a configuration error. */
static void test_session_max(void **state) {
  int64_t now = (int64_t)time(NULL);
  char *soon = wif_test_signf("rs256", "RS256",
                              "{\"iss\":\"" ISS_U "\",\"aud\":\"" AUD
                              "\",\"sub\":\"alice\","
                              "\"exp\":%lld,\"iat\":%lld}",
                              (long long)now + 10, (long long)now - 5);
  char *tok = token(ISS_U, "alice", "");
  char *forged[] = {wif_test_str("WIF_PROVIDER=users"),
                    wif_test_str("WIF_EXPIRES=9223372036854775807"), NULL};
  struct conv c;
  pam_handle_t *ph;

  (void)state;
  ph = auth_keep("wif_log", soon, &c);
  assert_int_equal(pam_acct_mgmt(ph, 0), PAM_SUCCESS);
  assert_int_equal(pam_open_session(ph, 0), PAM_SUCCESS);
  assert_int_equal(env_number(ph, RUNTIME), 60);
  assert_int_equal(pam_end(ph, PAM_SUCCESS), PAM_SUCCESS);
  ph = auth_keep("wif_session_fixed", tok, &c);
  assert_int_equal(pam_acct_mgmt(ph, 0), PAM_SUCCESS);
  assert_int_equal(pam_open_session(ph, 0), PAM_SUCCESS);
  assert_int_equal(env_number(ph, RUNTIME), 3600);
  assert_int_equal(pam_end(ph, PAM_SUCCESS), PAM_SUCCESS);
  /* Forged values and no account phase in this process. */
  memset(&c, 0, sizeof(c));
  ph = handle_with("wif_log", forged, &c);
  assert_int_equal(pam_open_session(ph, 0), PAM_SESSION_ERR);
  assert_null(pam_getenv(ph, RUNTIME));
  assert_int_equal(pam_end(ph, PAM_SUCCESS), PAM_SUCCESS);
  assert_logged("session outcome=denied reason=UNBOUND");
  /* Not authenticated by pam_wif at all: nothing to limit (PAM_IGNORE,
   * which libpam turns into a denial in a stack of nothing else). */
  ph = handle_with("wif_log", NULL, &c);
  assert_int_equal(pam_open_session(ph, 0), PAM_PERM_DENIED);
  assert_null(pam_getenv(ph, RUNTIME));
  assert_int_equal(pam_end(ph, PAM_SUCCESS), PAM_SUCCESS);
  assert_int_equal(run("wif_session_bad", "nobody", &c, PAMTEST_OPEN_SESSION),
                   PAM_SERVICE_ERR);
  free(soon);
  free(tok);
}

/* Refusals say what happened (and log_file gets them, created 0600 even
 * under umask 000). */
static void test_decision_lines(void **state) {
  char *tok = token_of_length(2000);
  char *garbage;
  struct conv c;
  struct stat st;
  mode_t old;

  (void)state;
  (void)unlink(LOG_FILE);
  old = umask(0);
  assert_int_equal(auth("wif_log_badarg", "nobody", tok), PAM_SERVICE_ERR);
  umask(old);
  assert_int_equal(stat(LOG_FILE, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0600);
  assert_logged("auth outcome=error reason=CONFIG_INVALID account=\"nobody\" "
                "-- unknown or invalid module argument \"bogus\"");
  memset(&c, 0, sizeof(c));
  assert_int_equal(
      run("wif_log_first_pass", "nobody", &c, PAMTEST_AUTHENTICATE),
      PAM_AUTH_ERR);
  assert_logged("reason=TOKEN_UNAVAILABLE account=\"nobody\" -- "
                "use_first_pass: no earlier module set PAM_AUTHTOK");
  /* ssh and pam_exec cut answers at 1023 and 511 bytes. */
  tok[1023] = '\0';
  assert_int_equal(auth("wif_log", "nobody", tok), PAM_AUTH_ERR);
  assert_logged("reason=MALFORMED account=\"nobody\" -- the token is exactly "
                "1023 bytes and does not parse: it was probably truncated");
  tok[511] = '\0';
  assert_int_equal(auth("wif_log", "nobody", tok), PAM_AUTH_ERR);
  assert_logged("send it in parts with `wifctl askpass` or `wifctl ssh`");
  tok[500] = '\0';
  assert_int_equal(auth("wif_log", "nobody", tok), PAM_AUTH_ERR);
  {
    char *text = log_take();

    assert_null(strstr(text, "truncated"));
    assert_non_null(strstr(text, "reason=MALFORMED"));
    free(text);
  }
  /* sshd's stand-in answer for an unknown account. */
  garbage = calloc(1, 1024);
  assert_non_null(garbage);
  for (size_t i = 0; i < 1000; i++)
    garbage[i] = "\b\n\r\177INCORRECT"[i % 13];
  assert_int_equal(auth("wif_log", "wif-no-such-user", garbage), PAM_AUTH_ERR);
  assert_logged("auth outcome=denied reason=UNKNOWN_ACCOUNT "
                "account=\"wif-no-such-user\"");
  free(garbage);
  free(tok);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_user_mapped, setup),
      cmocka_unit_test_setup(test_group_mapped, setup),
      cmocka_unit_test_setup(test_failure_codes, setup),
      cmocka_unit_test_setup(test_insecure_files, setup),
      cmocka_unit_test_setup(test_stacks, setup),
      cmocka_unit_test_setup(test_parts, setup),
      cmocka_unit_test_setup(test_size_limit, setup),
      cmocka_unit_test_setup(test_first_pass, setup),
      cmocka_unit_test_setup(test_conversation_failure, setup),
      cmocka_unit_test_setup(test_sshd_garbage, setup),
      cmocka_unit_test_setup(test_account_phase, setup),
      cmocka_unit_test_setup(test_accounts_names, setup),
      cmocka_unit_test_setup(test_one_time, setup),
      cmocka_unit_test_setup(test_binding_across_processes, setup),
      cmocka_unit_test_setup(test_binding_one_process, setup),
      cmocka_unit_test_setup(test_session_max, setup),
      cmocka_unit_test_setup(test_decision_lines, setup),
  };

  /* Without pam_wrapper these would run against /etc/pam.d. */
  if (getenv("PAM_WRAPPER") == NULL) {
    fprintf(stderr, "test_pam: run under pam_wrapper (see CMakeLists.txt)\n");
    return 77;
  }
  return cmocka_run_group_tests(tests, NULL, NULL);
}
