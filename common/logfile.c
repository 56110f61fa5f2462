/* SPDX-License-Identifier: Apache-2.0 */
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

#include "file.h"

#define FILE_FLAGS (O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY)

static wif_rc errno_rc(int e) {
  return e == ENOMEM ? WIF_E_NOMEM : WIF_E_SYSTEM;
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
  struct wif_error ferr;
  char *name = NULL;
  int dirfd = -1, fd = -1;
  bool made = false;
  struct stat st;

  *out_fd = -1;
  if (path == NULL || path[0] != '/' || strlen(path) >= PATH_MAX) {
    rc = wif_error_set(err, WIF_E_CONFIG_INVALID,
                       "log_file needs an absolute path");
    goto out;
  }
  wif_error_clear(&ferr);
  rc = wif_file_open_parent_trusted(path, owner, &dirfd, &name, &ferr);
  if (rc != WIF_OK) {
    wif_error_set(err, rc, "log_file %s", ferr.msg);
    goto out;
  }
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
  if (!made && (rc = wif_file_check_stat(&st, owner, path, &ferr)) != WIF_OK) {
    wif_error_set(err, rc, "log_file %s", ferr.msg);
    goto out;
  }
  *out_fd = fd;
  fd = -1;
  rc = WIF_OK;
out:
  if (fd >= 0)
    (void)close(fd);
  if (dirfd >= 0)
    (void)close(dirfd);
  free(name);
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
