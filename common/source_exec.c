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

#define EXEC_CMDLINE_MAX 4096
#define EXEC_TERM_GRACE_MS 500

/* The whole inherited environment of the command (L4), plus WIF_AUDIENCE
 * and WIF_CLIENT_ID. */
static char exec_path_env[] = "PATH=/usr/local/bin:/usr/bin:/bin";

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

static bool unsafe_mode(const struct stat *st) {
  return st->st_uid != 0 || (st->st_mode & (S_IWGRP | S_IWOTH)) != 0;
}

/*
 * L1, as OpenSSH requires of AuthorizedKeysCommand: an absolute path, not
 * a symlink, a regular file owned by root and not writable by group or
 * others, in directories with the same properties all the way up. The
 * directories are checked on the resolved path (merged /usr makes /bin a
 * symlink); *out_resolved is what gets executed.
 */
static wif_rc check_trusted(const char *path, char **out_resolved,
                            struct wif_error *err) {
  wif_rc rc = WIF_E_CONFIG_INSECURE;
  struct stat st;
  char *real = NULL;
  char *dir = NULL;

  *out_resolved = NULL;
  if (path[0] != '/') {
    rc = wif_error_set(err, WIF_E_CONFIG_INSECURE,
                       "exec: %s is not an absolute path", path);
    goto out;
  }
  if (lstat(path, &st) != 0) {
    rc = wif_error_set(err, WIF_E_CONFIG_INVALID, "exec: %s: %s", path,
                       strerror(errno));
    goto out;
  }
  if (S_ISLNK(st.st_mode)) {
    rc = wif_error_set(err, WIF_E_CONFIG_INSECURE,
                       "exec: %s is a symbolic link", path);
    goto out;
  }
  if ((real = realpath(path, NULL)) == NULL) {
    rc = wif_error_set(err, errno == ENOMEM ? WIF_E_NOMEM : WIF_E_SYSTEM,
                       "exec: %s: %s", path, strerror(errno));
    goto out;
  }
  if (stat(real, &st) != 0 || !S_ISREG(st.st_mode)) {
    rc = wif_error_set(err, WIF_E_CONFIG_INVALID,
                       "exec: %s is not a regular file", path);
    goto out;
  }
  if (unsafe_mode(&st)) {
    rc = wif_error_set(err, WIF_E_CONFIG_INSECURE,
                       "exec: %s must be owned by root and not writable by "
                       "group or others",
                       path);
    goto out;
  }
  if ((dir = strdup(real)) == NULL) {
    rc = wif_error_set(err, WIF_E_NOMEM, "out of memory");
    goto out;
  }
  for (;;) {
    char *slash = strrchr(dir, '/');

    if (slash == NULL)
      break;
    if (slash == dir)
      slash[1] = '\0';
    else
      *slash = '\0';
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || unsafe_mode(&st)) {
      rc = wif_error_set(err, WIF_E_CONFIG_INSECURE,
                         "exec: directory %s above %s must be owned by root "
                         "and not writable by group or others",
                         dir, path);
      goto out;
    }
    if (strcmp(dir, "/") == 0)
      break;
  }
  *out_resolved = real;
  real = NULL;
  rc = WIF_OK;
out:
  free(dir);
  free(real);
  return rc;
}

static int64_t mono_ms(void) {
  struct timespec ts;

  (void)clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms) {
  struct timespec ts = {0, ms * 1000000L};

  (void)nanosleep(&ts, NULL);
}

static char *env_var(const char *name, const char *value) {
  size_t n = strlen(name) + strlen(value) + 2;
  char *s = malloc(n);

  if (s != NULL)
    (void)snprintf(s, n, "%s=%s", name, value);
  return s;
}

/* Child side, between fork and execve: only async-signal-safe calls. */
static void child(const char *prog, char *const argv[], char *const envp[],
                  int out_fd, int err_fd) {
  sigset_t none;
  int devnull;
  int e;

  (void)setpgid(0, 0); /* its own group, so a timeout kills its children */
  sigemptyset(&none);
  (void)sigprocmask(SIG_SETMASK, &none, NULL);
  /* A host that ignores SIGPIPE or SIGCHLD must not pass that on (L6);
   * this is the child's copy of the dispositions. */
  (void)signal(SIGPIPE, SIG_DFL);
  (void)signal(SIGCHLD, SIG_DFL);
  if ((devnull = open("/dev/null", O_RDONLY)) < 0 ||
      dup2(devnull, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0)
    goto fail;
  /* Everything else closes (L4): PAM conversation sockets, lock files,
   * a debug log. err_fd is close-on-exec and reports a failed execve. */
  (void)close_range(3, (unsigned)err_fd - 1, 0);
  (void)close_range((unsigned)err_fd + 1, ~0U, 0);
  execve(prog, argv, envp);
fail:
  e = errno;
  (void)!write(err_fd, &e, sizeof(e));
  _exit(127);
}

/* Waits for pid without blocking past deadline; true when reaped. A host
 * that ignores SIGCHLD reaps for us: ECHILD then means "gone, status
 * unknown" (L6). */
static bool reap(pid_t pid, int64_t deadline, int *status, bool *unknown) {
  for (;;) {
    pid_t w = waitpid(pid, status, WNOHANG);

    if (w == pid)
      return true;
    if (w < 0 && errno == ECHILD) {
      *unknown = true;
      return true;
    }
    if (w < 0 && errno != EINTR)
      return false;
    if (mono_ms() >= deadline)
      return false;
    sleep_ms(10);
  }
}

static void kill_group(pid_t pid, int *status, bool *unknown) {
  (void)kill(-pid, SIGTERM);
  (void)kill(pid, SIGTERM);
  if (reap(pid, mono_ms() + EXEC_TERM_GRACE_MS, status, unknown)) {
    (void)kill(-pid, SIGKILL); /* stragglers of the group */
    return;
  }
  (void)kill(-pid, SIGKILL);
  (void)kill(pid, SIGKILL);
  while (waitpid(pid, status, 0) < 0 && errno == EINTR)
    ;
}

/* Reads the child's stdout into buf until EOF, the cap or the deadline. */
static wif_rc read_output(int fd, int64_t deadline, char *buf, size_t cap,
                          size_t *out_len, struct wif_error *err) {
  size_t len = 0;

  *out_len = 0;
  for (;;) {
    struct pollfd p = {fd, POLLIN, 0};
    int64_t left = deadline - mono_ms();
    int n;
    ssize_t r;

    if (left <= 0)
      return wif_error_set(err, WIF_E_TOKEN_UNAVAILABLE,
                           "exec: the command did not finish in time");
    n = poll(&p, 1, (int)(left > INT_MAX ? INT_MAX : left));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return wif_error_set(err, WIF_E_SYSTEM, "exec: poll: %s",
                           strerror(errno));
    if (n == 0)
      continue;
    r = read(fd, buf + len, cap - len);
    if (r < 0 && (errno == EINTR || errno == EAGAIN))
      continue;
    if (r < 0)
      return wif_error_set(err, WIF_E_SYSTEM, "exec: read: %s",
                           strerror(errno));
    if (r == 0)
      break;
    len += (size_t)r;
    if (len == cap)
      return wif_error_set(err, WIF_E_TOKEN_UNAVAILABLE,
                           "exec: the command wrote more than %d bytes",
                           WIF_SOURCE_EXEC_OUTPUT_MAX);
  }
  *out_len = len;
  return WIF_OK;
}

/* A host may run us with fd 0, 1 or 2 closed; a pipe end there would be
 * clobbered by the child's dup2 calls. */
static wif_rc lift_fds(int fds[2], struct wif_error *err) {
  for (int i = 0; i < 2; i++) {
    int fd;

    if (fds[i] > STDERR_FILENO)
      continue;
    if ((fd = fcntl(fds[i], F_DUPFD_CLOEXEC, STDERR_FILENO + 1)) < 0)
      return wif_error_set(err, WIF_E_SYSTEM, "exec: fcntl: %s",
                           strerror(errno));
    (void)close(fds[i]);
    fds[i] = fd;
  }
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
  char *resolved = NULL;
  char *envp[4] = {NULL, NULL, NULL, NULL};
  char *aud_env = NULL;
  char *cid_env = NULL;
  char *buf = NULL;
  size_t len = 0;
  int out_pipe[2] = {-1, -1};
  int err_pipe[2] = {-1, -1};
  pid_t pid = -1;
  int status = 0;
  bool unknown = false;
  bool reaped = false;
  int64_t deadline;
  size_t ne = 0;
  int child_errno = 0;

  memset(&a, 0, sizeof(a));
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
  if (o->trusted_exec) {
    if ((rc = check_trusted(a.argv[0], &resolved, err)) != WIF_OK)
      goto out;
  } else if (strchr(a.argv[0], '/') == NULL) {
    /* The child gets no PATH of the caller to search, and a name looked
     * up in some PATH is not what the user reviewed. */
    rc = wif_error_set(err, WIF_E_CONFIG_INVALID,
                       "exec: give the command as a path (/usr/bin/x or "
                       "./x), not a bare name");
    goto out;
  }
  /* Everything the child needs is allocated before fork. */
  envp[ne++] = exec_path_env;
  if (o->audience != NULL) {
    if ((aud_env = env_var("WIF_AUDIENCE", o->audience)) == NULL)
      goto nomem;
    envp[ne++] = aud_env;
  }
  if (o->client_id != NULL) {
    if ((cid_env = env_var("WIF_CLIENT_ID", o->client_id)) == NULL)
      goto nomem;
    envp[ne++] = cid_env;
  }
  if ((buf = malloc(WIF_SOURCE_EXEC_OUTPUT_MAX + 1)) == NULL)
    goto nomem;
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    rc = wif_error_set(err, WIF_E_SYSTEM, "exec: pipe: %s", strerror(errno));
    goto out;
  }
  if ((rc = lift_fds(out_pipe, err)) != WIF_OK ||
      (rc = lift_fds(err_pipe, err)) != WIF_OK)
    goto out;
  deadline = mono_ms() + wif_source_timeout_ms(o);
  if ((pid = fork()) < 0) {
    rc = wif_error_set(err, WIF_E_SYSTEM, "exec: fork: %s", strerror(errno));
    goto out;
  }
  if (pid == 0)
    child(resolved ? resolved : a.argv[0], a.argv, envp, out_pipe[1],
          err_pipe[1]);
  (void)setpgid(pid, pid); /* no race with the child's own call */
  (void)close(out_pipe[1]);
  (void)close(err_pipe[1]);
  out_pipe[1] = err_pipe[1] = -1;
  /* EOF once execve succeeded (close-on-exec), or the child's errno. */
  while (read(err_pipe[0], &child_errno, sizeof(child_errno)) < 0 &&
         errno == EINTR)
    ;
  if (child_errno != 0) {
    (void)reap(pid, mono_ms() + 1000, &status, &unknown);
    reaped = true;
    rc = wif_error_set(err, WIF_E_CONFIG_INVALID, "exec: cannot run %s: %s",
                       a.argv[0], strerror(child_errno));
    goto out;
  }
  rc = read_output(out_pipe[0], deadline, buf, WIF_SOURCE_EXEC_OUTPUT_MAX, &len,
                   err);
  if (rc != WIF_OK)
    goto out;
  /* Output closed; the command itself still has to exit in time (L2). */
  if (!(reaped = reap(pid, deadline, &status, &unknown))) {
    rc = wif_error_set(err, WIF_E_TOKEN_UNAVAILABLE,
                       "exec: the command did not exit in time");
    goto out;
  }
  if (unknown) {
    rc = wif_error_set(err, WIF_E_TOKEN_UNAVAILABLE,
                       "exec: the command's exit status is unknown (SIGCHLD "
                       "is ignored in this process)");
    goto out;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    if (WIFSIGNALED(status))
      rc = wif_error_set(err, WIF_E_TOKEN_UNAVAILABLE,
                         "exec: the command was killed by signal %d",
                         WTERMSIG(status));
    else
      rc = wif_error_set(err, WIF_E_TOKEN_UNAVAILABLE,
                         "exec: the command exited with status %d",
                         WEXITSTATUS(status));
    goto out;
  }
  buf[len] = '\0';
  rc = parse_output(buf, len, out_token, out_exp, err);
  goto out;
nomem:
  rc = wif_error_set(err, WIF_E_NOMEM, "out of memory");
out:
  if (pid > 0 && !reaped) {
    wif_log(log, LOG_WARNING, "exec: stopping the command (pid %ld)",
            (long)pid);
    kill_group(pid, &status, &unknown);
  }
  for (int i = 0; i < 2; i++) {
    if (out_pipe[i] >= 0)
      (void)close(out_pipe[i]);
    if (err_pipe[i] >= 0)
      (void)close(err_pipe[i]);
  }
  if (buf != NULL) {
    OPENSSL_cleanse(buf, WIF_SOURCE_EXEC_OUTPUT_MAX + 1);
    free(buf);
  }
  free(aud_env);
  free(cid_env);
  free(resolved);
  free_argv(&a);
  return rc;
}
