/* SPDX-License-Identifier: Apache-2.0 */
/* pam_wif.so: arguments, conversation, PAM codes and environment over the
 * core decision (common/auth.h) and hand-over (common/handover.h). */
#include <errno.h>
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
#include "handover.h"
#include "helper.h"
#include "jwt.h"
#include "logfile.h"
#include "prompt.h"
#include "source.h"
#include "text.h"

/* PAM data: the hand-over auth made (or account verified) in this
 * process. Other modules cannot reach it through the environment. */
#define DATA_HANDOVER "pam_wif.handover"

/* session_max=: pam_systemd (v244 and later) reads this name as PAM data;
 * it is put into the PAM environment as well, where people look. */
#define SESSION_MAX_NAME "systemd.runtime_max_sec"
#define SESSION_MIN_SECONDS 60
#define SESSION_MAX_SECONDS 315360000 /* ten years */

#define SHOWN_MAX 96 /* bytes of an argument quoted in a message */

enum session_max { SESSION_MAX_NONE, SESSION_MAX_TOKEN, SESSION_MAX_FIXED };

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
  const char *helper;   /* the fetch helper; NULL: WIF_HELPER_PATH */
  const char *log_file; /* absolute; decision lines appended */
  enum session_max session_max;
  int64_t session_seconds; /* SESSION_MAX_FIXED */
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

/* Where one entry point's lines go: syslog, and log_file when given. */
struct sink {
  pam_handle_t *pamh;
  int fd;              /* log_file, or -1 */
  const char *service; /* PAM_SERVICE, borrowed; NULL when unknown */
  const char *phase;   /* "auth", "account", "session" */
};

/* One call of an entry point. */
struct phase {
  struct args a;
  struct sink sink;
  struct wif_log log;
  struct wif_auth_params params;
};

static void log_sink(void *ctx, int priority, const char *msg) {
  struct sink *s = ctx;
  char prefix[128];

  /* pam_syslog logs to LOG_AUTHPRIV, prefixed "pam_wif(service:type)". */
  pam_syslog(s->pamh, priority, "%s", msg);
  if (s->fd >= 0) {
    (void)snprintf(prefix, sizeof(prefix), "pam_wif(%s:%s)",
                   s->service != NULL ? s->service : "?", s->phase);
    if (!wif_logfile_write(s->fd, prefix, msg))
      pam_syslog(s->pamh, LOG_WARNING, "cannot write to log_file: %s",
                 strerror(errno));
  }
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

/* SECONDS of session_max=: digits only, 1 to SESSION_MAX_SECONDS. */
static bool parse_seconds(const char *s, int64_t *out) {
  int64_t n = 0;

  if (s[0] == '\0' || strlen(s) > 10)
    return false;
  for (const char *p = s; *p != '\0'; p++) {
    if (*p < '0' || *p > '9')
      return false;
    n = n * 10 + (*p - '0');
  }
  if (n < 1 || n > SESSION_MAX_SECONDS)
    return false;
  *out = n;
  return true;
}

static bool parse_session_max(const char *v, struct args *a) {
  if (strcmp(v, "none") == 0)
    a->session_max = SESSION_MAX_NONE;
  else if (strcmp(v, "token") == 0)
    a->session_max = SESSION_MAX_TOKEN;
  else if (parse_seconds(v, &a->session_seconds))
    a->session_max = SESSION_MAX_FIXED;
  else
    return false;
  return true;
}

/* A value that must not be empty. */
static const char *nonempty(const char *arg, const char *prefix) {
  const char *v = wif_text_skip_prefix(arg, prefix);

  return v != NULL && v[0] != '\0' ? v : NULL;
}

/* One argument into a; false when it is unknown or its value invalid. */
static bool parse_arg(const char *arg, struct args *a) {
  const char *v;

  if ((v = wif_text_skip_prefix(arg, "config=")) != NULL && v[0] == '/')
    a->config = v;
  else if (strcmp(arg, "debug") == 0)
    a->debug = true;
  else if (strcmp(arg, "use_first_pass") == 0)
    a->use_first_pass = true;
  else if (strcmp(arg, "try_first_pass") == 0)
    a->try_first_pass = true;
  else if ((v = nonempty(arg, "source=")) != NULL)
    a->source = v;
  else if ((v = nonempty(arg, "audience=")) != NULL)
    a->audience = v;
  else if ((v = nonempty(arg, "client_id=")) != NULL)
    a->client_id = v;
  else if ((v = nonempty(arg, "endpoint=")) != NULL)
    a->endpoint = v;
  else if ((v = wif_text_skip_prefix(arg, "log_file=")) != NULL && v[0] == '/')
    a->log_file = v;
  else if ((v = wif_text_skip_prefix(arg, "helper=")) != NULL && v[0] == '/')
    a->helper = v;
  else if (strcmp(arg, "accounts=unix") == 0)
    a->accounts = WIF_ACCOUNTS_UNIX;
  else if (strcmp(arg, "accounts=names") == 0)
    a->accounts = WIF_ACCOUNTS_NAMES;
  else if ((v = wif_text_skip_prefix(arg, "session_max=")) != NULL)
    return parse_session_max(v, a);
  else
    return false;
  return true;
}

/* PAM_SUCCESS, or PAM_SERVICE_ERR with the first reason in err: a typo
 * must never weaken anything, so every phase refuses to run. All
 * arguments are read even so, so that log_file= takes that line too. */
static int parse_args(pam_handle_t *pamh, int argc, const char **argv,
                      struct args *a, struct wif_error *err) {
  int ret = PAM_SUCCESS;

  memset(a, 0, sizeof(*a));
  for (int i = 0; i < argc; i++) {
    const char *arg = argv[i];
    const char *hint = "";
    char shown[SHOWN_MAX];

    if (parse_arg(arg, a) || ret != PAM_SUCCESS)
      continue;
    if (wif_text_skip_prefix(arg, "config=") != NULL ||
        wif_text_skip_prefix(arg, "log_file=") != NULL ||
        wif_text_skip_prefix(arg, "helper=") != NULL)
      hint = " (it needs an absolute path)";
    else if (wif_text_skip_prefix(arg, "session_max=") != NULL)
      hint = " (token, none or 1 to 315360000 seconds)";
    wif_log_sanitize(arg, strlen(arg), shown, sizeof(shown));
    wif_error_set(err, WIF_E_CONFIG_INVALID,
                  "unknown or invalid module argument \"%s\"%s", shown, hint);
    ret = PAM_SERVICE_ERR;
  }
  if (ret != PAM_SUCCESS)
    return ret;
  if (a->use_first_pass && a->try_first_pass) {
    wif_error_set(err, WIF_E_CONFIG_INVALID,
                  "use_first_pass and try_first_pass exclude each other");
    return PAM_SERVICE_ERR;
  }
  if (check_source_args(pamh, a) != PAM_SUCCESS) {
    wif_error_set(err, WIF_E_CONFIG_INVALID,
                  "invalid host identity arguments (see the line before)");
    return PAM_SERVICE_ERR;
  }
  return PAM_SUCCESS;
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

/* One decision line for a refusal before the core was asked. */
static void reject(struct phase *c, const char *account, wif_rc rc,
                   const char *message) {
  struct wif_verdict v;

  memset(&v, 0, sizeof(v));
  (void)wif_auth_reject(&c->params, account, rc, message, &v);
  wif_verdict_clear(&v);
}

/*
 * The start of every entry point: arguments, PAM_SERVICE, log_file and
 * the core's parameters. Any failure is a decision line with outcome= and
 * reason= (to syslog, and to log_file once open) and a PAM code.
 */
static int begin(pam_handle_t *pamh, int argc, const char **argv,
                 const char *phase, struct phase *c) {
  struct wif_error err;
  const void *item = NULL;
  int ret;

  memset(c, 0, sizeof(*c));
  wif_error_clear(&err);
  c->sink.pamh = pamh;
  c->sink.fd = -1;
  c->sink.phase = phase;
  ret = parse_args(pamh, argc, argv, &c->a, &err);
  c->log.fn = log_sink;
  c->log.ctx = &c->sink;
  c->log.debug = c->a.debug;
  c->params.config_path = c->a.config;
  /* Root under sshd, su and sudo. A PAM application that does not run as
   * root could decide the outcome itself anyway, so trusting its own
   * files as well as root's adds nothing (see README). */
  c->params.owner = geteuid();
  c->params.log = &c->log;
  c->params.log_decision = true;
  c->params.service = phase;
  c->params.now = (int64_t)time(NULL);
  c->params.helper = c->a.helper != NULL ? c->a.helper : WIF_HELPER_PATH;
  c->params.accounts = c->a.accounts;
  if (pam_get_item(pamh, PAM_SERVICE, &item) == PAM_SUCCESS)
    c->sink.service = item;
  if (c->a.log_file != NULL) {
    struct wif_error open_err;
    wif_rc rc = wif_logfile_open(c->a.log_file, c->params.owner, &c->sink.fd,
                                 &open_err);

    if (rc != WIF_OK && ret == PAM_SUCCESS) {
      err = open_err;
      ret = pam_code(rc);
    }
  }
  if (ret != PAM_SUCCESS) {
    item = NULL;
    if (pam_get_item(pamh, PAM_USER, &item) != PAM_SUCCESS)
      item = NULL;
    reject(c, item, err.rc, err.msg);
  }
  return ret;
}

static void end(struct phase *c) {
  if (c->sink.fd >= 0)
    (void)close(c->sink.fd);
  c->sink.fd = -1;
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
 * of the conversation, including a NULL answer, is PAM_CONV_ERR. */
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
  /* The token moves to t, with the size the reader allocated. */
  t->buf = r.buf;
  t->len = r.len;
  t->size = r.size;
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
 * validated like any other.
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

/* use_first_pass and try_first_pass. PAM_AUTHTOK_RECOVERY_ERR: prompt. */
static int earlier_token(pam_handle_t *pamh, const struct args *a,
                         const struct wif_log *log, struct token *t,
                         struct intake_failure *why) {
  int ret = first_pass_token(pamh, t, why);

  if (ret == PAM_AUTHTOK_RECOVERY_ERR && a->use_first_pass)
    return fail_intake(why, WIF_E_TOKEN_UNAVAILABLE, PAM_AUTH_ERR,
                       "use_first_pass: no earlier module set PAM_AUTHTOK");
  if (ret != PAM_SUCCESS)
    return ret;
  /* pam_unix's convention: try_first_pass asks when the earlier answer
   * (a password, say) is not for this module. */
  if (a->try_first_pass && !wif_prompt_looks_like_token(t->buf, t->len)) {
    wif_log(log, LOG_DEBUG, "the %zu-byte PAM_AUTHTOK is not a token: asking",
            t->len);
    token_clear(t);
    return PAM_AUTHTOK_RECOVERY_ERR;
  }
  wif_log(log, LOG_DEBUG, "using the %zu-byte PAM_AUTHTOK", t->len);
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
    ret = earlier_token(pamh, a, log, t, why);
    if (ret != PAM_AUTHTOK_RECOVERY_ERR)
      return ret;
  }
  ret = prompt_token(pamh, t, why, &parts);
  if (ret == PAM_SUCCESS)
    wif_log(log, LOG_DEBUG, "read a %zu-byte token in %u part(s)", t->len,
            parts);
  if (ret == PAM_SUCCESS && wif_prompt_sshd_refused(t->buf, t->len))
    return fail_intake(why, WIF_E_UNKNOWN_ACCOUNT, PAM_AUTH_ERR,
                       "sshd replaced the answer: the account does not exist "
                       "on this host, or it is root and PermitRootLogin "
                       "forbids password-style logins");
  return ret;
}

static struct wif_handover *get_record(pam_handle_t *pamh) {
  const void *data = NULL;

  if (pam_get_data(pamh, DATA_HANDOVER, &data) != PAM_SUCCESS)
    return NULL;
  return (struct wif_handover *)(uintptr_t)data;
}

static void record_cleanup(pam_handle_t *pamh, void *data, int status) {
  (void)pamh;
  (void)status;
  wif_handover_clear(data);
  free(data);
}

/* Drops what an earlier attempt (or anyone else) left in WIF_* and the
 * record, so the account phase cannot act on a stale grant. libpam logs
 * an error for deleting an absent variable, hence the pam_getenv first. */
static void clear_env(pam_handle_t *pamh) {
  for (size_t i = 0; i < WIF_HO_COUNT; i++)
    if (pam_getenv(pamh, wif_handover_names[i]) != NULL)
      (void)pam_putenv(pamh, wif_handover_names[i]);
  if (get_record(pamh) != NULL)
    (void)pam_set_data(pamh, DATA_HANDOVER, NULL, NULL);
}

/* Keeps *h as this process's record (moved: *h is empty afterwards). */
static int keep_record(pam_handle_t *pamh, struct wif_handover *h) {
  struct wif_handover *rec = malloc(sizeof(*rec));
  int ret;

  if (rec == NULL)
    return PAM_BUF_ERR;
  *rec = *h;
  memset(h, 0, sizeof(*h));
  ret = pam_set_data(pamh, DATA_HANDOVER, rec, record_cleanup);
  if (ret != PAM_SUCCESS)
    record_cleanup(pamh, rec, ret);
  return ret;
}

/* What the account phase (perhaps in another process) reads back. */
static int hand_over(pam_handle_t *pamh, struct wif_handover *h) {
  int ret = PAM_SUCCESS;

  for (size_t i = 0; i < WIF_HO_COUNT && ret == PAM_SUCCESS; i++)
    if (h->env[i] != NULL)
      ret = pam_putenv(pamh, h->env[i]); /* copies */
  if (ret == PAM_SUCCESS)
    ret = keep_record(pamh, h);
  return ret;
}

/* PAM_USER, or a PAM code. Never PAM_CONV_AGAIN or PAM_INCOMPLETE. */
static int get_account(pam_handle_t *pamh, const char **user) {
  int ret = pam_get_user(pamh, user, NULL);

  if (ret == PAM_SUCCESS)
    return PAM_SUCCESS;
  *user = NULL;
  if (ret == PAM_BUF_ERR || ret == PAM_CONV_ERR || ret == PAM_SYSTEM_ERR)
    return ret;
  return PAM_AUTH_ERR;
}

static int authenticate(pam_handle_t *pamh, struct phase *c) {
  struct wif_verdict v;
  struct wif_handover h;
  struct token t = {NULL, 0, 0};
  struct intake_failure why = {WIF_E_INTERNAL, ""};
  const char *user = NULL;
  int ret = PAM_AUTH_ERR;

  memset(&v, 0, sizeof(v));
  memset(&h, 0, sizeof(h));
  clear_env(pamh);
  ret = get_account(pamh, &user);
  if (ret != PAM_SUCCESS) {
    reject(c, NULL, WIF_E_NO_MAPPING, "no PAM user");
    goto out;
  }
  if (c->sink.service == NULL) {
    ret = PAM_SYSTEM_ERR;
    reject(c, user, WIF_E_SYSTEM, "no PAM_SERVICE");
    goto out;
  }
  ret = obtain_token(pamh, &c->a, &c->log, &t, &why);
  if (ret != PAM_SUCCESS) {
    reject(c, user, why.rc, why.message);
    goto out;
  }
  ret = pam_code(wif_auth_authenticate_bound(&c->params, user, t.buf, t.len,
                                             c->sink.service, &v, &h));
  token_clear(&t);
  if (ret == PAM_SUCCESS)
    ret = hand_over(pamh, &h);
  if (ret != PAM_SUCCESS)
    clear_env(pamh);
out:
  token_clear(&t);
  wif_handover_clear(&h);
  wif_verdict_clear(&v);
  return ret;
}

int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc,
                        const char **argv) {
  struct phase c;
  int ret = begin(pamh, argc, argv, "auth", &c);

  (void)flags;
  if (ret == PAM_SUCCESS)
    ret = authenticate(pamh, &c);
  end(&c);
  return ret;
}

/* The tag's work is done once account ran: it never reaches the session
 * (nor the record, which must keep equalling the environment). */
static int drop_binding(pam_handle_t *pamh, struct wif_handover *rec) {
  int ret = PAM_SUCCESS;

  if (pam_getenv(pamh, wif_handover_names[WIF_HO_BINDING]) != NULL)
    ret = pam_putenv(pamh, wif_handover_names[WIF_HO_BINDING]);
  if (ret == PAM_SUCCESS)
    wif_handover_drop_binding(rec);
  return ret;
}

static int account(pam_handle_t *pamh, struct phase *c) {
  struct wif_handover_input in;
  struct wif_handover copy;
  struct wif_verdict v;
  const char *user = NULL;
  int ret, dropped;

  memset(&in, 0, sizeof(in));
  memset(&v, 0, sizeof(v));
  in.record = get_record(pamh);
  for (size_t i = 0; i < WIF_HO_COUNT; i++)
    in.values[i] = pam_getenv(pamh, wif_handover_names[i]);
  if (in.record == NULL && !wif_handover_present(in.values)) {
    /* The one "not applicable" case: another module authenticated. */
    wif_log(&c->log, LOG_DEBUG, "account: not authenticated by pam_wif");
    return PAM_IGNORE;
  }
  in.service = c->sink.service;
  ret = get_account(pamh, &user);
  if (ret != PAM_SUCCESS)
    reject(c, NULL, WIF_E_NO_MAPPING, "no PAM user");
  else
    ret = pam_code(wif_auth_recheck(&c->params, user, &in, &v));
  wif_verdict_clear(&v);
  /* Verified from the environment (sshd): keep it for the session. */
  if (ret == PAM_SUCCESS && in.record == NULL) {
    ret = wif_handover_record(in.values, user, in.service, &copy) == WIF_OK
              ? keep_record(pamh, &copy)
              : PAM_BUF_ERR;
    wif_handover_clear(&copy); /* what keep_record did not take */
  }
  dropped = drop_binding(pamh, get_record(pamh));
  return ret == PAM_SUCCESS ? dropped : ret;
}

int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc,
                     const char **argv) {
  struct phase c;
  int ret = begin(pamh, argc, argv, "account", &c);

  (void)flags;
  if (ret == PAM_SUCCESS)
    ret = account(pamh, &c);
  else
    (void)drop_binding(pamh, get_record(pamh)); /* whatever failed */
  end(&c);
  return ret;
}

int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv) {
  struct phase c;
  int ret = begin(pamh, argc, argv, "setcred", &c);

  (void)flags;
  end(&c);
  return ret;
}

static void free_cleanup(pam_handle_t *pamh, void *data, int status) {
  (void)pamh;
  (void)status;
  free(data);
}

/* systemd.runtime_max_sec=N, as PAM data (what pam_systemd reads) and in
 * the PAM environment. */
static int set_session_max(pam_handle_t *pamh, int64_t n) {
  char env[sizeof(SESSION_MAX_NAME) + 24];
  char *data;
  int ret;

  (void)snprintf(env, sizeof(env), SESSION_MAX_NAME "=%" PRId64, n);
  ret = pam_putenv(pamh, env);
  if (ret != PAM_SUCCESS)
    return ret;
  if ((data = strdup(env + sizeof(SESSION_MAX_NAME))) == NULL)
    return PAM_BUF_ERR;
  ret = pam_set_data(pamh, SESSION_MAX_NAME, data, free_cleanup);
  if (ret != PAM_SUCCESS)
    free(data);
  return ret;
}

/* session_max=token: the exp that auth bound (the record), never a
 * WIF_EXPIRES the caller could have set; at least a minute. */
static int token_seconds(pam_handle_t *pamh, struct phase *c, int64_t *out) {
  const struct wif_handover *rec = get_record(pamh);
  const char *values[WIF_HO_COUNT];
  struct wif_handover_grant g;
  struct wif_error err;
  const void *user = NULL;

  for (size_t i = 0; i < WIF_HO_COUNT; i++)
    values[i] = rec != NULL ? wif_handover_value(rec, (enum wif_handover_var)i)
                            : pam_getenv(pamh, wif_handover_names[i]);
  if (rec == NULL && !wif_handover_present(values)) {
    wif_log(&c->log, LOG_DEBUG, "session: not authenticated by pam_wif");
    return PAM_IGNORE;
  }
  if (rec == NULL || wif_handover_parse(values, &g, &err) != WIF_OK) {
    if (pam_get_item(pamh, PAM_USER, &user) != PAM_SUCCESS)
      user = NULL;
    reject(c, user, WIF_E_UNBOUND,
           "session_max=token: no grant verified in this process (pam_wif "
           "must run in the account phase before the session)");
    return PAM_SESSION_ERR;
  }
  *out = g.exp - c->params.now;
  if (g.exp < c->params.now || *out < SESSION_MIN_SECONDS)
    *out = SESSION_MIN_SECONDS;
  if (*out > SESSION_MAX_SECONDS)
    *out = SESSION_MAX_SECONDS;
  return PAM_SUCCESS;
}

static int open_session(pam_handle_t *pamh, struct phase *c) {
  int64_t n = c->a.session_seconds;
  int ret = drop_binding(pamh, get_record(pamh));

  if (ret != PAM_SUCCESS)
    return PAM_SESSION_ERR;
  if (c->a.session_max == SESSION_MAX_NONE)
    return PAM_SUCCESS;
  if (c->a.session_max == SESSION_MAX_TOKEN &&
      (ret = token_seconds(pamh, c, &n)) != PAM_SUCCESS)
    return ret;
  ret = set_session_max(pamh, n);
  if (ret != PAM_SUCCESS)
    return ret == PAM_BUF_ERR ? PAM_BUF_ERR : PAM_SESSION_ERR;
  wif_log(&c->log, LOG_INFO,
          "session " SESSION_MAX_NAME "=%" PRId64 " (session_max=%s)", n,
          c->a.session_max == SESSION_MAX_TOKEN ? "token" : "SECONDS");
  return PAM_SUCCESS;
}

int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc,
                        const char **argv) {
  struct phase c;
  int ret = begin(pamh, argc, argv, "session", &c);

  (void)flags;
  if (ret == PAM_SUCCESS)
    ret = open_session(pamh, &c);
  end(&c);
  return ret;
}

int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc,
                         const char **argv) {
  struct phase c;
  int ret = begin(pamh, argc, argv, "session", &c);

  (void)flags;
  end(&c);
  return ret;
}
