/* SPDX-License-Identifier: Apache-2.0 */
/* Running a program from inside someone else's process, with a start
 * state we define rather than the caller's. */
#include "subprocess.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "file.h"
#include "log.h"
#include "wipe.h"

/* Our descriptors are moved above this before the fork, so the child's
 * dup2() onto 0-4 can never overwrite one it still needs. */
#define FD_FLOOR 10
/* The program is fd 3 in the child: a #! script's interpreter opens it
 * as /dev/fd/3. fd 4 reports a failed exec. */
#define CHILD_PROG_FD 3
#define CHILD_STATUS_FD 4

enum { P_STATUS, P_OUT, P_ERR, P_N };

/* Everything the child touches, prepared before the fork. */
struct child_plan {
  const struct wif_subprocess *s;
  int devnull;
  int prog;
  int status_w;
  int out_w;
  int err_w;
  bool script;
};

static void close_fd(int *fd) {
  if (*fd >= 0)
    (void)close(*fd);
  *fd = -1;
}

/* Moves *fd to FD_FLOOR or above, close-on-exec. */
static wif_rc lift(int *fd, struct wif_error *err) {
  int n;

  if (*fd >= FD_FLOOR)
    return WIF_OK;
  if ((n = fcntl(*fd, F_DUPFD_CLOEXEC, FD_FLOOR)) < 0)
    return wif_error_set(err, WIF_E_SYSTEM, "fcntl: %s", strerror(errno));
  (void)close(*fd);
  *fd = n;
  return WIF_OK;
}

static wif_rc open_program(const struct wif_subprocess *s, int *out_fd,
                           bool *script, struct wif_error *err) {
  wif_rc rc;
  struct stat st;
  char magic[2];
  int fd = -1;

  *out_fd = -1;
  *script = false;
  if (s->path == NULL || s->path[0] != '/')
    return wif_error_set(err, WIF_E_CONFIG_INVALID,
                         "%s: the program must be an absolute path",
                         s->path != NULL ? s->path : "(null)");
  if (s->trusted) {
    if ((rc = wif_file_open_trusted(s->path, s->owner, &fd, err)) != WIF_OK)
      return rc;
  } else if ((fd = open(s->path,
                        O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)) < 0) {
    return wif_error_set(err, WIF_E_CONFIG_INVALID, "%s: cannot open: %s",
                         s->path, strerror(errno));
  }
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
      (st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) == 0) {
    (void)close(fd);
    return wif_error_set(err, WIF_E_CONFIG_INVALID,
                         "%s: not an executable regular file", s->path);
  }
  *script = pread(fd, magic, sizeof(magic), 0) == (ssize_t)sizeof(magic) &&
            magic[0] == '#' && magic[1] == '!';
  *out_fd = fd;
  return WIF_OK;
}

/* glibc's name for the type setrlimit takes under _GNU_SOURCE. */
typedef __rlimit_resource_t limit_t;

static bool set_limit(limit_t resource, rlim_t value) {
  struct rlimit rl = {value, value};

  return setrlimit(resource, &rl) == 0;
}

/* No limit: set, or already so where it cannot be set (valgrind refuses
 * changes to some limits it keeps for itself). */
static bool set_unlimited(limit_t resource) {
  struct rlimit rl;

  if (set_limit(resource, RLIM_INFINITY))
    return true;
  return getrlimit(resource, &rl) == 0 && rl.rlim_cur == RLIM_INFINITY &&
         rl.rlim_max == RLIM_INFINITY;
}

/* WIF_SUBPROCESS_NOFILE as soft and hard limit; where the hard limit
 * cannot be lowered to it (valgrind keeps descriptors of its own above
 * it), as the soft limit under the hard one. */
static bool set_nofile(void) {
  struct rlimit rl;

  if (set_limit(RLIMIT_NOFILE, WIF_SUBPROCESS_NOFILE))
    return true;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_max < WIF_SUBPROCESS_NOFILE)
    return false;
  rl.rlim_cur = WIF_SUBPROCESS_NOFILE;
  return setrlimit(RLIMIT_NOFILE, &rl) == 0;
}

/* The clean start; false (errno set) when root cannot get it. Root's
 * programs run with root's group, not the effective group a setuid
 * (not setgid) program keeps from its caller. */
static bool clean_start(void) {
  uid_t uid = geteuid();
  gid_t gid = uid == 0 ? 0 : getegid();
  bool ok;

  /* Raw system calls: glibc's wrappers would try to change the ids of
   * every thread of the host, which the child no longer has. */
  if (uid == 0 && syscall(SYS_setgroups, 1, &gid) != 0)
    return false;
  if (syscall(SYS_setresgid, gid, gid, gid) != 0 ||
      syscall(SYS_setresuid, uid, uid, uid) != 0)
    return false;
  (void)umask(077);
  if (chdir("/") != 0)
    return false;
  ok = set_nofile() && set_limit(RLIMIT_CORE, 0) &&
       set_unlimited(RLIMIT_FSIZE) && set_unlimited(RLIMIT_CPU) &&
       set_unlimited(RLIMIT_AS) && set_unlimited(RLIMIT_DATA);
  /* Only root may raise a limit; a service user keeps what it has. */
  if (!ok && uid == 0)
    return false;
  (void)set_limit(RLIMIT_CORE, 0);
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0;
}

/* exec takes char *const[] for historical reasons; it writes nothing. */
static char *const *mutable(const char *const *v) {
  union {
    const char *const *c;
    char *const *m;
  } u;

  u.c = v;
  return u.m;
}

/* Child side, between fork and exec: only async-signal-safe calls. */
static void child(const struct child_plan *p) {
  struct sigaction dfl;
  sigset_t none;
  int report = p->status_w;
  int e;

  memset(&dfl, 0, sizeof(dfl));
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; sig++)
    (void)sigaction(sig, &dfl, NULL);
  (void)setsid();
  if (p->s->clean && !clean_start())
    goto fail;
  if (dup2(p->devnull, STDIN_FILENO) < 0 || dup2(p->out_w, STDOUT_FILENO) < 0 ||
      dup2(p->err_w, STDERR_FILENO) < 0 || dup2(p->prog, CHILD_PROG_FD) < 0 ||
      dup2(p->status_w, CHILD_STATUS_FD) < 0 ||
      fcntl(CHILD_STATUS_FD, F_SETFD, FD_CLOEXEC) < 0 ||
      (!p->script && fcntl(CHILD_PROG_FD, F_SETFD, FD_CLOEXEC) < 0))
    goto fail;
  report = CHILD_STATUS_FD;
  (void)close_range(CHILD_STATUS_FD + 1, ~0U, 0);
  sigemptyset(&none);
  (void)sigprocmask(SIG_SETMASK, &none, NULL);
  fexecve(CHILD_PROG_FD, mutable(p->s->argv), mutable(p->s->envp));
fail:
  e = errno;
  (void)!write(report, &e, sizeof(e));
  _exit(127);
}

/* Keeps the first line of stderr, printable; the rest is drained. */
static void keep_err(struct wif_subprocess_result *r, size_t *len,
                     const char *buf, size_t n) {
  size_t room = sizeof(r->err_line) - 1;

  for (size_t i = 0; i < n && *len < room; i++) {
    if (buf[i] == '\n') {
      *len = room;
      break;
    }
    unsigned char c = (unsigned char)buf[i];

    r->err_line[(*len)++] = (char)(c >= 0x20 && c < 0x7f ? c : '?');
  }
  r->err_line[*len < room ? *len : room] = '\0';
}

/* Reads the three pipes until they all close or the deadline passes. */
static wif_rc pump(int fds[P_N], int64_t deadline, size_t out_max,
                   struct wif_subprocess_result *r, int *exec_errno,
                   struct wif_error *err) {
  char buf[4096];
  size_t err_len = 0;
  size_t status_len = 0;
  size_t cap = out_max + 1;

  if ((r->out = malloc(cap)) == NULL)
    return wif_error_set(err, WIF_E_NOMEM, "out of memory");
  r->out[0] = '\0';
  while (fds[P_STATUS] >= 0 || fds[P_OUT] >= 0 || fds[P_ERR] >= 0) {
    struct pollfd pf[P_N];
    int64_t left = deadline - wif_clock_mono_ms();
    int n;

    if (left <= 0)
      return wif_error_set(err, WIF_E_UNAVAILABLE, "timeout");
    for (int i = 0; i < P_N; i++) {
      pf[i].fd = fds[i];
      pf[i].events = POLLIN;
      pf[i].revents = 0;
    }
    n = poll(pf, P_N, (int)(left > INT_MAX ? INT_MAX : left));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return wif_error_set(err, WIF_E_SYSTEM, "poll: %s", strerror(errno));
    for (int i = 0; i < P_N; i++) {
      ssize_t got;
      char *dst = buf;
      size_t want = sizeof(buf);

      if (fds[i] < 0 || pf[i].revents == 0)
        continue;
      if (i == P_OUT) {
        dst = r->out + r->out_len;
        want = cap - r->out_len;
      } else if (i == P_STATUS) {
        dst = (char *)exec_errno + status_len;
        want = sizeof(*exec_errno) - status_len;
      }
      got = read(fds[i], dst, want);
      if (got < 0 && (errno == EINTR || errno == EAGAIN))
        continue;
      /* A short read would pass for the whole answer. */
      if (got < 0)
        return wif_error_set(err, WIF_E_SYSTEM, "read: %s", strerror(errno));
      if (got == 0) {
        close_fd(&fds[i]);
        continue;
      }
      if (i == P_OUT) {
        r->out_len += (size_t)got;
        if (r->out_len > out_max)
          return wif_error_set(err, WIF_E_TOO_LARGE,
                               "wrote more than %zu bytes", out_max);
        r->out[r->out_len] = '\0';
      } else if (i == P_STATUS) {
        status_len += (size_t)got;
        if (status_len == sizeof(*exec_errno))
          close_fd(&fds[i]);
      } else {
        keep_err(r, &err_len, buf, (size_t)got);
      }
    }
  }
  if (status_len != sizeof(*exec_errno))
    *exec_errno = 0;
  return WIF_OK;
}

/* Waits for pid alone until the deadline; false when it is still there. */
static bool reap(pid_t pid, int64_t deadline, struct wif_subprocess_result *r) {
  for (;;) {
    int status = 0;
    pid_t w = waitpid(pid, &status, WNOHANG);

    if (w == pid) {
      r->exited = true;
      r->exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      r->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
      return true;
    }
    /* The host reaps its children itself (SIGCHLD ignored, or a
     * handler calling wait): gone, status unknown. */
    if (w < 0 && errno == ECHILD)
      return true;
    if (w < 0 && errno != EINTR)
      return false;
    if (wif_clock_mono_ms() >= deadline)
      return false;
    wif_clock_sleep_ms(5);
  }
}

static void kill_and_reap(pid_t pid) {
  (void)kill(-pid, SIGKILL);
  (void)kill(pid, SIGKILL);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
    ;
}

/* A failure keeps err_line (it often says why) but no partial output. */
static void drop_output(struct wif_subprocess_result *r) {
  wif_wipe_free(r->out, r->out_len);
  r->out = NULL;
  r->out_len = 0;
}

wif_rc wif_subprocess_run(const struct wif_subprocess *s,
                          struct wif_subprocess_result *out,
                          struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;
  struct child_plan plan;
  int status_p[2] = {-1, -1};
  int out_p[2] = {-1, -1};
  int err_p[2] = {-1, -1};
  int fds[P_N] = {-1, -1, -1};
  int exec_errno = 0;
  sigset_t all, old;
  pid_t pid = -1;
  bool reaped = false;
  int64_t deadline;

  if (out != NULL)
    memset(out, 0, sizeof(*out));
  memset(&plan, 0, sizeof(plan));
  plan.devnull = plan.prog = -1;
  if (s == NULL || out == NULL || s->argv == NULL || s->envp == NULL ||
      s->timeout_ms <= 0)
    return wif_error_set(err, WIF_E_INTERNAL, "wif_subprocess_run: bad call");
  deadline = wif_clock_mono_ms() + s->timeout_ms;
  plan.s = s;
  if ((rc = open_program(s, &plan.prog, &plan.script, err)) != WIF_OK)
    goto out;
  rc = WIF_E_SYSTEM;
  if ((plan.devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0 ||
      pipe2(status_p, O_CLOEXEC) != 0 || pipe2(out_p, O_CLOEXEC) != 0 ||
      pipe2(err_p, O_CLOEXEC) != 0) {
    rc = wif_error_set(err, WIF_E_SYSTEM, "%s: cannot prepare: %s", s->path,
                       strerror(errno));
    goto out;
  }
  /* The host may run us with 0, 1 or 2 closed, so any of these may sit
   * where the child's dup2() calls land. */
  if ((rc = lift(&plan.devnull, err)) != WIF_OK ||
      (rc = lift(&plan.prog, err)) != WIF_OK ||
      (rc = lift(&status_p[0], err)) != WIF_OK ||
      (rc = lift(&status_p[1], err)) != WIF_OK ||
      (rc = lift(&out_p[0], err)) != WIF_OK ||
      (rc = lift(&out_p[1], err)) != WIF_OK ||
      (rc = lift(&err_p[0], err)) != WIF_OK ||
      (rc = lift(&err_p[1], err)) != WIF_OK)
    goto out;
  plan.status_w = status_p[1];
  plan.out_w = out_p[1];
  plan.err_w = err_p[1];

  /* No handler of the host may run in the child before its dispositions
   * are reset; _Fork also skips the host's atfork handlers. */
  sigfillset(&all);
  (void)pthread_sigmask(SIG_SETMASK, &all, &old);
  pid = _Fork();
  if (pid == 0)
    child(&plan);
  (void)pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (pid < 0) {
    rc = wif_error_set(err, WIF_E_SYSTEM, "%s: fork: %s", s->path,
                       strerror(errno));
    goto out;
  }
  close_fd(&status_p[1]);
  close_fd(&out_p[1]);
  close_fd(&err_p[1]);
  fds[P_STATUS] = status_p[0];
  fds[P_OUT] = out_p[0];
  fds[P_ERR] = err_p[0];
  status_p[0] = out_p[0] = err_p[0] = -1;

  rc = pump(fds, deadline, s->out_max, out, &exec_errno, err);
  if (rc == WIF_E_UNAVAILABLE) {
    wif_error_set(err, rc, "%s did not finish within %ld ms", s->path,
                  s->timeout_ms);
    goto out;
  }
  if (rc == WIF_E_TOO_LARGE) {
    wif_error_set(err, rc, "%s wrote more than %zu bytes", s->path, s->out_max);
    goto out;
  }
  if (rc != WIF_OK)
    goto out;
  if (!(reaped = reap(pid, deadline, out))) {
    rc = wif_error_set(err, WIF_E_UNAVAILABLE, "%s did not exit within %ld ms",
                       s->path, s->timeout_ms);
    goto out;
  }
  if (exec_errno != 0) {
    rc = wif_error_set(err, WIF_E_CONFIG_INVALID, "%s: cannot execute: %s",
                       s->path, strerror(exec_errno));
    goto out;
  }
  rc = WIF_OK;
out:
  if (pid > 0 && !reaped)
    kill_and_reap(pid);
  for (int i = 0; i < P_N; i++)
    close_fd(&fds[i]);
  close_fd(&status_p[0]);
  close_fd(&status_p[1]);
  close_fd(&out_p[0]);
  close_fd(&out_p[1]);
  close_fd(&err_p[0]);
  close_fd(&err_p[1]);
  close_fd(&plan.devnull);
  close_fd(&plan.prog);
  if (rc != WIF_OK)
    drop_output(out);
  return rc;
}

void wif_subprocess_result_clear(struct wif_subprocess_result *r) {
  if (r == NULL)
    return;
  drop_output(r);
  memset(r, 0, sizeof(*r));
}
