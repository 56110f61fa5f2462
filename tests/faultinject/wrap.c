/* SPDX-License-Identifier: Apache-2.0 */
/* Link-time wrappers that fail the Nth call (see wrap.h). */
#include "wrap.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#else
#define VALGRIND_MAKE_MEM_DEFINED(p, n) ((void)(p), (void)(n))
#endif

/*
 * Environment, read once at start-up, for programs that cannot call
 * wif_fi_arm themselves (wifctl):
 *   WIF_FI_FAIL=N     arm from the first instruction of main with fail_at N
 *   WIF_FI_REPORT=F   at exit, write "calls=C injected=0|1 name=NAME" to F
 */

static bool armed;
static unsigned long fail_at, calls;
static bool injected;
static const char *injected_name = "";

static const unsigned char *needles[WIF_FI_WATCH_MAX];
static size_t needle_lens[WIF_FI_WATCH_MAX];
static size_t n_needles;
static unsigned long unwiped, scanned;

/* Pipes already read from since arming (see __wrap_read). */
#define PIPE_FDS_MAX 1024
static bool pipe_read[PIPE_FDS_MAX];

void wif_fi_arm(unsigned long n) {
  fail_at = n;
  calls = 0;
  memset(pipe_read, 0, sizeof(pipe_read));
  injected = false;
  injected_name = "";
  armed = true;
}

void wif_fi_disarm(void) {
  armed = false;
}

unsigned long wif_fi_calls(void) {
  return calls;
}

bool wif_fi_injected(void) {
  return injected;
}

const char *wif_fi_injected_name(void) {
  return injected_name;
}

bool wif_fi_hit(const char *name) {
  if (!armed)
    return false;
  calls++;
  if (fail_at == 0 || calls != fail_at)
    return false;
  injected = true;
  injected_name = name;
  return true;
}

bool wif_fi_watch(const void *needle, size_t len) {
  if (n_needles == WIF_FI_WATCH_MAX || needle == NULL || len < 8)
    return false;
  needles[n_needles] = needle;
  needle_lens[n_needles] = len;
  n_needles++;
  return true;
}

void wif_fi_watch_clear(void) {
  n_needles = 0;
  unwiped = 0;
  scanned = 0;
}

unsigned long wif_fi_unwiped(void) {
  return unwiped;
}

unsigned long wif_fi_scanned(void) {
  return scanned;
}

/* Each wrapped function: the real one, resolved by the linker's --wrap,
 * and the wrapper's prototype (for -Wmissing-prototypes: wrappers are
 * only reached through the linker's renaming). */
#define WRAPPED(type, name, params)                                            \
  type __real_##name params;                                                   \
  type __wrap_##name params;
WRAPPED(void *, malloc, (size_t n))
WRAPPED(void *, calloc, (size_t n, size_t size))
WRAPPED(void *, realloc, (void *p, size_t n))
WRAPPED(void, free, (void *p))
WRAPPED(char *, strdup, (const char *s))
WRAPPED(char *, strndup, (const char *s, size_t n))
WRAPPED(int, open, (const char *path, int flags, ...))
WRAPPED(int, openat, (int dirfd, const char *path, int flags, ...))
WRAPPED(ssize_t, read, (int fd, void *buf, size_t n))
WRAPPED(ssize_t, write, (int fd, const void *buf, size_t n))
WRAPPED(int, fstat, (int fd, struct stat *st))
WRAPPED(int, fstatat, (int dirfd, const char *path, struct stat *st, int flags))
WRAPPED(int, rename, (const char *from, const char *to))
WRAPPED(int, fsync, (int fd))
WRAPPED(int, flock, (int fd, int op))
WRAPPED(int, mkostemp, (char *tmpl, int flags))
WRAPPED(CURLcode, curl_easy_perform, (CURL *))
#undef WRAPPED

void *__wrap_malloc(size_t n) {
  if (wif_fi_hit("malloc")) {
    errno = ENOMEM;
    return NULL;
  }
  return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size) {
  if (wif_fi_hit("calloc")) {
    errno = ENOMEM;
    return NULL;
  }
  return __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n) {
  if (wif_fi_hit("realloc")) {
    errno = ENOMEM;
    return NULL;
  }
  return __real_realloc(p, n);
}

void __wrap_free(void *p) {
  if (p != NULL && n_needles > 0) {
    size_t size = malloc_usable_size(p);
    /* The slack past the requested size was never written; valgrind
     * would flag reading it. Harmless: the block is freed next. */
    (void)VALGRIND_MAKE_MEM_DEFINED(p, size);
    scanned++;
    for (size_t i = 0; i < n_needles; i++) {
      if (memmem(p, size, needles[i], needle_lens[i]) != NULL) {
        unwiped++;
        break;
      }
    }
  }
  __real_free(p);
}

char *__wrap_strdup(const char *s) {
  if (wif_fi_hit("strdup")) {
    errno = ENOMEM;
    return NULL;
  }
  return __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n) {
  if (wif_fi_hit("strndup")) {
    errno = ENOMEM;
    return NULL;
  }
  return __real_strndup(s, n);
}

int __wrap_open(const char *path, int flags, ...) {
  mode_t mode = 0;

  if (flags & (O_CREAT | __O_TMPFILE)) {
    va_list ap;
    va_start(ap, flags);
    mode = (mode_t)va_arg(ap, int);
    va_end(ap);
  }
  if (wif_fi_hit("open")) {
    errno = EIO;
    return -1;
  }
  return __real_open(path, flags, mode);
}

int __wrap_openat(int dirfd, const char *path, int flags, ...) {
  mode_t mode = 0;

  if (flags & (O_CREAT | __O_TMPFILE)) {
    va_list ap;
    va_start(ap, flags);
    mode = (mode_t)va_arg(ap, int);
    va_end(ap);
  }
  if (wif_fi_hit("openat")) {
    errno = EIO;
    return -1;
  }
  return __real_openat(dirfd, path, flags, mode);
}

/*
 * How many reads a pipe takes depends on when its writer writes: only the
 * first read of each pipe descriptor is counted, so that every run of a
 * sweep counts the same calls and failing call N means the same call.
 */
static bool uncounted_pipe_read(int fd) {
  struct stat st;

  if (fd < 0 || fd >= PIPE_FDS_MAX || __real_fstat(fd, &st) != 0 ||
      !S_ISFIFO(st.st_mode))
    return false;
  if (pipe_read[fd])
    return true;
  pipe_read[fd] = true;
  return false;
}

ssize_t __wrap_read(int fd, void *buf, size_t n) {
  if (!uncounted_pipe_read(fd) && wif_fi_hit("read")) {
    errno = EIO;
    return -1;
  }
  return __real_read(fd, buf, n);
}

ssize_t __wrap_write(int fd, const void *buf, size_t n) {
  if (wif_fi_hit("write")) {
    errno = ENOSPC;
    return -1;
  }
  return __real_write(fd, buf, n);
}

int __wrap_fstat(int fd, struct stat *st) {
  if (wif_fi_hit("fstat")) {
    errno = EIO;
    return -1;
  }
  return __real_fstat(fd, st);
}

int __wrap_fstatat(int dirfd, const char *path, struct stat *st, int flags) {
  if (wif_fi_hit("fstatat")) {
    errno = EIO;
    return -1;
  }
  return __real_fstatat(dirfd, path, st, flags);
}

int __wrap_rename(const char *from, const char *to) {
  if (wif_fi_hit("rename")) {
    errno = EIO;
    return -1;
  }
  return __real_rename(from, to);
}

int __wrap_fsync(int fd) {
  if (wif_fi_hit("fsync")) {
    errno = EIO;
    return -1;
  }
  return __real_fsync(fd);
}

int __wrap_flock(int fd, int op) {
  if (wif_fi_hit("flock")) {
    errno = (op & LOCK_NB) ? EWOULDBLOCK : ENOLCK;
    return -1;
  }
  return __real_flock(fd, op);
}

int __wrap_mkostemp(char *tmpl, int flags) {
  if (wif_fi_hit("mkostemp")) {
    errno = ENOSPC;
    return -1;
  }
  return __real_mkostemp(tmpl, flags);
}

CURLcode __wrap_curl_easy_perform(CURL *h) {
  if (wif_fi_hit("curl_easy_perform"))
    return CURLE_COULDNT_CONNECT;
  return __real_curl_easy_perform(h);
}

static void report(void) {
  const char *path = secure_getenv("WIF_FI_REPORT");
  FILE *f;

  armed = false;
  if (path == NULL || (f = fopen(path, "w")) == NULL)
    return;
  fprintf(f, "calls=%lu injected=%d name=%s\n", calls, injected ? 1 : 0,
          injected_name);
  fclose(f);
}

__attribute__((constructor)) static void arm_from_environment(void) {
  const char *s = secure_getenv("WIF_FI_FAIL");
  char *end;
  unsigned long n;

  if (s == NULL)
    return;
  errno = 0;
  n = strtoul(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0')
    return;
  wif_fi_arm(n);
  (void)atexit(report);
}
