/* SPDX-License-Identifier: Apache-2.0 */
/* exec:COMMAND, the token callback: no shell, clean environment, bounded
 * time and output (SECURITY-CASES L1-L4, L6). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "json.h"
#include "source_int.h"
#include "subprocess.h"

#define EXEC_CMDLINE_MAX 4096

static char exec_path_env[] = "PATH=/usr/local/bin:/usr/bin:/bin";
static char exec_version_env[] = "WIF_CALLBACK_VERSION=1";

/* The command line split into words: owned copies, argv NULL-terminated. */
struct exec_argv {
  char *store;
  char *argv[WIF_SOURCE_EXEC_ARGS_MAX + 1];
  size_t argc;
};

/*
 * Splits like a shell would split plain words, and nothing more: blanks
 * separate words, '...' quotes literally, "..." quotes with \" and \\
 * escapes, a backslash outside quotes escapes the next byte. No
 * expansions, globs, redirections or variables.
 */
static wif_rc split_command(const char *cmd, struct exec_argv *out,
                            struct wif_error *err) {
  size_t len = strlen(cmd);
  const char *s = cmd;
  char *d;
  bool in_word = false;

  memset(out, 0, sizeof(*out));
  if (len == 0 || len > EXEC_CMDLINE_MAX)
    return wif_error_set(err, WIF_E_CONFIG_INVALID,
                         "exec: the command is empty or longer than %d bytes",
                         EXEC_CMDLINE_MAX);
  if ((out->store = calloc(len + 1, 1)) == NULL)
    return wif_error_set(err, WIF_E_NOMEM, "out of memory");
  d = out->store;
  while (*s != '\0') {
    char c = *s;

    if (c == ' ' || c == '\t') {
      if (in_word) {
        *d++ = '\0';
        in_word = false;
      }
      s++;
      continue;
    }
    if (!in_word) {
      if (out->argc == WIF_SOURCE_EXEC_ARGS_MAX)
        return wif_error_set(err, WIF_E_CONFIG_INVALID,
                             "exec: more than %d arguments",
                             WIF_SOURCE_EXEC_ARGS_MAX);
      out->argv[out->argc++] = d;
      in_word = true;
    }
    if (c == '\'') {
      for (s++; *s != '\0' && *s != '\''; s++)
        *d++ = *s;
      if (*s != '\'')
        return wif_error_set(err, WIF_E_CONFIG_INVALID,
                             "exec: unterminated ' in the command");
      s++;
    } else if (c == '"') {
      for (s++; *s != '\0' && *s != '"'; s++) {
        if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
          s++;
        *d++ = *s;
      }
      if (*s != '"')
        return wif_error_set(err, WIF_E_CONFIG_INVALID,
                             "exec: unterminated \" in the command");
      s++;
    } else if (c == '\\' && s[1] != '\0') {
      *d++ = s[1];
      s += 2;
    } else if (c == '\n' || c == '\r') {
      return wif_error_set(err, WIF_E_CONFIG_INVALID,
                           "exec: a newline in the command");
    } else {
      *d++ = c;
      s++;
    }
  }
  *d = '\0';
  if (out->argc == 0)
    return wif_error_set(err, WIF_E_CONFIG_INVALID, "exec: empty command");
  return WIF_OK;
}

static void free_argv(struct exec_argv *a) {
  free(a->store);
  memset(a, 0, sizeof(*a));
}

/*
 * L1, as OpenSSH requires of AuthorizedKeysCommand: an absolute path that
 * is not itself a symlink; the file and every directory above it are then
 * checked by subprocess.c on the resolved path (merged /usr makes /bin a
 * symlink), which is opened once and executed by descriptor.
 */
static wif_rc resolve(const char *path, bool trusted, char **out_resolved,
                      struct wif_error *err) {
  struct stat st;

  *out_resolved = NULL;
  if (trusted && path[0] != '/')
    return wif_error_set(err, WIF_E_CONFIG_INSECURE,
                         "exec: %s is not an absolute path", path);
  if (lstat(path, &st) != 0)
    return wif_error_set(err, WIF_E_CONFIG_INVALID, "exec: cannot run %s: %s",
                         path, strerror(errno));
  if (trusted && S_ISLNK(st.st_mode))
    return wif_error_set(err, WIF_E_CONFIG_INSECURE,
                         "exec: %s is a symbolic link", path);
  if ((*out_resolved = realpath(path, NULL)) == NULL)
    return wif_error_set(err, errno == ENOMEM ? WIF_E_NOMEM : WIF_E_SYSTEM,
                         "exec: %s: %s", path, strerror(errno));
  return WIF_OK;
}

static char *env_var(const char *name, const char *value) {
  size_t n = strlen(name) + strlen(value) + 2;
  char *s = malloc(n);

  if (s != NULL)
    (void)snprintf(s, n, "%s=%s", name, value);
  return s;
}

/* What the subprocess result means for a token callback. */
static wif_rc judge(const struct wif_subprocess_result *r, const char *shown,
                    const struct wif_log *log, struct wif_error *err) {
  const char *said = r->err_line[0] != '\0' ? r->err_line : NULL;

  if (!r->exited)
    return wif_error_set(err, WIF_E_TOKEN_UNAVAILABLE,
                         "exec: %s: the exit status is unknown (SIGCHLD is "
                         "ignored in this process)",
                         shown);
  if (r->signal != 0)
    return wif_error_set(err, WIF_E_TOKEN_UNAVAILABLE,
                         "exec: %s was killed by signal %d%s%s", shown,
                         r->signal, said ? ": " : "", said ? said : "");
  if (r->exit_status != 0)
    return wif_error_set(err, WIF_E_TOKEN_UNAVAILABLE,
                         "exec: %s exited with status %d%s%s", shown,
                         r->exit_status, said ? ": " : "", said ? said : "");
  if (said != NULL)
    wif_log(log, LOG_INFO, "exec: %s said on stderr: %s", shown, said);
  return WIF_OK;
}

static wif_rc parse_output(const char *buf, size_t len, char **out_token,
                           int64_t *out_exp, struct wif_error *err) {
  size_t i = 0;
  wif_rc rc;

  if (memchr(buf, '\0', len) != NULL)
    return wif_error_set(err, WIF_E_TOKEN_UNAVAILABLE,
                         "exec: the output holds a NUL byte");
  while (i < len &&
         (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n' || buf[i] == '\r'))
    i++;
  if (i < len && buf[i] == '{') {
    struct wif_json_doc *doc = NULL;
    const char *field = "/access_token";

    /* The Kubernetes ExecCredential shape keeps its token in status. */
    if (wif_json_parse(buf, len, 8, &doc, NULL) == WIF_OK &&
        wif_json_get(doc, wif_json_root(doc), "access_token") == NULL)
      field = "/status/token";
    wif_json_free(doc);
    return wif_source_json_token("exec", buf, len, field, out_token, out_exp,
                                 err);
  }
  if ((rc = wif_source_token_text("exec", buf, len, out_token, err)) != WIF_OK)
    return rc;
  rc = wif_source_token_exp(*out_token, out_exp, err);
  if (rc != WIF_OK) {
    wif_source_token_free(*out_token);
    *out_token = NULL;
  }
  return rc;
}

wif_rc wif_source_exec_fetch(const struct wif_source_opts *o,
                             const struct wif_log *log, char **out_token,
                             int64_t *out_exp, struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;
  struct exec_argv a;
  struct wif_subprocess sp;
  struct wif_subprocess_result r;
  struct wif_error serr;
  char *resolved = NULL;
  char *envp[6] = {NULL, NULL, NULL, NULL, NULL, NULL};
  char *owned[3] = {NULL, NULL, NULL};
  char timeout[32];
  size_t ne = 0;

  memset(&a, 0, sizeof(a));
  memset(&r, 0, sizeof(r));
  memset(&sp, 0, sizeof(sp));
  wif_error_clear(&serr);
  if (o->command == NULL) {
    rc = wif_error_set(err, WIF_E_CONFIG_INVALID, "exec: no command given");
    goto out;
  }
  if ((rc = split_command(o->command, &a, err)) != WIF_OK)
    goto out;
  if (a.argc == 0 || a.argv[0] == NULL) {
    rc = wif_error_set(err, WIF_E_CONFIG_INVALID, "exec: empty command");
    goto out;
  }
  if (!o->trusted && strchr(a.argv[0], '/') == NULL) {
    /* The child gets no PATH of the caller to search, and a name looked
     * up in some PATH is not what the user reviewed. */
    rc = wif_error_set(err, WIF_E_CONFIG_INVALID,
                       "exec: give the command as a path (/usr/bin/x or "
                       "./x), not a bare name");
    goto out;
  }
  if ((rc = resolve(a.argv[0], o->trusted, &resolved, err)) != WIF_OK)
    goto out;
  /* The whole environment of the command (L4). */
  (void)snprintf(timeout, sizeof(timeout), "WIF_TIMEOUT_MS=%ld",
                 wif_source_timeout_ms(o));
  envp[ne++] = exec_path_env;
  envp[ne++] = exec_version_env;
  if ((owned[0] = strdup(timeout)) == NULL)
    goto nomem;
  envp[ne++] = owned[0];
  if (o->audience != NULL) {
    if ((owned[1] = env_var("WIF_AUDIENCE", o->audience)) == NULL)
      goto nomem;
    envp[ne++] = owned[1];
  }
  if (o->client_id != NULL) {
    if ((owned[2] = env_var("WIF_CLIENT_ID", o->client_id)) == NULL)
      goto nomem;
    envp[ne++] = owned[2];
  }
  sp.path = resolved;
  sp.argv = (const char *const *)a.argv;
  sp.envp = (const char *const *)envp;
  /* Host identity mode: root's program, started as root in a clean state
   * whatever the caller's (N7). */
  sp.trusted = o->trusted;
  sp.owner = 0;
  sp.clean = o->trusted;
  sp.timeout_ms = wif_source_timeout_ms(o);
  sp.out_max = WIF_SOURCE_EXEC_OUTPUT_MAX;
  rc = wif_subprocess_run(&sp, &r, &serr);
  switch (rc) {
  case WIF_OK:
    break;
  case WIF_E_UNAVAILABLE:
    rc = wif_error_set(err, WIF_E_TOKEN_UNAVAILABLE,
                       "exec: %s did not finish in time", a.argv[0]);
    goto out;
  case WIF_E_TOO_LARGE:
    rc = wif_error_set(err, WIF_E_TOKEN_UNAVAILABLE,
                       "exec: %s wrote more than %d bytes", a.argv[0],
                       WIF_SOURCE_EXEC_OUTPUT_MAX);
    goto out;
  default:
    rc = wif_error_set(err, rc, "exec: %s", serr.msg);
    goto out;
  }
  if ((rc = judge(&r, a.argv[0], log, err)) != WIF_OK)
    goto out;
  rc = parse_output(r.out, r.out_len, out_token, out_exp, err);
  goto out;
nomem:
  rc = wif_error_set(err, WIF_E_NOMEM, "out of memory");
out:
  wif_subprocess_result_clear(&r);
  for (size_t i = 0; i < sizeof(owned) / sizeof(owned[0]); i++)
    free(owned[i]);
  free(resolved);
  free_argv(&a);
  return rc;
}
