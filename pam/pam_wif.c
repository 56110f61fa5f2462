/* pam_wif.so: arguments, conversation, PAM codes and environment over the
 * core decision (common/auth.h). */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#define PAM_SM_AUTH
#define PAM_SM_ACCOUNT
#define PAM_SM_SESSION
/* The entry points are the only symbols with default visibility; the
 * version script (pam_wif.map) makes sure nothing else is exported. */
#pragma GCC visibility push(default)
#include <security/pam_modules.h>
#pragma GCC visibility pop
#include <security/pam_ext.h>

#include "auth.h"
#include "helper.h"
#include "jwt.h"
#include "prompt.h"
#include "source.h"

static const char *const env_names[] = {
    "WIF_PROVIDER", "WIF_SUBJECT", "WIF_ISSUER", "WIF_EXPIRES", "WIF_GRANT"};

struct args {
  const char *config;
  bool debug;
  bool use_first_pass;
  bool try_first_pass;
  enum wif_accounts accounts; /* what PAM_USER names */
  /* Host identity mode: the token comes from the host's own workload
   * identity instead of the conversation. */
  const char *source;
  const char *audience;
  const char *client_id;
  const char *endpoint;
  const char *helper; /* the fetch helper; NULL: WIF_HELPER_PATH */
};

/* A token being read; buf holds size bytes, all wiped on clear. */
struct token {
  char *buf;
  size_t len;
  size_t size;
};

/* Why token intake failed, for the decision's log line. */
struct intake_failure {
  wif_rc rc;
  char message[WIF_ERROR_MSG_MAX];
};

static void log_syslog(void *ctx, int priority, const char *msg) {
  /* pam_syslog logs to LOG_AUTHPRIV, prefixed "pam_wif(service:type)". */
  pam_syslog((const pam_handle_t *)ctx, priority, "%s", msg);
}

/* The host identity arguments go together, and only with the sources a
 * host can have (DESIGN.md): github and client-credentials need secrets
 * or an environment that a PAM stack must not take from its caller. */
static int check_source_args(pam_handle_t *pamh, const struct args *a) {
  struct wif_source_opts o;

  if (a->source == NULL) {
    if (a->audience == NULL && a->client_id == NULL && a->endpoint == NULL)
      return PAM_SUCCESS;
    pam_syslog(pamh, LOG_ERR,
               "audience=, client_id= and endpoint= need source=");
    return PAM_SERVICE_ERR;
  }
  wif_source_opts_init(&o);
  if (wif_source_parse(a->source, &o, NULL) != WIF_OK ||
      o.kind == WIF_SOURCE_GITHUB || o.kind == WIF_SOURCE_CLIENT_CREDENTIALS) {
    char shown[96];

    wif_log_sanitize(a->source, strlen(a->source), shown, sizeof(shown));
    pam_syslog(pamh, LOG_ERR,
               "source=%s: use azure, gcp, k8s, file:PATH or exec:PATH", shown);
    return PAM_SERVICE_ERR;
  }
  if ((o.kind == WIF_SOURCE_AZURE || o.kind == WIF_SOURCE_GCP) &&
      a->audience == NULL) {
    pam_syslog(pamh, LOG_ERR, "source=%s needs audience=", a->source);
    return PAM_SERVICE_ERR;
  }
  if (a->use_first_pass || a->try_first_pass) {
    pam_syslog(pamh, LOG_ERR,
               "source= excludes use_first_pass and try_first_pass");
    return PAM_SERVICE_ERR;
  }
  return PAM_SUCCESS;
}

static int parse_args(pam_handle_t *pamh, int argc, const char **argv,
                      struct args *a) {
  memset(a, 0, sizeof(*a));
  for (int i = 0; i < argc; i++) {
    const char *arg = argv[i];

    if (strncmp(arg, "config=", 7) == 0 && arg[7] == '/') {
      a->config = arg + 7;
    } else if (strcmp(arg, "debug") == 0) {
      a->debug = true;
    } else if (strcmp(arg, "use_first_pass") == 0) {
      a->use_first_pass = true;
    } else if (strcmp(arg, "try_first_pass") == 0) {
      a->try_first_pass = true;
    } else if (strcmp(arg, "accounts=unix") == 0 ||
               strcmp(arg, "accounts=names") == 0) {
      a->accounts = arg[9] == 'n' ? WIF_ACCOUNTS_NAMES : WIF_ACCOUNTS_UNIX;
    } else if (strncmp(arg, "source=", 7) == 0 && arg[7] != '\0') {
      a->source = arg + 7;
    } else if (strncmp(arg, "audience=", 9) == 0 && arg[9] != '\0') {
      a->audience = arg + 9;
    } else if (strncmp(arg, "client_id=", 10) == 0 && arg[10] != '\0') {
      a->client_id = arg + 10;
    } else if (strncmp(arg, "endpoint=", 9) == 0 && arg[9] != '\0') {
      a->endpoint = arg + 9;
    } else if (strncmp(arg, "helper=", 7) == 0 && arg[7] == '/') {
      a->helper = arg + 7;
    } else {
      char shown[96];

      /* A typo must never weaken anything: refuse to run (H5). */
      wif_log_sanitize(arg, strlen(arg), shown, sizeof(shown));
      pam_syslog(pamh, LOG_ERR, "unknown or invalid argument \"%s\"%s", shown,
                 strncmp(arg, "config=", 7) == 0 ||
                         strncmp(arg, "helper=", 7) == 0
                     ? " (needs an absolute path)"
                     : "");
      return PAM_SERVICE_ERR;
    }
  }
  if (a->use_first_pass && a->try_first_pass) {
    pam_syslog(pamh, LOG_ERR,
               "use_first_pass and try_first_pass exclude "
               "each other");
    return PAM_SERVICE_ERR;
  }
  return check_source_args(pamh, a);
}

static void make_params(pam_handle_t *pamh, const struct args *a,
                        const char *service, struct wif_log *log,
                        struct wif_auth_params *p) {
  log->fn = log_syslog;
  log->ctx = pamh;
  log->debug = a->debug;
  memset(p, 0, sizeof(*p));
  p->config_path = a->config;
  /* Root under sshd, su and sudo. A PAM application that does not run as
   * root could decide the outcome itself anyway, so trusting its own
   * files as well as root's adds nothing (see README). */
  p->owner = geteuid();
  p->log = log;
  p->log_decision = true;
  p->service = service;
  p->now = (int64_t)time(NULL);
  p->helper = a->helper != NULL ? a->helper : WIF_HELPER_PATH;
  p->accounts = a->accounts;
}

/* Core result -> PAM code (DESIGN.md, "The PAM module"). */
static int pam_code(wif_rc rc) {
  switch (wif_rc_classify(rc)) {
  case WIF_CLASS_OK:
    return rc == WIF_OK ? PAM_SUCCESS : PAM_SYSTEM_ERR;
  case WIF_CLASS_INVALID:
    return PAM_AUTH_ERR;
  case WIF_CLASS_UNAVAILABLE:
    return PAM_AUTHINFO_UNAVAIL;
  case WIF_CLASS_CONFIG:
    return PAM_SERVICE_ERR;
  case WIF_CLASS_SYSTEM:
    break;
  }
  return rc == WIF_E_NOMEM ? PAM_BUF_ERR : PAM_SYSTEM_ERR;
}

static void wipe_string(char *s) {
  if (s != NULL) {
    OPENSSL_cleanse(s, strlen(s));
    free(s);
  }
}

static void token_clear(struct token *t) {
  if (t->buf != NULL) {
    OPENSSL_cleanse(t->buf, t->size);
    free(t->buf);
  }
  memset(t, 0, sizeof(*t));
}

static int fail_intake(struct intake_failure *why, wif_rc rc, int code,
                       const char *message) {
  why->rc = rc;
  snprintf(why->message, sizeof(why->message), "%s", message);
  return code;
}

/* One echo-off prompt. *out is a new string to wipe and free. Any failure
 * of the conversation, including a NULL answer, is PAM_CONV_ERR (H8). */
static int converse(pam_handle_t *pamh, const char *prompt, char **out) {
  const void *item = NULL;
  const struct pam_conv *conv;
  struct pam_message msg;
  const struct pam_message *msgp = &msg;
  struct pam_response *resp = NULL;
  int ret;

  *out = NULL;
  ret = pam_get_item(pamh, PAM_CONV, &item);
  conv = item;
  if (ret != PAM_SUCCESS || conv == NULL || conv->conv == NULL)
    return PAM_CONV_ERR;
  msg.msg_style = PAM_PROMPT_ECHO_OFF;
  msg.msg = prompt;
  ret = conv->conv(1, &msgp, &resp, conv->appdata_ptr);
  /* On failure the application owns whatever it left in resp. */
  if (ret != PAM_SUCCESS)
    return ret == PAM_BUF_ERR ? PAM_BUF_ERR : PAM_CONV_ERR;
  if (resp == NULL)
    return PAM_CONV_ERR;
  *out = resp[0].resp;
  free(resp);
  return *out != NULL ? PAM_SUCCESS : PAM_CONV_ERR;
}

/* The prompt protocol (common/prompt.h): echo-off prompts until an answer
 * without a trailing `\`. */
static int prompt_token(pam_handle_t *pamh, struct token *t,
                        struct intake_failure *why, unsigned *parts) {
  struct wif_prompt_reader r;
  struct wif_error err;
  char prompt[64];
  char *answer = NULL;
  wif_rc rc;
  int ret = PAM_AUTH_ERR;

  if (wif_prompt_reader_init(&r) != WIF_OK)
    return fail_intake(why, WIF_E_NOMEM, PAM_BUF_ERR, "out of memory");
  while (!r.done) {
    wif_prompt_reader_prompt(&r, prompt, sizeof(prompt));
    ret = converse(pamh, prompt, &answer);
    if (ret != PAM_SUCCESS) {
      ret = fail_intake(why, WIF_E_TOKEN_UNAVAILABLE, ret,
                        "the conversation failed");
      goto out;
    }
    rc = wif_prompt_reader_add(&r, answer, &err);
    wipe_string(answer);
    answer = NULL;
    if (rc != WIF_OK) {
      ret = fail_intake(why, rc, pam_code(rc), err.msg);
      goto out;
    }
  }
  /* The token moves to t; the reader's buffer is wiped by token_clear. */
  t->buf = r.buf;
  t->len = r.len;
  t->size = WIF_TOKEN_MAX + 1;
  *parts = r.parts;
  memset(&r, 0, sizeof(r));
  ret = PAM_SUCCESS;
out:
  wif_prompt_reader_clear(&r);
  return ret;
}

/* A token left by an earlier module (use_first_pass, try_first_pass):
 * PAM_SUCCESS with a copy, PAM_AUTHTOK_RECOVERY_ERR when there is none. */
static int first_pass_token(pam_handle_t *pamh, struct token *t,
                            struct intake_failure *why) {
  const void *item = NULL;
  size_t n;

  if (pam_get_item(pamh, PAM_AUTHTOK, &item) != PAM_SUCCESS || item == NULL)
    return PAM_AUTHTOK_RECOVERY_ERR;
  n = strnlen(item, WIF_TOKEN_MAX + 1);
  if (n > WIF_TOKEN_MAX)
    return fail_intake(why, WIF_E_TOO_LARGE, PAM_AUTH_ERR,
                       "PAM_AUTHTOK is longer than 16384 bytes");
  t->size = n + 1;
  if ((t->buf = malloc(t->size)) == NULL)
    return fail_intake(why, WIF_E_NOMEM, PAM_BUF_ERR, "out of memory");
  memcpy(t->buf, item, n);
  t->buf[n] = '\0';
  t->len = n;
  return PAM_SUCCESS;
}

/*
 * Host identity mode: the host's own token. Token files are read here
 * under the trusted-file rule; metadata services and exec: programs are
 * reached through the fetch helper, so no network code and no program of
 * root's runs in this process or with its caller's state. Nothing comes
 * from the environment (whoever runs su controls it). The token is
 * validated like any other (K5).
 */
static int source_token(const struct args *a, const struct wif_log *log,
                        struct token *t, struct intake_failure *why) {
  struct wif_source_opts o;
  struct wif_error err;
  char *token = NULL;
  int64_t exp = 0;
  wif_rc rc;
  int ret;

  wif_source_opts_init(&o);
  rc = wif_source_parse(a->source, &o, &err);
  if (rc == WIF_OK && (o.kind == WIF_SOURCE_FILE || o.kind == WIF_SOURCE_K8S)) {
    o.trusted = true;
    rc = wif_source_file_fetch(&o, log, &token, &exp, &err);
  } else if (rc == WIF_OK) {
    struct wif_helper_token_request req = {a->source, a->audience, a->client_id,
                                           a->endpoint};

    rc = wif_helper_token(a->helper, &req,
                          WIF_HELPER_TOKEN_BUDGET_MS + WIF_HELPER_START_MS, log,
                          &token, &exp, &err);
  }
  if (rc != WIF_OK) {
    ret = pam_code(rc);
    /* A source that cannot deliver is unavailable, not a bad token. */
    if (ret == PAM_AUTH_ERR)
      ret = PAM_AUTHINFO_UNAVAIL;
    return fail_intake(why, rc, ret, err.msg);
  }
  t->len = strlen(token);
  t->size = t->len + 1;
  t->buf = token; /* NUL-terminated, wiped by token_clear */
  wif_log(log, LOG_DEBUG, "source %s delivered a %zu-byte token",
          wif_source_kind_name(o.kind), t->len);
  return PAM_SUCCESS;
}

/* Token intake: the one place a token enters the module. */
static int obtain_token(pam_handle_t *pamh, const struct args *a,
                        const struct wif_log *log, struct token *t,
                        struct intake_failure *why) {
  unsigned parts = 0;
  int ret;

  if (a->source != NULL)
    return source_token(a, log, t, why);
  if (a->use_first_pass || a->try_first_pass) {
    ret = first_pass_token(pamh, t, why);
    if (ret == PAM_SUCCESS) {
      wif_log(log, LOG_DEBUG, "using the %zu-byte PAM_AUTHTOK", t->len);
      return ret;
    }
    if (ret != PAM_AUTHTOK_RECOVERY_ERR || a->use_first_pass)
      return ret == PAM_AUTHTOK_RECOVERY_ERR
                 ? fail_intake(why, WIF_E_MALFORMED, PAM_AUTH_ERR,
                               "use_first_pass: no PAM_AUTHTOK")
                 : ret;
  }
  ret = prompt_token(pamh, t, why, &parts);
  if (ret == PAM_SUCCESS)
    wif_log(log, LOG_DEBUG, "read a %zu-byte token in %u part(s)", t->len,
            parts);
  return ret;
}

/* Drops what an earlier attempt (or anyone else) left in WIF_*, so the
 * account phase cannot act on a stale grant. libpam logs an error for
 * deleting an absent variable, hence the pam_getenv first. */
static void clear_env(pam_handle_t *pamh) {
  for (size_t i = 0; i < sizeof(env_names) / sizeof(env_names[0]); i++)
    if (pam_getenv(pamh, env_names[i]) != NULL)
      (void)pam_putenv(pamh, env_names[i]);
}

static int put_env(pam_handle_t *pamh, const char *name, const char *value) {
  size_t size = strlen(name) + strlen(value) + 2;
  char *s = malloc(size);
  int ret;

  if (s == NULL)
    return PAM_BUF_ERR;
  snprintf(s, size, "%s=%s", name, value);
  ret = pam_putenv(pamh, s); /* copies */
  free(s);
  return ret;
}

/* What the account phase (perhaps in another process) reads back. */
static int set_env(pam_handle_t *pamh, const struct wif_verdict *v) {
  char enc[4 * 256 + 16];
  char grant[WIF_AUTH_GRANT_MAX];
  char num[32];
  int ret = PAM_SYSTEM_ERR;

  if (!wif_auth_encode(v->subject, v->subject_len, enc, sizeof(enc)))
    return PAM_SYSTEM_ERR;
  if ((ret = put_env(pamh, "WIF_PROVIDER", v->provider)) != PAM_SUCCESS ||
      (ret = put_env(pamh, "WIF_SUBJECT", enc)) != PAM_SUCCESS ||
      (ret = put_env(pamh, "WIF_ISSUER", v->issuer)) != PAM_SUCCESS)
    return ret;
  snprintf(num, sizeof(num), "%" PRId64, v->exp);
  if ((ret = put_env(pamh, "WIF_EXPIRES", num)) != PAM_SUCCESS)
    return ret;
  if (!wif_auth_grant_encode(v->grant_type, v->grant_claim, v->grant_identifier,
                             strlen(v->grant_identifier), grant, sizeof(grant)))
    return PAM_SYSTEM_ERR;
  return put_env(pamh, "WIF_GRANT", grant);
}

/* PAM_USER, or a PAM code (G6). Never PAM_CONV_AGAIN or PAM_INCOMPLETE. */
static int get_account(pam_handle_t *pamh, const char **user) {
  int ret = pam_get_user(pamh, user, NULL);

  if (ret == PAM_SUCCESS)
    return PAM_SUCCESS;
  *user = NULL;
  if (ret == PAM_BUF_ERR || ret == PAM_CONV_ERR || ret == PAM_SYSTEM_ERR)
    return ret;
  return PAM_AUTH_ERR;
}

static int authenticate(pam_handle_t *pamh, const struct args *a) {
  struct wif_log log;
  struct wif_auth_params params;
  struct wif_verdict v;
  struct token t = {NULL, 0, 0};
  struct intake_failure why = {WIF_E_INTERNAL, ""};
  const char *user = NULL;
  int ret = PAM_AUTH_ERR;

  memset(&v, 0, sizeof(v));
  make_params(pamh, a, "auth", &log, &params);
  clear_env(pamh);
  ret = get_account(pamh, &user);
  if (ret != PAM_SUCCESS) {
    wif_auth_reject(&params, NULL, WIF_E_NO_MAPPING, "no PAM user", &v);
    goto out;
  }
  ret = obtain_token(pamh, a, &log, &t, &why);
  if (ret != PAM_SUCCESS) {
    wif_auth_reject(&params, user, why.rc, why.message, &v);
    goto out;
  }
  ret = pam_code(wif_auth_authenticate(&params, user, t.buf, t.len, &v));
  token_clear(&t);
  if (ret == PAM_SUCCESS)
    ret = set_env(pamh, &v);
  if (ret != PAM_SUCCESS)
    clear_env(pamh);
out:
  token_clear(&t);
  wif_verdict_clear(&v);
  return ret;
}

int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc,
                        const char **argv) {
  struct args a;
  int ret = parse_args(pamh, argc, argv, &a);

  (void)flags;
  if (ret != PAM_SUCCESS)
    return ret;
  return authenticate(pamh, &a);
}

int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc,
                     const char **argv) {
  struct args a;
  struct wif_log log;
  struct wif_auth_params params;
  struct wif_auth_grant g;
  struct wif_verdict v;
  const char *user = NULL;
  int ret = parse_args(pamh, argc, argv, &a);

  (void)flags;
  if (ret != PAM_SUCCESS)
    return ret;
  g.provider = pam_getenv(pamh, "WIF_PROVIDER");
  if (g.provider == NULL) {
    /* The one "not applicable" case: another module authenticated. */
    if (a.debug)
      pam_syslog(pamh, LOG_DEBUG, "account: not authenticated by pam_wif");
    return PAM_IGNORE;
  }
  g.issuer = pam_getenv(pamh, "WIF_ISSUER");
  g.expires = pam_getenv(pamh, "WIF_EXPIRES");
  g.grant = pam_getenv(pamh, "WIF_GRANT");
  memset(&v, 0, sizeof(v));
  make_params(pamh, &a, "account", &log, &params);
  ret = get_account(pamh, &user);
  if (ret != PAM_SUCCESS) {
    wif_auth_reject(&params, NULL, WIF_E_NO_MAPPING, "no PAM user", &v);
    wif_verdict_clear(&v);
    return ret;
  }
  ret = pam_code(wif_auth_recheck(&params, user, &g, &v));
  wif_verdict_clear(&v);
  return ret;
}

int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv) {
  struct args a;

  (void)flags;
  return parse_args(pamh, argc, argv, &a);
}

int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc,
                        const char **argv) {
  struct args a;

  (void)flags;
  return parse_args(pamh, argc, argv, &a);
}

int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc,
                         const char **argv) {
  struct args a;

  (void)flags;
  return parse_args(pamh, argc, argv, &a);
}
