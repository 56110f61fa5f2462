/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers for the token source tests: a fake clock, a capturing log sink,
 * scratch directories and the loopback fake services. Header-only: each
 * test_source_*.c is its own program. */
#ifndef WIF_SOURCE_TESTUTIL_H
#define WIF_SOURCE_TESTUTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* asprintf, secure_getenv */
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

#include "log.h"
#include "retry.h"

/* A clock whose sleep only advances time, recording each delay. */
struct fake_clock {
  int64_t now;
  int64_t delays[64];
  size_t n_delays;
  uint32_t rnd;
};

static inline int64_t fake_now(void *ctx) {
  return ((struct fake_clock *)ctx)->now;
}

static inline void fake_sleep(void *ctx, int64_t ms) {
  struct fake_clock *c = ctx;

  if (c->n_delays < 64)
    c->delays[c->n_delays++] = ms;
  c->now += ms;
}

static inline uint32_t fake_random(void *ctx) {
  return ((struct fake_clock *)ctx)->rnd;
}

static inline struct wif_clock fake_clock_of(struct fake_clock *c) {
  struct wif_clock k = {fake_now, fake_sleep, fake_random, c};
  return k;
}

/* A log sink that keeps the lines, to assert on warnings and on what must
 * never be logged. */
struct log_capture {
  char text[16384];
  size_t len;
};

static inline void capture_fn(void *ctx, int priority, const char *msg) {
  struct log_capture *c = ctx;
  int n = snprintf(c->text + c->len, sizeof(c->text) - c->len, "%d %s\n",
                   priority, msg);

  if (n > 0 && (size_t)n < sizeof(c->text) - c->len)
    c->len += (size_t)n;
}

static inline struct wif_log capture_log(struct log_capture *c) {
  struct wif_log l = {capture_fn, c, true};

  memset(c, 0, sizeof(*c));
  return l;
}

/* A loopback fake service (tests/tools/fake_metadata.py), started on port
 * 0 with a bounded lifetime and killed by fake_stop. */
struct fake_service {
  pid_t pid;
  int port;
};

static inline const char *test_python(void) {
  const char *p = secure_getenv("WIF_PYTHON");
  return p != NULL && *p != '\0' ? p : "/usr/bin/python3";
}

/* args: extra arguments, NULL-terminated. */
static inline void fake_start(struct fake_service *f, const char *mode,
                              const char *const *args) {
  int p[2];
  char script[PATH_MAX];
  char line[64];
  size_t n = 0;
  const char *argv[32];
  size_t a = 0;

  (void)snprintf(script, sizeof(script), "%s/../tools/fake_metadata.py",
                 WIF_TEST_DATA_DIR);
  argv[a++] = test_python();
  argv[a++] = script;
  argv[a++] = "--mode";
  argv[a++] = mode;
  argv[a++] = "--keys";
  argv[a++] = WIF_TEST_KEYS_DIR;
  argv[a++] = "--lifetime"; /* only for a fake this program left behind */
  argv[a++] = "120";
  for (size_t i = 0; args != NULL && args[i] != NULL && a < 31; i++)
    argv[a++] = args[i];
  argv[a] = NULL;
  assert_int_equal(pipe(p), 0);
  f->pid = fork();
  assert_true(f->pid >= 0);
  if (f->pid == 0) {
    (void)dup2(p[1], STDOUT_FILENO);
    (void)close(p[0]);
    (void)close(p[1]);
    execv(argv[0], (char *const *)(uintptr_t)argv);
    _exit(127);
  }
  (void)close(p[1]);
  while (n < sizeof(line) - 1) {
    ssize_t r = read(p[0], line + n, 1);

    if (r <= 0 || line[n] == '\n')
      break;
    n++;
  }
  line[n] = '\0';
  (void)close(p[0]);
  assert_true(strncmp(line, "PORT ", 5) == 0);
  f->port = (int)strtol(line + 5, NULL, 10);
  assert_true(f->port > 0);
}

static inline void fake_stop(struct fake_service *f) {
  if (f->pid > 0) {
    (void)kill(f->pid, SIGKILL);
    (void)waitpid(f->pid, NULL, 0);
  }
  f->pid = -1;
}

#endif
