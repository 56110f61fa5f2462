/* SPDX-License-Identifier: Apache-2.0 */
/* Fault-injection sweeps of pam_wif's entry points on a fake PAM handle
 * (H1, H8, M4, M6). */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "wrap.h"

/*
 * pam/pam_wif.c is compiled into this program together with the core built
 * for fault injection (wif_fi) and linked with -Wl,--wrap (wrap.h), so
 * every allocation, file call and curl_easy_perform the module makes is
 * counted. Instead of libpam, this file defines the PAM functions the
 * module calls (pam_get_item, pam_get_user, pam_getenv, pam_putenv,
 * pam_syslog, pam_vsyslog) on a handle of its own, and answers the
 * conversation; pam_get_item, pam_get_user, pam_putenv and the
 * conversation are countable and fail like libpam does. pam_getenv is not
 * failed: libpam's is a lookup that cannot fail, and NULL means "not set"
 * (for the account phase, "not authenticated by pam_wif": PAM_IGNORE by
 * design). pam_syslog returns nothing.
 *
 * A sweep runs one transaction (pam_sm_authenticate, then
 * pam_sm_acct_mgmt when it succeeded) again and again, failing counted
 * call N = 1, 2, ... until a run completes without reaching call N. Each
 * run with a failed call must end in a failure code (never PAM_SUCCESS,
 * never PAM_IGNORE) and leave no grant in the PAM environment, with one
 * exception that the key cache's design makes (recovery_allowed below);
 * no run may leak (LeakSanitizer is asked after every run in the
 * sanitizer build; valgrind sees the whole process in tests/run.sh),
 * crash, or log any part of the token (debug is on, M4). The final,
 * unfailed run must succeed, with the expected grant. The output names
 * the number of injection points per function.
 *
 * Sweeps:
 *   warm         a jwks_file provider (no network), the token in one answer
 *   warm_parts   the same, the token in three answers ending in `\`
 *   first_pass   use_first_pass: the token from PAM_AUTHTOK
 *   cold         issuer + ca_file on the loopback HTTPS test IdP
 *                (tests/tools/test_idp.py, started here with a bounded
 *                lifetime), the cache directory emptied before each run:
 *                discovery, JWKS fetch and the cache write on every run
 *   warm_https   the same provider with the cache filled and the IdP
 *                stopped: a run can only succeed from the cache, so a
 *                failure reading it cannot hide behind a fetch
 * and, without a sweep, the conversation's failure modes (H8) and a
 * fetch helper that is missing (H7).
 *
 * Files live under WIF_FI_DIR (the build tree): the trusted-file checks
 * walk every parent directory, which rules out /tmp.
 */

#define AUD "fi-pam-aud"
#define ISS_FILE "https://issuer.example/fi-pam"
#define ACCOUNT "nobody"
#define SUBJECT "workload-1"
/* A sweep under valgrind on a loaded machine can run for many minutes: the
 * token and the IdP (which only outlives a crashed fi_pam by this much)
 * last an hour. */
#define LIFETIME 3600
#define IDP_LIFETIME "3600"
#define MAX_CALLS 100000UL

/* Present in sanitizer builds only. */
extern int __lsan_do_recoverable_leak_check(void) __attribute__((weak));

/* The harness's own memory is not counted (the real functions behind the
 * wrappers): only the module and the core are under test. */
void *__real_calloc(size_t n, size_t size);
char *__real_strdup(const char *s);

/* ---- the fake PAM handle -------------------------------------------- */

#define ENV_MAX 16
#define DATA_MAX 8
#define LOG_MAX 64
#define LOG_LINE_MAX 1024

/* How the conversation misbehaves when asked to without fault injection
 * (H8). */
enum conv_fault {
  CONV_OK,
  CONV_ERROR,      /* returns PAM_CONV_ERR */
  CONV_BUF_ERROR,  /* returns PAM_BUF_ERR */
  CONV_NULL_RESP,  /* PAM_SUCCESS, *resp NULL */
  CONV_NULL_FIELD, /* PAM_SUCCESS, resp[0].resp NULL */
};

struct pam_handle {
  const char *user;
  const char *authtok; /* PAM_AUTHTOK, NULL when unset */
  struct pam_conv conv;
  const char *const *answers;
  size_t n_answers;
  size_t next_answer;
  enum conv_fault conv_fault;
  char *env[ENV_MAX]; /* "NAME=value", harness memory */
  struct {
    const char *name; /* borrowed (a module's constant) */
    void *data;
    void (*cleanup)(pam_handle_t *, void *, int);
  } data[DATA_MAX];
};

static char log_lines[LOG_MAX][LOG_LINE_MAX];
static int log_priorities[LOG_MAX];
static size_t n_log_lines;

void pam_vsyslog(const pam_handle_t *pamh, int priority, const char *fmt,
                 va_list args) {
  (void)pamh;
  /* Every line must be kept, or the token check would miss some. */
  if (n_log_lines == LOG_MAX)
    fail_msg("more than %d log lines in one transaction", LOG_MAX);
  log_priorities[n_log_lines] = priority;
  vsnprintf(log_lines[n_log_lines++], LOG_LINE_MAX, fmt, args);
}

void pam_syslog(const pam_handle_t *pamh, int priority, const char *fmt, ...) {
  va_list ap;

  va_start(ap, fmt);
  pam_vsyslog(pamh, priority, fmt, ap);
  va_end(ap);
}

int pam_get_item(const pam_handle_t *pamh, int type, const void **item) {
  if (wif_fi_hit("pam_get_item"))
    return PAM_SYSTEM_ERR;
  switch (type) {
  case PAM_CONV:
    *item = &pamh->conv;
    return PAM_SUCCESS;
  case PAM_AUTHTOK:
    *item = pamh->authtok;
    return PAM_SUCCESS;
  case PAM_USER:
    *item = pamh->user;
    return PAM_SUCCESS;
  case PAM_SERVICE:
    *item = "fi_pam";
    return PAM_SUCCESS;
  default:
    return PAM_BAD_ITEM;
  }
}

int pam_get_user(pam_handle_t *pamh, const char **user, const char *prompt) {
  (void)prompt;
  if (wif_fi_hit("pam_get_user"))
    return PAM_SYSTEM_ERR;
  *user = pamh->user;
  return pamh->user != NULL ? PAM_SUCCESS : PAM_CONV_ERR;
}

static char **env_find(pam_handle_t *pamh, const char *name, size_t len) {
  for (size_t i = 0; i < ENV_MAX; i++) {
    char *e = pamh->env[i];
    if (e != NULL && strncmp(e, name, len) == 0 && e[len] == '=')
      return &pamh->env[i];
  }
  return NULL;
}

const char *pam_getenv(pam_handle_t *pamh, const char *name) {
  char **slot = env_find(pamh, name, strlen(name));
  return slot != NULL ? strchr(*slot, '=') + 1 : NULL;
}

/* libpam's semantics: "NAME=value" sets (a copy), "NAME" deletes. */
int pam_putenv(pam_handle_t *pamh, const char *name_value) {
  const char *eq = strchr(name_value, '=');
  size_t len = eq != NULL ? (size_t)(eq - name_value) : strlen(name_value);
  char **slot;

  if (wif_fi_hit("pam_putenv"))
    return PAM_BUF_ERR;
  if (len == 0)
    return PAM_BAD_ITEM;
  slot = env_find(pamh, name_value, len);
  if (eq == NULL) {
    if (slot == NULL)
      return PAM_BAD_ITEM;
    free(*slot);
    *slot = NULL;
    return PAM_SUCCESS;
  }
  if (slot == NULL) {
    for (size_t i = 0; i < ENV_MAX && slot == NULL; i++)
      if (pamh->env[i] == NULL)
        slot = &pamh->env[i];
    if (slot == NULL)
      return PAM_BUF_ERR;
  }
  free(*slot);
  if ((*slot = __real_strdup(name_value)) == NULL)
    return PAM_BUF_ERR;
  return PAM_SUCCESS;
}

/* libpam's semantics: replacing calls the old entry's cleanup. */
int pam_set_data(pam_handle_t *pamh, const char *name, void *data,
                 void (*cleanup)(pam_handle_t *, void *, int)) {
  size_t free_slot = DATA_MAX;

  if (wif_fi_hit("pam_set_data"))
    return PAM_BUF_ERR;
  for (size_t i = 0; i < DATA_MAX; i++) {
    if (pamh->data[i].name != NULL && strcmp(pamh->data[i].name, name) == 0) {
      if (pamh->data[i].cleanup != NULL)
        pamh->data[i].cleanup(pamh, pamh->data[i].data, PAM_DATA_REPLACE);
      pamh->data[i].data = data;
      pamh->data[i].cleanup = cleanup;
      return PAM_SUCCESS;
    }
    if (pamh->data[i].name == NULL && free_slot == DATA_MAX)
      free_slot = i;
  }
  if (free_slot == DATA_MAX)
    return PAM_BUF_ERR;
  pamh->data[free_slot].name = name;
  pamh->data[free_slot].data = data;
  pamh->data[free_slot].cleanup = cleanup;
  return PAM_SUCCESS;
}

/* A lookup, like pam_getenv: not failed. */
int pam_get_data(const pam_handle_t *pamh, const char *name,
                 const void **data) {
  for (size_t i = 0; i < DATA_MAX; i++) {
    if (pamh->data[i].name != NULL && strcmp(pamh->data[i].name, name) == 0) {
      *data = pamh->data[i].data;
      return PAM_SUCCESS;
    }
  }
  return PAM_NO_MODULE_DATA;
}

/* Answers each echo-off prompt with the next of pamh->answers. */
static int conversation(int n, const struct pam_message **msg,
                        struct pam_response **resp, void *appdata) {
  pam_handle_t *pamh = appdata;
  struct pam_response *r;

  if (wif_fi_hit("conversation"))
    return PAM_CONV_ERR;
  if (n != 1 || msg[0]->msg_style != PAM_PROMPT_ECHO_OFF ||
      pamh->next_answer >= pamh->n_answers)
    fail_msg("unexpected conversation (%d messages, answer %zu of %zu)", n,
             pamh->next_answer + 1, pamh->n_answers);
  switch (pamh->conv_fault) {
  case CONV_ERROR:
    return PAM_CONV_ERR;
  case CONV_BUF_ERROR:
    return PAM_BUF_ERR;
  case CONV_NULL_RESP:
    *resp = NULL;
    return PAM_SUCCESS;
  case CONV_OK:
  case CONV_NULL_FIELD:
    break;
  }
  r = __real_calloc(1, sizeof(*r));
  assert_non_null(r);
  if (pamh->conv_fault == CONV_OK) {
    r->resp = __real_strdup(pamh->answers[pamh->next_answer++]);
    assert_non_null(r->resp);
  }
  *resp = r;
  return PAM_SUCCESS;
}

static void handle_init(pam_handle_t *pamh) {
  memset(pamh, 0, sizeof(*pamh));
  pamh->user = ACCOUNT;
  pamh->conv.conv = conversation;
  pamh->conv.appdata_ptr = pamh;
}

static void handle_clear(pam_handle_t *pamh) {
  for (size_t i = 0; i < ENV_MAX; i++)
    free(pamh->env[i]);
  for (size_t i = 0; i < DATA_MAX; i++)
    if (pamh->data[i].name != NULL && pamh->data[i].cleanup != NULL)
      pamh->data[i].cleanup(pamh, pamh->data[i].data, PAM_SUCCESS);
  memset(pamh, 0, sizeof(*pamh));
}

static bool has_grant(pam_handle_t *pamh) {
  static const char *const names[] = {"WIF_PROVIDER", "WIF_SUBJECT",
                                      "WIF_ISSUER",   "WIF_EXPIRES",
                                      "WIF_GRANT",    "WIF_BINDING"};
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
    if (pam_getenv(pamh, names[i]) != NULL)
      return true;
  return false;
}

/* ---- the world: files, token, IdP ----------------------------------- */

struct snapshot_file {
  char name[256];
  char *data;
  size_t len;
};

#define SNAPSHOT_MAX 8

struct world {
  char dir[512];   /* WIF_FI_DIR/pam: config, map, keys */
  char cache[600]; /* its cache directory */
  char state[600]; /* the IdP's certificates and port files */
  char conf_file[600];
  char conf_https[600];
  char *token_file; /* iss ISS_FILE */
  char *token_https;
  char issuer[128];
  pid_t idp;
  struct snapshot_file snap[SNAPSHOT_MAX];
  size_t n_snap;
};

static void write_file(const char *path, const char *data, size_t len) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

  if (fd < 0)
    fail_msg("%s: %s", path, strerror(errno));
  assert_int_equal(write(fd, data, len), (ssize_t)len);
  assert_int_equal(fchmod(fd, 0600), 0);
  assert_int_equal(close(fd), 0);
}

static void write_text(const char *dir, const char *name, const char *text) {
  char *path = wif_test_path(dir, name);
  write_file(path, text, strlen(text));
  free(path);
}

static char *mint(const char *iss) {
  long long now = (long long)time(NULL);
  return wif_test_signf("rs256", "RS256",
                        "{\"iss\":\"%s\",\"aud\":\"%s\",\"sub\":\"%s\","
                        "\"exp\":%lld,\"iat\":%lld}",
                        iss, AUD, SUBJECT, now + LIFETIME, now - 10);
}

/* Removes every file in the cache directory, then the directory. */
static void cache_clear(const struct world *w) {
  DIR *d = opendir(w->cache);
  struct dirent *e;

  if (d == NULL) {
    assert_int_equal(errno, ENOENT);
    return;
  }
  while ((e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
      assert_int_equal(unlinkat(dirfd(d), e->d_name, 0), 0);
  closedir(d);
  assert_int_equal(rmdir(w->cache), 0);
}

static void snapshot_free(struct world *w) {
  for (size_t i = 0; i < w->n_snap; i++)
    free(w->snap[i].data);
  w->n_snap = 0;
}

static void cache_snapshot(struct world *w) {
  DIR *d = opendir(w->cache);
  struct dirent *e;

  assert_non_null(d);
  snapshot_free(w);
  while ((e = readdir(d)) != NULL) {
    struct snapshot_file *f;
    char *path;
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    assert_true(w->n_snap < SNAPSHOT_MAX);
    f = &w->snap[w->n_snap++];
    assert_true(strlen(e->d_name) < sizeof(f->name));
    snprintf(f->name, sizeof(f->name), "%s", e->d_name);
    path = wif_test_path(w->cache, e->d_name);
    f->data = wif_test_read(path, &f->len);
    free(path);
  }
  closedir(d);
}

static void cache_restore(const struct world *w) {
  cache_clear(w);
  assert_int_equal(mkdir(w->cache, 0700), 0);
  for (size_t i = 0; i < w->n_snap; i++) {
    char *path = wif_test_path(w->cache, w->snap[i].name);
    write_file(path, w->snap[i].data, w->snap[i].len);
    free(path);
  }
}

static void idp_stop(struct world *w) {
  int status;

  if (w->idp <= 0)
    return;
  (void)kill(w->idp, SIGTERM);
  (void)waitpid(w->idp, &status, 0);
  w->idp = 0;
}

/* Starts tests/tools/test_idp.py, which stops by itself after
 * IDP_LIFETIME seconds should this program die first. */
static void idp_start(struct world *w) {
  char *port_path = wif_test_path(w->state, "port");
  char *keys = wif_test_str(WIF_TEST_KEYS_DIR);
  char *argv[] = {wif_test_str(WIF_PYTHON),
                  wif_test_str(WIF_TEST_IDP),
                  wif_test_str("--keys"),
                  keys,
                  wif_test_str("--state"),
                  w->state,
                  wif_test_str("--port"),
                  wif_test_str("0"),
                  wif_test_str("--lifetime"),
                  wif_test_str(IDP_LIFETIME),
                  wif_test_str("--kids"),
                  wif_test_str("rs256"),
                  NULL};
  extern char **environ;
  char *text;
  char *end;
  long port;

  (void)unlink(port_path);
  if (posix_spawn(&w->idp, argv[0], NULL, NULL, argv, environ) != 0)
    fail_msg("cannot start %s", WIF_TEST_IDP);
  for (int i = 0; access(port_path, F_OK) != 0; i++) {
    int status;
    if (i == 600 || waitpid(w->idp, &status, WNOHANG) != 0) {
      idp_stop(w);
      fail_msg("test_idp.py did not start");
    }
    (void)usleep(50000);
  }
  text = wif_test_read(port_path, NULL);
  errno = 0;
  port = strtol(text, &end, 10);
  assert_true(errno == 0 && end != text && port > 0 && port < 65536);
  snprintf(w->issuer, sizeof(w->issuer), "https://localhost:%ld/fi", port);
  free(text);
  free(port_path);
}

/* The group of tests this process runs (main's argument). */
static const char *group = "all";

static int setup(void **state) {
  struct world *w = calloc(1, sizeof(*w));
  char *jwks_src = wif_test_key_path("jwks.json");
  size_t jwks_len;
  char *jwks = wif_test_read(jwks_src, &jwks_len);
  char buf[2048];
  int n;

  assert_non_null(w);
  /* One directory per group: ctest runs "local" and "https" at once. */
  snprintf(w->dir, sizeof(w->dir), "%s/pam-%s", WIF_FI_DIR, group);
  snprintf(w->cache, sizeof(w->cache), "%s/cache", w->dir);
  snprintf(w->state, sizeof(w->state), "%s/idp", w->dir);
  if (mkdir(w->dir, 0700) != 0)
    assert_int_equal(errno, EEXIST);
  assert_int_equal(chmod(w->dir, 0700), 0);
  write_text(w->dir, "keys.jwks", jwks);
  write_text(w->dir, "pam_wif.map",
             "fi user " SUBJECT " " ACCOUNT "\n"
             "https user " SUBJECT " " ACCOUNT "\n");
  n = snprintf(buf, sizeof(buf),
               "[global]\nmap_file = %s/pam_wif.map\ncache_dir = %s\n"
               "log_claims = iss sub\n\n"
               "[provider fi]\nissuer = %s\naudience = %s\n"
               "algorithms = RS256\njwks_file = %s/keys.jwks\n"
               "[provider https]\nissuer = https://unused.example/\n"
               "audience = %s\njwks_file = %s/keys.jwks\n",
               w->dir, w->cache, ISS_FILE, AUD, w->dir, AUD, w->dir);
  assert_true(n > 0 && (size_t)n < sizeof(buf));
  write_text(w->dir, "file.conf", buf);
  snprintf(w->conf_file, sizeof(w->conf_file), "config=%s/file.conf", w->dir);
  w->token_file = mint(ISS_FILE);
  free(jwks);
  free(jwks_src);
  *state = w;
  return 0;
}

/* The HTTPS provider's config and token, once the IdP's port is known. */
static void setup_https(struct world *w) {
  char buf[2048];
  int n;

  idp_start(w);
  n = snprintf(buf, sizeof(buf),
               "[global]\nmap_file = %s/pam_wif.map\ncache_dir = %s\n"
               "http_timeout = 5\nlog_claims = iss sub\n\n"
               "[provider fi]\nissuer = %s\naudience = %s\n"
               "algorithms = RS256\njwks_file = %s/keys.jwks\n"
               "[provider https]\nissuer = %s\naudience = %s\n"
               "algorithms = RS256\nca_file = %s/ca.pem\n",
               w->dir, w->cache, ISS_FILE, AUD, w->dir, w->issuer, AUD,
               w->state);
  assert_true(n > 0 && (size_t)n < sizeof(buf));
  write_text(w->dir, "https.conf", buf);
  snprintf(w->conf_https, sizeof(w->conf_https), "config=%s/https.conf",
           w->dir);
  free(w->token_https);
  w->token_https = mint(w->issuer);
}

static int teardown(void **state) {
  struct world *w = *state;

  idp_stop(w);
  snapshot_free(w);
  free(w->token_file);
  free(w->token_https);
  free(w);
  return 0;
}

/* ---- one transaction and the sweep ---------------------------------- */

struct scenario {
  const char *name;
  const char *config_arg; /* "config=PATH" */
  const char *token;
  const char *extra_arg;  /* NULL or one more module argument */
  const char *helper_arg; /* NULL: "helper=" WIF_FI_HELPER */
  bool parts;             /* send the token in three answers */
  bool first_pass;        /* the token is PAM_AUTHTOK */
  bool sshd;     /* account in a new handle with auth's environment copied */
  bool log_file; /* extra_arg is log_file=: a failed write is survived */
  enum conv_fault conv_fault;
  bool disk_cache;                       /* the provider uses cache_dir */
  const char *provider;                  /* the section that must grant */
  void (*before)(const struct world *w); /* resets the disk state */
  const struct world *w;
};

/* Whether any captured log line holds a piece of the token: 16-byte
 * windows every 8 bytes, so any 24 contiguous bytes of it are found. */
static bool log_leaks(const char *token) {
  size_t len = strlen(token);

  for (size_t i = 0; i < n_log_lines; i++) {
    size_t line_len = strlen(log_lines[i]);
    for (size_t off = 0; off + 16 <= len; off += 8)
      if (memmem(log_lines[i], line_len, token + off, 16) != NULL)
        return true;
  }
  return false;
}

/* pam_sm_authenticate, then pam_sm_acct_mgmt if that succeeded, with
 * counted call fail_at failing (0: none). Returns the last PAM code;
 * *granted says whether auth left a grant. */
static int transaction(const struct scenario *s, unsigned long fail_at,
                       bool *granted) {
  pam_handle_t h;
  const char *argv[4];
  int argc = 0;
  char *parts[3] = {NULL, NULL, NULL};
  const char *answers[3];
  int ret;

  handle_init(&h);
  argv[argc++] = s->config_arg;
  argv[argc++] = "debug";
  argv[argc++] =
      s->helper_arg != NULL ? s->helper_arg : "helper=" WIF_FI_HELPER;
  if (s->extra_arg != NULL)
    argv[argc++] = s->extra_arg;
  h.conv_fault = s->conv_fault;
  if (s->first_pass) {
    h.authtok = s->token;
  } else if (s->parts) {
    size_t len = strlen(s->token), third = len / 3;
    parts[0] = strndup(s->token, third);
    parts[1] = strndup(s->token + third, third);
    parts[2] = strdup(s->token + 2 * third);
    assert_true(parts[0] && parts[1] && parts[2]);
    for (size_t i = 0; i < 2; i++) {
      char *p = realloc(parts[i], strlen(parts[i]) + 2);
      assert_non_null(p);
      strncat(p, "\\", 2);
      parts[i] = p;
    }
    for (size_t i = 0; i < 3; i++)
      answers[i] = parts[i];
    h.answers = answers;
    h.n_answers = 3;
  } else {
    answers[0] = s->token;
    h.answers = answers;
    h.n_answers = 1;
  }
  n_log_lines = 0;
  if (s->before != NULL)
    s->before(s->w);
  /* Counting starts here: the harness set-up above is not swept. */
  wif_fi_arm(fail_at);
  ret = pam_sm_authenticate(&h, 0, argc, argv);
  *granted = has_grant(&h);
  if (ret != PAM_SUCCESS && *granted)
    fail_msg("%s: auth failed (%d) but left a grant in the environment",
             s->name, ret);
  if (ret == PAM_SUCCESS) {
    const char *provider = pam_getenv(&h, "WIF_PROVIDER");
    const char *subject = pam_getenv(&h, "WIF_SUBJECT");
    if (provider == NULL || strcmp(provider, s->provider) != 0 ||
        subject == NULL || strcmp(subject, SUBJECT) != 0)
      fail_msg("%s: auth succeeded with a wrong grant (%s, %s)", s->name,
               provider ? provider : "-", subject ? subject : "-");
    if (s->sshd) {
      /* sshd's shape: account runs in another process, which has the
       * environment but none of auth's PAM data. */
      pam_handle_t h2;

      handle_init(&h2);
      for (size_t i = 0; i < ENV_MAX; i++)
        if (h.env[i] != NULL)
          assert_non_null(h2.env[i] = __real_strdup(h.env[i]));
      handle_clear(&h);
      h = h2;
    }
    ret = pam_sm_acct_mgmt(&h, 0, argc, argv);
    /* The tag never outlives the account phase, unless removing it is
     * what failed. */
    if (pam_getenv(&h, "WIF_BINDING") != NULL &&
        !(wif_fi_injected() &&
          strcmp(wif_fi_injected_name(), "pam_putenv") == 0 &&
          ret != PAM_SUCCESS))
      fail_msg("%s: WIF_BINDING left after the account phase (%d)", s->name,
               ret);
  }
  wif_fi_disarm();
  handle_clear(&h);
  for (size_t i = 0; i < 3; i++)
    free(parts[i]);
  return ret;
}

/* Injection points swept, per failed function. */
struct tally {
  const char *name[32];
  unsigned long count[32];
  size_t n;
};

static void tally_add(struct tally *t, const char *name) {
  for (size_t i = 0; i < t->n; i++) {
    if (strcmp(t->name[i], name) == 0) {
      t->count[i]++;
      return;
    }
  }
  assert_true(t->n < 32);
  t->name[t->n] = name;
  t->count[t->n++] = 1;
}

static unsigned long tally_get(const struct tally *t, const char *name) {
  for (size_t i = 0; i < t->n; i++)
    if (strcmp(t->name[i], name) == 0)
      return t->count[i];
  return 0;
}

/* What the module logged in the last run, to explain a failure. */
static void print_log(void) {
  for (size_t i = 0; i < n_log_lines; i++)
    printf("  log <%d>: %s\n", log_priorities[i], log_lines[i]);
}

/* Functions whose failure nothing may survive: the PAM calls, the
 * conversation, the HTTP exchange (no retry within a login: J15). */
static bool must_fail(const char *name) {
  return strncmp(name, "pam_", 4) == 0 || strcmp(name, "conversation") == 0 ||
         strcmp(name, "curl_easy_perform") == 0;
}

/*
 * With a cache directory, a failed call in the cache's own work may be
 * survived, by design (jwks_cache.h): a cache that cannot be read is
 * ignored (and read again under the lock, or refetched), one that cannot
 * be written leaves the keys in memory only. The login then still
 * verified the token with keys fetched over TLS or read whole from the
 * cache, so success is right, but never silently: the module must have
 * logged the degradation at LOG_WARNING or above. flock is the exception:
 * its failure is EWOULDBLOCK on a LOCK_NB poll (busy: polled again,
 * within a bounded wait) or the unlock, whose failure close() makes moot.
 */
static bool recovery_allowed(const struct scenario *s, const char *name) {
  /* A line that log_file= could not take went to syslog, with a warning
   * that says so. */
  if (s->log_file && strcmp(name, "write") == 0) {
    for (size_t i = 0; i < n_log_lines; i++)
      if (log_priorities[i] <= LOG_WARNING &&
          strstr(log_lines[i], "cannot write to log_file") != NULL)
        return true;
    return false;
  }
  if (!s->disk_cache || must_fail(name))
    return false;
  if (strcmp(name, "flock") == 0)
    return true;
  for (size_t i = 0; i < n_log_lines; i++)
    if (log_priorities[i] <= LOG_WARNING &&
        (strstr(log_lines[i], "jwks cache: ") != NULL ||
         strstr(log_lines[i], "ignoring the cached keys") != NULL))
      return true;
  return false;
}

static void tally_print(const char *what, const struct tally *t) {
  printf("%s", what);
  for (size_t i = 0; i < t->n; i++)
    printf("%s%s %lu", i > 0 ? ", " : "", t->name[i], t->count[i]);
  printf(")\n");
}

/* Sweeps s; *failed counts the injection points per function, *recovered
 * those the login survived (recovery_allowed). */
static void sweep(const struct scenario *s, struct tally *failed,
                  struct tally *recovered) {
  unsigned long n, total_recovered = 0;

  memset(failed, 0, sizeof(*failed));
  memset(recovered, 0, sizeof(*recovered));
  /* One run without a fault first: state that persists between logins
   * (the binding key in /run/pam_wif, which another test running at the
   * same time may also create) exists before the calls are counted, so
   * every run of the sweep takes the same path. */
  {
    bool granted;

    if (transaction(s, 0, &granted) != PAM_SUCCESS) {
      print_log();
      fail_msg("%s: fails with no fault injected", s->name);
    }
  }
  for (n = 1; n <= MAX_CALLS; n++) {
    bool granted, hit;
    const char *name;
    int ret = transaction(s, n, &granted);

    hit = wif_fi_injected();
    name = wif_fi_injected_name();
    if (log_leaks(s->token))
      fail_msg("%s: call %lu (%s): a log line holds part of the token", s->name,
               n, hit ? name : "none");
    if (!hit) {
      if (ret != PAM_SUCCESS) {
        print_log();
        fail_msg("%s: fails (PAM code %d) with no fault injected", s->name,
                 ret);
      }
      break;
    }
    tally_add(failed, name);
    if (ret == PAM_SUCCESS && recovery_allowed(s, name)) {
      tally_add(recovered, name);
      total_recovered++;
    } else if (ret == PAM_SUCCESS || ret == PAM_IGNORE) {
      print_log();
      fail_msg("%s: call %lu (%s) failed, yet the result is %s", s->name, n,
               name, ret == PAM_SUCCESS ? "PAM_SUCCESS" : "PAM_IGNORE");
    }
    if (__lsan_do_recoverable_leak_check != NULL &&
        __lsan_do_recoverable_leak_check() != 0)
      fail_msg("%s: leak after failing call %lu (%s)", s->name, n, name);
  }
  if (n > MAX_CALLS)
    fail_msg("%s: more than %lu counted calls", s->name, MAX_CALLS);
  printf("sweep %s: %lu injection points, each failed once; %lu ended in "
         "a failure code, %lu were survived with a logged degradation\n",
         s->name, n - 1, n - 1 - total_recovered, total_recovered);
  tally_print("  failed per function (", failed);
  if (total_recovered > 0)
    tally_print("  survived per function (", recovered);
  /* Every transaction asks for the user twice, sets six WIF_* variables
   * and removes WIF_BINDING, and keeps the hand-over as PAM data (auth, or
   * account in the sshd shape); a sweep that never failed them swept
   * nothing. */
  assert_true(tally_get(failed, "pam_get_user") == 2); /* auth, account */
  assert_true(tally_get(failed, "pam_putenv") == 7);
  assert_true(tally_get(failed, "pam_set_data") == (s->sshd ? 2 : 1));
  assert_true(tally_get(failed, "malloc") + tally_get(failed, "calloc") >= 20);
  assert_true(tally_get(failed, "open") + tally_get(failed, "openat") >= 4);
}

/* ---- tests ---------------------------------------------------------- */

/* The harness itself: pam_putenv copies and deletes, a counted call fails
 * when armed, and the log check sees a token fragment. */
static void test_fake_handle(void **state) {
  static const char token[] = "eyJhbGciOiJSUzI1NiIsImtpZCI6InJzMjU2In0."
                              "eyJzdWIiOiJ3b3JrbG9hZC0xIn0."
                              "c2lnbmF0dXJlLWJ5dGVzLWdvLWhlcmUtMDEyMzQ1";
  pam_handle_t h;
  const void *item = NULL;
  const char *user = NULL;

  (void)state;
  handle_init(&h);
  assert_int_equal(pam_putenv(&h, "WIF_X=1"), PAM_SUCCESS);
  assert_string_equal(pam_getenv(&h, "WIF_X"), "1");
  assert_true(has_grant(&h) == false);
  assert_int_equal(pam_putenv(&h, "WIF_PROVIDER=p"), PAM_SUCCESS);
  assert_true(has_grant(&h));
  assert_int_equal(pam_putenv(&h, "WIF_PROVIDER"), PAM_SUCCESS);
  assert_null(pam_getenv(&h, "WIF_PROVIDER"));
  assert_int_equal(pam_putenv(&h, "WIF_PROVIDER"), PAM_BAD_ITEM);
  wif_fi_arm(2);
  assert_int_equal(pam_get_item(&h, PAM_CONV, &item), PAM_SUCCESS);
  assert_ptr_equal(item, &h.conv);
  assert_int_equal(pam_get_user(&h, &user, NULL), PAM_SYSTEM_ERR);
  assert_true(wif_fi_injected());
  assert_string_equal(wif_fi_injected_name(), "pam_get_user");
  wif_fi_disarm();

  /* The log check finds 24 bytes of a token at any offset. */
  n_log_lines = 0;
  pam_syslog(&h, LOG_INFO, "outcome=failure sub=\"%s\"", "workload-1");
  assert_false(log_leaks(token));
  for (size_t off = 0; off + 24 <= strlen(token); off += 5) {
    pam_syslog(&h, LOG_DEBUG, "detail %.24s.", token + off);
    assert_true(log_leaks(token));
    n_log_lines = 1;
  }
  handle_clear(&h);
}

static void test_h1_sweep_warm(void **state) {
  struct world *w = *state;
  struct scenario s = {.name = "warm",
                       .config_arg = w->conf_file,
                       .token = w->token_file,
                       .provider = "fi",
                       .w = w};
  struct tally failed, survived;

  sweep(&s, &failed, &survived);
  assert_int_equal(tally_get(&failed, "conversation"), 1);
  /* PAM_SERVICE in auth and account, PAM_CONV */
  assert_int_equal(tally_get(&failed, "pam_get_item"), 3);
  assert_int_equal(survived.n, 0);
}

static void test_h1_sweep_warm_parts(void **state) {
  struct world *w = *state;
  struct scenario s = {.name = "warm_parts",
                       .config_arg = w->conf_file,
                       .token = w->token_file,
                       .parts = true,
                       .provider = "fi",
                       .w = w};
  struct tally failed, survived;

  sweep(&s, &failed, &survived);
  assert_int_equal(tally_get(&failed, "conversation"), 3);
  assert_int_equal(tally_get(&failed, "pam_get_item"), 5);
  assert_int_equal(survived.n, 0);
}

static void test_h1_sweep_first_pass(void **state) {
  struct world *w = *state;
  struct scenario s = {.name = "first_pass",
                       .config_arg = w->conf_file,
                       .token = w->token_file,
                       .first_pass = true,
                       .extra_arg = "use_first_pass",
                       .provider = "fi",
                       .w = w};
  struct tally failed, survived;

  sweep(&s, &failed, &survived);
  assert_int_equal(tally_get(&failed, "conversation"), 0);
  /* PAM_SERVICE twice, PAM_AUTHTOK */
  assert_int_equal(tally_get(&failed, "pam_get_item"), 3);
  assert_int_equal(survived.n, 0);
}

/* sshd: the account phase in another process verifies the binding
 * (key file reads and the HMAC) instead of auth's PAM data. */
static void test_h1_sweep_sshd(void **state) {
  struct world *w = *state;
  struct scenario s = {.name = "sshd",
                       .config_arg = w->conf_file,
                       .token = w->token_file,
                       .sshd = true,
                       .provider = "fi",
                       .w = w};
  struct tally failed, survived;

  sweep(&s, &failed, &survived);
  assert_int_equal(survived.n, 0);
}

/* log_file=: its directory walk, creation and writes fail cleanly. */
static void test_h1_sweep_log_file(void **state) {
  struct world *w = *state;
  char arg[700];
  char *path = wif_test_path(w->dir, "decisions.log");
  struct scenario s = {.name = "log_file",
                       .config_arg = w->conf_file,
                       .token = w->token_file,
                       .extra_arg = arg,
                       .log_file = true,
                       .provider = "fi",
                       .w = w};
  struct tally failed, survived;
  char *text;

  (void)unlink(path);
  snprintf(arg, sizeof(arg), "log_file=%s", path);
  sweep(&s, &failed, &survived);
  /* Only the writes of its lines may fail without failing the login. */
  assert_int_equal(survived.n, 1);
  assert_true(tally_get(&survived, "write") > 0);
  assert_true(tally_get(&failed, "openat") > 0);
  /* The last, unfailed, run logged both decisions there. */
  text = wif_test_read(path, NULL);
  assert_non_null(strstr(text, "pam_wif(fi_pam:auth): auth outcome=success"));
  assert_non_null(
      strstr(text, "pam_wif(fi_pam:account): account outcome=success"));
  free(text);
  free(path);
}

static void before_cold(const struct world *w) {
  cache_clear(w);
}

static void before_warm_https(const struct world *w) {
  cache_restore(w);
}

static void test_h1_sweep_cold(void **state) {
  struct world *w = *state;
  struct scenario s = {.name = "cold",
                       .disk_cache = true,
                       .provider = "https",
                       .before = before_cold,
                       .w = w};
  struct tally failed, survived;

  setup_https(w);
  s.config_arg = w->conf_https;
  s.token = w->token_https;
  sweep(&s, &failed, &survived);
  idp_stop(w);
  /* The fetch runs in the helper: the module's process makes no request
   * and writes no cache file (N1). */
  assert_int_equal(tally_get(&failed, "curl_easy_perform"), 0);
  assert_int_equal(tally_get(&failed, "mkostemp"), 0);
  assert_int_equal(tally_get(&failed, "rename"), 0);
}

static void test_h1_sweep_warm_https(void **state) {
  struct world *w = *state;
  struct scenario s = {
      .name = "warm_https", .disk_cache = true, .provider = "https", .w = w};
  struct tally failed, survived;
  bool granted;

  /* Fill the cache with one login while the IdP runs, keep what it
   * wrote, then stop the IdP: from here on only the cache can serve. */
  setup_https(w);
  s.config_arg = w->conf_https;
  s.token = w->token_https;
  before_cold(w);
  assert_int_equal(transaction(&s, 0, &granted), PAM_SUCCESS);
  assert_true(granted);
  cache_snapshot(w);
  assert_true(w->n_snap >= 1);
  idp_stop(w);
  s.before = before_warm_https;
  sweep(&s, &failed, &survived);
  assert_int_equal(tally_get(&failed, "curl_easy_perform"), 0);
}

/* H7, for a dependency: the fetch helper is missing. A login that needs
 * a fetch fails closed and says why; one served from the cache never
 * starts the helper. */
static void test_h7_helper_missing(void **state) {
  struct world *w = *state;
  struct scenario s = {
      .name = "h7", .disk_cache = true, .provider = "https", .w = w};
  bool granted = true;
  bool logged = false;
  int ret;

  setup_https(w);
  s.config_arg = w->conf_https;
  s.token = w->token_https;
  before_cold(w);
  assert_int_equal(transaction(&s, 0, &granted), PAM_SUCCESS);
  cache_snapshot(w);

  s.helper_arg = "helper=" WIF_FI_DIR "/no-such-helper";
  before_cold(w);
  ret = transaction(&s, 0, &granted);
  for (size_t i = 0; i < n_log_lines; i++)
    logged |= strstr(log_lines[i], "no-such-helper") != NULL;
  before_warm_https(w);
  assert_int_equal(transaction(&s, 0, &granted), PAM_SUCCESS);
  idp_stop(w);

  if (ret == PAM_SUCCESS || ret == PAM_IGNORE)
    fail_msg("without the helper a cold login ended in %d", ret);
  assert_int_equal(ret, PAM_AUTHINFO_UNAVAIL);
  assert_true(logged);
  assert_true(granted); /* from the last, cached, login */
}

/* H8: each way a conversation can fail ends the login with a failure and
 * no grant, whatever the application left behind. */
static void test_h8_conversation_faults(void **state) {
  struct world *w = *state;
  static const struct {
    enum conv_fault fault;
    int expect;
  } cases[] = {{CONV_ERROR, PAM_CONV_ERR},
               {CONV_BUF_ERROR, PAM_BUF_ERR},
               {CONV_NULL_RESP, PAM_CONV_ERR},
               {CONV_NULL_FIELD, PAM_CONV_ERR}};

  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct scenario s = {.name = "h8",
                         .config_arg = w->conf_file,
                         .token = w->token_file,
                         .provider = "fi",
                         .conv_fault = cases[i].fault,
                         .w = w};
    bool granted = true;

    assert_int_equal(transaction(&s, 0, &granted), cases[i].expect);
    assert_false(granted);
    if (__lsan_do_recoverable_leak_check != NULL)
      assert_int_equal(__lsan_do_recoverable_leak_check(), 0);
  }
}

/* No argument: every test (the valgrind pass in tests/run.sh). "local":
 * those that need no network; "https": those on the loopback IdP. */
int main(int argc, char **argv) {
  const struct CMUnitTest local[] = {
      cmocka_unit_test(test_fake_handle),
      cmocka_unit_test_setup_teardown(test_h1_sweep_warm, setup, teardown),
      cmocka_unit_test_setup_teardown(test_h1_sweep_warm_parts, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_h1_sweep_first_pass, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_h8_conversation_faults, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_h1_sweep_sshd, setup, teardown),
      cmocka_unit_test_setup_teardown(test_h1_sweep_log_file, setup, teardown),
  };
  const struct CMUnitTest https[] = {
      cmocka_unit_test_setup_teardown(test_h1_sweep_cold, setup, teardown),
      cmocka_unit_test_setup_teardown(test_h1_sweep_warm_https, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_h7_helper_missing, setup, teardown),
  };
  const char *which = argc > 1 ? argv[1] : "all";

  group = which;
  int failed = 0;

  if (strcmp(which, "local") != 0 && strcmp(which, "https") != 0 &&
      strcmp(which, "all") != 0) {
    fprintf(stderr, "usage: fi_pam [local|https|all]\n");
    return 2;
  }
  if (strcmp(which, "https") != 0)
    failed += cmocka_run_group_tests_name("fi_pam local", local, NULL, NULL);
  if (strcmp(which, "local") != 0)
    failed += cmocka_run_group_tests_name("fi_pam https", https, NULL, NULL);
  return failed != 0;
}
