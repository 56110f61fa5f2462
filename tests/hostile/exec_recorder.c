/* SPDX-License-Identifier: Apache-2.0 */
/* The exec: token program of the hostile-caller suite (test_hostile.py).
 *
 *   exec_recorder RECORD TOKEN_FILE
 *
 * Records the process state pam_wif started it in, before opening
 * anything, into RECORD (created 0600, O_EXCL: the test removes it
 * first, in a root-only directory, so a run that is not root's leaves no
 * record), then prints the token read from TOKEN_FILE on stdout and two
 * lines on stderr (only the first may reach the log). One line each:
 *
 *   uid R E S
 *   gid R E S
 *   groups G...            (sorted as getgroups gives them)
 *   umask 0077
 *   cwd PATH
 *   rlimit NAME SOFT HARD  (numbers or "unlimited")
 *   sigmask EMPTY|BLOCKED  (the blocked set at start)
 *   sigign N...            (signals whose disposition is SIG_IGN)
 *   fd N TARGET            (readlink of /proc/self/fd/N, every open one)
 *   env NAME=VALUE
 *
 * A compiled program rather than a shell script: a shell's own
 * redirections and descriptors would be recorded as the program's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define FD_SCAN_MAX 4096
#define TOKEN_MAX 65536
#define MARK "hostile-exec-stderr-first-line"

extern char **environ;

struct text {
  char buf[256 * 1024];
  size_t len;
};

static void add(struct text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void add(struct text *t, const char *fmt, ...) {
  va_list ap;
  int n;

  if (t->len >= sizeof(t->buf))
    return;
  va_start(ap, fmt);
  n = vsnprintf(t->buf + t->len, sizeof(t->buf) - t->len, fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  t->len += (size_t)n;
  if (t->len > sizeof(t->buf))
    t->len = sizeof(t->buf);
}

static void add_limit(struct text *t, const char *name, int resource) {
  struct rlimit rl;
  char soft[32], hard[32];

  if (getrlimit(resource, &rl) != 0) {
    add(t, "rlimit %s error %d\n", name, errno);
    return;
  }
  if (rl.rlim_cur == RLIM_INFINITY)
    (void)snprintf(soft, sizeof(soft), "unlimited");
  else
    (void)snprintf(soft, sizeof(soft), "%llu", (unsigned long long)rl.rlim_cur);
  if (rl.rlim_max == RLIM_INFINITY)
    (void)snprintf(hard, sizeof(hard), "unlimited");
  else
    (void)snprintf(hard, sizeof(hard), "%llu", (unsigned long long)rl.rlim_max);
  add(t, "rlimit %s %s %s\n", name, soft, hard);
}

/* The state as started: nothing here opens a descriptor. */
static void record(struct text *t) {
  uid_t ru, eu, su;
  gid_t rg, eg, sg;
  gid_t groups[NGROUPS_MAX];
  int ng;
  mode_t mask;
  char path[PATH_MAX];
  sigset_t blocked;
  int any = 0;

  if (getresuid(&ru, &eu, &su) == 0)
    add(t, "uid %u %u %u\n", (unsigned)ru, (unsigned)eu, (unsigned)su);
  if (getresgid(&rg, &eg, &sg) == 0)
    add(t, "gid %u %u %u\n", (unsigned)rg, (unsigned)eg, (unsigned)sg);
  ng = getgroups(NGROUPS_MAX, groups);
  add(t, "groups");
  for (int i = 0; i < ng; i++)
    add(t, " %u", (unsigned)groups[i]);
  add(t, "\n");
  mask = umask(077);
  (void)umask(mask);
  add(t, "umask %04o\n", (unsigned)mask);
  if (getcwd(path, sizeof(path)) != NULL)
    add(t, "cwd %s\n", path);
  else
    add(t, "cwd error %d\n", errno);
  add_limit(t, "NOFILE", RLIMIT_NOFILE);
  add_limit(t, "CORE", RLIMIT_CORE);
  add_limit(t, "FSIZE", RLIMIT_FSIZE);
  add_limit(t, "CPU", RLIMIT_CPU);
  add_limit(t, "AS", RLIMIT_AS);
  add_limit(t, "DATA", RLIMIT_DATA);
  if (sigprocmask(SIG_BLOCK, NULL, &blocked) == 0) {
    for (int sig = 1; sig < NSIG; sig++)
      if (sigismember(&blocked, sig) == 1)
        any = 1;
    add(t, "sigmask %s\n", any ? "BLOCKED" : "EMPTY");
  }
  add(t, "sigign");
  for (int sig = 1; sig < NSIG; sig++) {
    struct sigaction sa;

    if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
      add(t, " %d", sig);
  }
  add(t, "\n");
  /* readlink opens nothing, so the scan sees only what was inherited. */
  for (int fd = 0; fd < FD_SCAN_MAX; fd++) {
    char link[64];
    ssize_t n;

    (void)snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    n = readlink(link, path, sizeof(path) - 1);
    if (n < 0)
      continue;
    path[n] = '\0';
    add(t, "fd %d %s\n", fd, path);
  }
  for (char **e = environ; e != NULL && *e != NULL; e++)
    add(t, "env %s\n", *e);
}

static int write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);

    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return -1;
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

int main(int argc, char **argv) {
  static struct text t;
  static char token[TOKEN_MAX];
  ssize_t n;
  size_t len = 0;
  int fd;

  if (argc != 3)
    return 2;
  record(&t);
  fd =
      open(argv[1], O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0 || write_all(fd, t.buf, t.len) != 0 || close(fd) != 0)
    return 3;
  fd = open(argv[2], O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return 4;
  while (len < sizeof(token) &&
         (n = read(fd, token + len, sizeof(token) - len)) > 0)
    len += (size_t)n;
  (void)close(fd);
  (void)write_all(2, MARK "\na second stderr line\n",
                  strlen(MARK "\na second stderr line\n"));
  return write_all(1, token, len) == 0 ? 0 : 5;
}
