/* SPDX-License-Identifier: Apache-2.0 */
/* A small PAM application for the hostile-caller suite (test_hostile.py).
 *
 * The suite installs a copy of it setuid root and runs it as an
 * unprivileged user with a hostile process state, the way su, chsh or
 * login run: one transaction on SERVICE for USER, the token answered to
 * every prompt, and the PAM results printed in a form the test parses:
 *
 *   pam_client [--result-fd N] [--token-fd N | --token TOKEN]
 *              [--phases auth,account,session] [--no-locale] SERVICE USER
 *
 *   start ruid=R euid=E
 *   phase auth 0 PAM_SUCCESS
 *   phase account 7 PAM_AUTH_ERR
 *   message 3 TEXT              (PAM_ERROR_MSG / PAM_TEXT_INFO)
 *   env WIF_PROVIDER=...        (the PAM environment after the last phase)
 *   end
 *
 * Results go to --result-fd only (default 1), so a run with descriptors
 * 0-2 closed still reports. Phases stop at the first failure, as su does.
 * Like su it calls setlocale(LC_ALL, "") (unless --no-locale), so the
 * caller's LC_ALL and LANG are in play. Only services whose name starts
 * with "wif-hostile-" are accepted: a setuid copy of this program must not
 * become a password-guessing tool for the system's own services.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <locale.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <security/pam_appl.h>

#define SERVICE_PREFIX "wif-hostile-"
#define TOKEN_MAX 65536
#define PART_MAX 999 /* the module's prompt protocol (common/prompt.h) */

struct app {
  int result_fd;
  const char *token;
  size_t token_len;
  size_t offset; /* token bytes already answered */
};

static void out(const struct app *app, const char *fmt, ...) {
  char line[8192];
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  if ((size_t)n >= sizeof(line))
    n = (int)sizeof(line) - 1;
  for (int i = 0; i < n;) {
    ssize_t w = write(app->result_fd, line + i, (size_t)(n - i));

    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return;
    i += (int)w;
  }
}

/* The next part of the token: at most PART_MAX bytes, with a trailing `\`
 * when more follow. The whole token again once it has been sent, so a
 * module that prompts twice sees the same answer. */
static char *next_part(struct app *app) {
  size_t left, n;
  char *s;

  if (app->offset >= app->token_len)
    app->offset = 0;
  left = app->token_len - app->offset;
  n = left > PART_MAX ? PART_MAX : left;
  s = malloc(n + 2);
  if (s == NULL)
    return NULL;
  memcpy(s, app->token + app->offset, n);
  app->offset += n;
  if (app->offset < app->token_len)
    s[n++] = '\\';
  s[n] = '\0';
  return s;
}

static int conv(int num, const struct pam_message **msg,
                struct pam_response **resp, void *data) {
  struct app *app = data;
  struct pam_response *r;

  if (num <= 0 || num > PAM_MAX_NUM_MSG)
    return PAM_CONV_ERR;
  r = calloc((size_t)num, sizeof(*r));
  if (r == NULL)
    return PAM_BUF_ERR;
  for (int i = 0; i < num; i++) {
    switch (msg[i]->msg_style) {
    case PAM_PROMPT_ECHO_OFF:
    case PAM_PROMPT_ECHO_ON:
      if (app->token == NULL)
        goto fail;
      if ((r[i].resp = next_part(app)) == NULL)
        goto fail;
      break;
    case PAM_ERROR_MSG:
    case PAM_TEXT_INFO:
      out(app, "message %d %s\n", msg[i]->msg_style,
          msg[i]->msg != NULL ? msg[i]->msg : "");
      break;
    default:
      goto fail;
    }
  }
  *resp = r;
  return PAM_SUCCESS;
fail:
  for (int i = 0; i < num; i++)
    free(r[i].resp);
  free(r);
  return PAM_CONV_ERR;
}

static char *read_fd(int fd, size_t *len) {
  char *buf = malloc(TOKEN_MAX + 1);
  size_t n = 0;

  if (buf == NULL)
    return NULL;
  while (n < TOKEN_MAX) {
    ssize_t r = read(fd, buf + n, TOKEN_MAX - n);

    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      free(buf);
      return NULL;
    }
    if (r == 0)
      break;
    n += (size_t)r;
  }
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
    n--;
  buf[n] = '\0';
  *len = n;
  return buf;
}

static bool parse_fd(const char *s, int *fd) {
  char *end;
  long v;

  errno = 0;
  v = strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < 0 || v > 1024)
    return false;
  *fd = (int)v;
  return true;
}

static int usage(void) {
  static const char text[] =
      "usage: pam_client [--result-fd N] [--token-fd N | --token TOKEN]\n"
      "                  [--phases auth,account,session] [--no-locale]\n"
      "                  SERVICE USER\n";

  if (write(2, text, sizeof(text) - 1) < 0)
    return 2;
  return 2;
}

static int run_phase(pam_handle_t *pamh, const char *phase) {
  if (strcmp(phase, "auth") == 0)
    return pam_authenticate(pamh, 0);
  if (strcmp(phase, "account") == 0)
    return pam_acct_mgmt(pamh, 0);
  if (strcmp(phase, "setcred") == 0)
    return pam_setcred(pamh, PAM_ESTABLISH_CRED);
  if (strcmp(phase, "session") == 0) {
    int ret = pam_open_session(pamh, 0);

    if (ret == PAM_SUCCESS)
      ret = pam_close_session(pamh, 0);
    return ret;
  }
  return -1;
}

static const char *pam_name(int ret) {
  switch (ret) {
#define N(x)                                                                   \
  case x:                                                                      \
    return #x
    N(PAM_SUCCESS);
    N(PAM_OPEN_ERR);
    N(PAM_SYMBOL_ERR);
    N(PAM_SERVICE_ERR);
    N(PAM_SYSTEM_ERR);
    N(PAM_BUF_ERR);
    N(PAM_PERM_DENIED);
    N(PAM_AUTH_ERR);
    N(PAM_CRED_INSUFFICIENT);
    N(PAM_AUTHINFO_UNAVAIL);
    N(PAM_USER_UNKNOWN);
    N(PAM_MAXTRIES);
    N(PAM_NEW_AUTHTOK_REQD);
    N(PAM_ACCT_EXPIRED);
    N(PAM_SESSION_ERR);
    N(PAM_CRED_UNAVAIL);
    N(PAM_CRED_EXPIRED);
    N(PAM_CRED_ERR);
    N(PAM_NO_MODULE_DATA);
    N(PAM_CONV_ERR);
    N(PAM_AUTHTOK_ERR);
    N(PAM_AUTHTOK_RECOVERY_ERR);
    N(PAM_AUTHTOK_LOCK_BUSY);
    N(PAM_AUTHTOK_DISABLE_AGING);
    N(PAM_TRY_AGAIN);
    N(PAM_IGNORE);
    N(PAM_ABORT);
    N(PAM_AUTHTOK_EXPIRED);
    N(PAM_MODULE_UNKNOWN);
    N(PAM_BAD_ITEM);
    N(PAM_CONV_AGAIN);
    N(PAM_INCOMPLETE);
#undef N
  default:
    return "PAM_UNKNOWN_CODE";
  }
}

int main(int argc, char **argv) {
  struct app app = {1, NULL, 0, 0};
  struct pam_conv pc = {conv, &app};
  pam_handle_t *pamh = NULL;
  const char *phases = "auth,account";
  char *token_buf = NULL;
  char *list = NULL;
  char *save = NULL;
  bool locale = true;
  int token_fd = -1;
  int status = 1;
  int ret;
  int i;

  for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
    if (strcmp(argv[i], "--result-fd") == 0 && i + 1 < argc) {
      if (!parse_fd(argv[++i], &app.result_fd))
        return usage();
    } else if (strcmp(argv[i], "--token-fd") == 0 && i + 1 < argc) {
      if (!parse_fd(argv[++i], &token_fd))
        return usage();
    } else if (strcmp(argv[i], "--token") == 0 && i + 1 < argc) {
      app.token = argv[++i];
      app.token_len = strlen(app.token);
    } else if (strcmp(argv[i], "--phases") == 0 && i + 1 < argc) {
      phases = argv[++i];
    } else if (strcmp(argv[i], "--no-locale") == 0) {
      locale = false;
    } else {
      return usage();
    }
  }
  if (argc - i != 2 ||
      strncmp(argv[i], SERVICE_PREFIX, sizeof(SERVICE_PREFIX) - 1) != 0)
    return usage();
  if (locale)
    (void)setlocale(LC_ALL, "");
  if (token_fd >= 0) {
    if ((token_buf = read_fd(token_fd, &app.token_len)) == NULL)
      return 2;
    app.token = token_buf;
  }
  out(&app, "start ruid=%d euid=%d\n", (int)getuid(), (int)geteuid());
  ret = pam_start(argv[i], argv[i + 1], &pc, &pamh);
  if (ret != PAM_SUCCESS) {
    out(&app, "phase start %d %s\n", ret, pam_name(ret));
    goto out;
  }
  if ((list = strdup(phases)) == NULL)
    goto out;
  status = 0;
  for (char *p = strtok_r(list, ",", &save); p != NULL;
       p = strtok_r(NULL, ",", &save)) {
    ret = run_phase(pamh, p);
    if (ret < 0) {
      out(&app, "phase %s -1 unknown-phase\n", p);
      status = 1;
      break;
    }
    out(&app, "phase %s %d %s\n", p, ret, pam_name(ret));
    if (ret != PAM_SUCCESS) {
      status = 1;
      break;
    }
  }
  {
    char **env = pam_getenvlist(pamh);

    for (char **e = env; e != NULL && *e != NULL; e++) {
      out(&app, "env %s\n", *e);
      free(*e);
    }
    free(env);
  }
out:
  if (pamh != NULL)
    pam_end(pamh, ret);
  out(&app, "end\n");
  free(list);
  free(token_buf);
  return status;
}
