/* Appending decision lines to a trusted log file. */
#include "logfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#define FILE_FLAGS (O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY)

static wif_rc errno_rc(int e) {
  return e == ENOMEM ? WIF_E_NOMEM : WIF_E_SYSTEM;
}

static wif_rc check(const struct stat *st, uid_t owner, const char *path,
                    const char *what, struct wif_error *err) {
  if ((st->st_uid != owner && st->st_uid != 0) ||
      (st->st_mode & (S_IWGRP | S_IWOTH)) != 0 ||
      (S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX) != 0))
    return wif_error_set(err, WIF_E_CONFIG_INSECURE,
                         "log_file %s: %s is uid %lu's, mode %04o: it must be "
                         "root's or uid %lu's and writable by nobody else",
                         path, what, (unsigned long)st->st_uid,
                         (unsigned)(st->st_mode & 07777), (unsigned long)owner);
  return WIF_OK;
}

/* Walks the directories of path (copy, cut in place) with openat. */
static wif_rc open_parent(char *copy, const char *path, uid_t owner,
                          int *out_dirfd, const char **out_name,
                          struct wif_error *err) {
  int dirfd = open("/", DIR_FLAGS);
  char *comp = copy + 1;
  struct stat st;
  wif_rc rc = WIF_E_INTERNAL;

  if (dirfd < 0 || fstat(dirfd, &st) != 0) {
    rc = wif_error_set(err, errno_rc(errno), "log_file %s: /: %s", path,
                       strerror(errno));
    goto out;
  }
  if ((rc = check(&st, owner, path, "/", err)) != WIF_OK)
    goto out;
  for (;;) {
    char *slash;
    int next;

    while (*comp == '/')
      comp++;
    if ((slash = strchr(comp, '/')) == NULL)
      break;
    *slash = '\0';
    next = openat(dirfd, comp, DIR_FLAGS);
    if (next < 0 || fstat(next, &st) != 0) {
      rc = wif_error_set(
          err,
          /* O_DIRECTORY | O_NOFOLLOW on a symbolic link: ENOTDIR or ELOOP */
          errno == ELOOP || errno == ENOTDIR ? WIF_E_CONFIG_INSECURE
                                             : errno_rc(errno),
          "log_file %s: directory %s: %s", path, comp, strerror(errno));
      if (next >= 0)
        (void)close(next);
      goto out;
    }
    (void)close(dirfd);
    dirfd = next;
    if ((rc = check(&st, owner, path, "a directory above it", err)) != WIF_OK)
      goto out;
    comp = slash + 1;
  }
  if (*comp == '\0') {
    rc = wif_error_set(err, WIF_E_CONFIG_INVALID, "log_file %s: no file name",
                       path);
    goto out;
  }
  *out_name = comp;
  *out_dirfd = dirfd;
  dirfd = -1;
  rc = WIF_OK;
out:
  if (dirfd >= 0)
    (void)close(dirfd);
  return rc;
}

/* Moves fd above 2: 0-2 belong to the host process. */
static int above_stdio(int fd) {
  int moved;

  if (fd < 0 || fd > 2)
    return fd;
  moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  (void)close(fd);
  return moved;
}

wif_rc wif_logfile_open(const char *path, uid_t owner, int *out_fd,
                        struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;
  char *copy = NULL;
  const char *name = NULL;
  int dirfd = -1, fd = -1;
  bool made = false;
  struct stat st;

  *out_fd = -1;
  if (path == NULL || path[0] != '/' || strlen(path) >= PATH_MAX) {
    rc = wif_error_set(err, WIF_E_CONFIG_INVALID,
                       "log_file needs an absolute path");
    goto out;
  }
  if ((copy = strdup(path)) == NULL) {
    rc = wif_error_set(err, WIF_E_NOMEM, "out of memory");
    goto out;
  }
  rc = open_parent(copy, path, owner, &dirfd, &name, err);
  if (rc != WIF_OK || name == NULL)
    goto out;
  fd = openat(dirfd, name, FILE_FLAGS | O_CREAT | O_EXCL, 0600);
  if (fd >= 0)
    made = true;
  else if (errno == EEXIST)
    fd = openat(dirfd, name, FILE_FLAGS);
  fd = above_stdio(fd);
  if (fd < 0 || fstat(fd, &st) != 0) {
    rc = wif_error_set(err,
                       errno == ELOOP ? WIF_E_CONFIG_INSECURE : errno_rc(errno),
                       "log_file %s: %s", path, strerror(errno));
    goto out;
  }
  if (made && fchmod(fd, 0600) != 0) {
    rc = wif_error_set(err, errno_rc(errno), "log_file %s: chmod: %s", path,
                       strerror(errno));
    goto out;
  }
  if (!S_ISREG(st.st_mode)) {
    rc = wif_error_set(err, WIF_E_CONFIG_INSECURE,
                       "log_file %s: not a regular file", path);
    goto out;
  }
  if (!made && (rc = check(&st, owner, path, "the file", err)) != WIF_OK)
    goto out;
  *out_fd = fd;
  fd = -1;
  rc = WIF_OK;
out:
  if (fd >= 0)
    (void)close(fd);
  if (dirfd >= 0)
    (void)close(dirfd);
  free(copy);
  return rc;
}

bool wif_logfile_write(int fd, const char *prefix, const char *line) {
  char buf[WIF_LOGFILE_LINE_MAX];
  char stamp[32];
  struct tm tm;
  time_t now = time(NULL);
  int n;

  if (fd < 0)
    return false;
  if (gmtime_r(&now, &tm) == NULL ||
      strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
    stamp[0] = '\0';
  n = snprintf(buf, sizeof(buf), "%s %s: %s\n", stamp, prefix, line);
  if (n < 0)
    return false;
  if ((size_t)n >= sizeof(buf)) {
    n = (int)sizeof(buf) - 1;
    buf[n - 1] = '\n';
  }
  /* O_APPEND and one write: concurrent logins never interleave a line. */
  return write(fd, buf, (size_t)n) == (ssize_t)n;
}
