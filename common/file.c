/* Checked reads of root-owned files, and atomic writes. */
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

/* O_PATH lets us hold and fstat a directory we may not be able to read. */
#ifdef O_PATH
#define DIR_OPEN_FLAGS (O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#else
#define DIR_OPEN_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#endif

/* A FIFO or device never blocks the open, and never becomes our tty. */
#define FILE_OPEN_FLAGS (O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)

static void close_fd(int *fd) {
  if (*fd >= 0)
    (void)close(*fd);
  *fd = -1;
}

static wif_rc errno_rc(int e) {
  return e == ENOMEM ? WIF_E_NOMEM : WIF_E_SYSTEM;
}

/*
 * The one ownership and mode rule, for files and directories alike. what is
 * "" for the file itself, or "directory DIR: " for a parent.
 */
static wif_rc check_stat(const struct stat *st, uid_t owner, const char *path,
                         const char *what, struct wif_error *err) {
  unsigned mode = (unsigned)(st->st_mode & 07777);

  if (st->st_uid != owner && st->st_uid != 0) {
    if (owner == 0)
      return wif_error_set(err, WIF_E_CONFIG_INSECURE,
                           "%s: %sowned by uid %lu, not by root", path, what,
                           (unsigned long)st->st_uid);
    return wif_error_set(err, WIF_E_CONFIG_INSECURE,
                         "%s: %sowned by uid %lu, not by uid %lu or root", path,
                         what, (unsigned long)st->st_uid, (unsigned long)owner);
  }
  if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0)
    return wif_error_set(err, WIF_E_CONFIG_INSECURE,
                         "%s: %sgroup or others can write it (mode %04o)", path,
                         what, mode);
  if (S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX) != 0)
    return wif_error_set(err, WIF_E_CONFIG_INSECURE,
                         "%s: %sis a sticky directory (mode %04o)", path, what,
                         mode);
  return WIF_OK;
}

/* Explains why openat() of one component failed. */
static wif_rc open_failed(int dirfd, const char *name, int e, const char *path,
                          const char *shown, struct wif_error *err) {
  struct stat st;

  if ((e == ELOOP || e == ENOTDIR) &&
      fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
      S_ISLNK(st.st_mode))
    return wif_error_set(err, WIF_E_CONFIG_INSECURE,
                         "%s: %s is a symbolic link", path, shown);
  return wif_error_set(err, errno_rc(e), "%s: cannot open %s: %s", path, shown,
                       strerror(e));
}

/*
 * Walks from / to the file one component at a time with openat(), so a
 * symlink swapped into the path cannot redirect us: each directory is
 * checked on the descriptor we then descend from (OpenSSH safe_path_fd,
 * pam_namespace). Returns the open file in *out_fd.
 */
wif_rc wif_file_open_trusted(const char *path, uid_t owner, int *out_fd,
                             struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;
  char *copy = NULL;
  char *comp;
  char *next;
  int dirfd = -1;
  int fd = -1;
  struct stat st;
  size_t plen;

  *out_fd = -1;
  if (path == NULL || path[0] != '/') {
    rc = wif_error_set(err, WIF_E_CONFIG_INVALID,
                       "%s: the path must be absolute", path ? path : "(null)");
    goto out;
  }
  plen = strlen(path);
  if (plen >= PATH_MAX) {
    rc = wif_error_set(err, WIF_E_CONFIG_INVALID, "%s: the path is too long",
                       path);
    goto out;
  }
  if (path[plen - 1] == '/') {
    rc = wif_error_set(err, WIF_E_CONFIG_INSECURE, "%s: not a regular file",
                       path);
    goto out;
  }
  if ((copy = strdup(path)) == NULL) {
    rc = wif_error_set(err, WIF_E_NOMEM, "%s: out of memory", path);
    goto out;
  }
  if ((dirfd = open("/", DIR_OPEN_FLAGS)) < 0) {
    rc = wif_error_set(err, errno_rc(errno), "%s: cannot open /: %s", path,
                       strerror(errno));
    goto out;
  }
  if (fstat(dirfd, &st) != 0) {
    rc = wif_error_set(err, errno_rc(errno), "%s: cannot stat /: %s", path,
                       strerror(errno));
    goto out;
  }
  if ((rc = check_stat(&st, owner, path, "directory /: ", err)) != WIF_OK)
    goto out;

  /* copy holds "/a/b/c"; each component is cut in place, and the prefix
   * before the cut is the directory's name in messages. */
  comp = copy + 1;
  for (;;) {
    int newfd;
    char shown[PATH_MAX + 32];

    while (*comp == '/')
      comp++;
    next = strchr(comp, '/');
    if (next == NULL)
      break;
    *next = '\0';
    newfd = openat(dirfd, comp, DIR_OPEN_FLAGS);
    if (newfd < 0) {
      int e = errno;
      (void)snprintf(shown, sizeof(shown), "directory %s", copy);
      rc = open_failed(dirfd, comp, e, path, shown, err);
      goto out;
    }
    close_fd(&dirfd);
    dirfd = newfd;
    if (fstat(dirfd, &st) != 0) {
      rc = wif_error_set(err, errno_rc(errno), "%s: cannot stat %s: %s", path,
                         copy, strerror(errno));
      goto out;
    }
    (void)snprintf(shown, sizeof(shown), "directory %s: ", copy);
    if ((rc = check_stat(&st, owner, path, shown, err)) != WIF_OK)
      goto out;
    *next = '/';
    comp = next + 1;
  }

  fd = openat(dirfd, comp, FILE_OPEN_FLAGS | O_NOFOLLOW);
  if (fd < 0) {
    rc = open_failed(dirfd, comp, errno, path, "the file", err);
    goto out;
  }
  if (fstat(fd, &st) != 0) {
    rc = wif_error_set(err, errno_rc(errno), "%s: cannot stat: %s", path,
                       strerror(errno));
    goto out;
  }
  if (!S_ISREG(st.st_mode)) {
    rc = wif_error_set(err, WIF_E_CONFIG_INSECURE, "%s: not a regular file",
                       path);
    goto out;
  }
  if ((rc = check_stat(&st, owner, path, "", err)) != WIF_OK)
    goto out;

  *out_fd = fd;
  fd = -1;
  rc = WIF_OK;
out:
  close_fd(&fd);
  close_fd(&dirfd);
  free(copy);
  return rc;
}

/*
 * Reads fd to the end, never keeping more than max_size bytes: the file
 * may grow after fstat, so the cap is applied to what read() returns.
 * Buffers are wiped when replaced because the content may be a secret.
 */
static wif_rc read_all(int fd, const char *path, size_t hint, size_t max_size,
                       char **out, size_t *out_len, struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;
  char *buf = NULL;
  size_t cap;
  size_t len = 0;

  *out = NULL;
  *out_len = 0;
  /* cap counts the NUL and one byte beyond max_size to detect growth. */
  cap = (hint < max_size ? hint : max_size) + 2;
  if ((buf = malloc(cap)) == NULL) {
    rc = wif_error_set(err, WIF_E_NOMEM, "%s: out of memory", path);
    goto out;
  }
  for (;;) {
    ssize_t n;

    if (len + 1 == cap) {
      size_t ncap;
      char *nbuf;

      if (len > max_size)
        break;
      ncap = cap > (max_size + 2) / 2 ? max_size + 2 : cap * 2;
      if ((nbuf = malloc(ncap)) == NULL) {
        rc = wif_error_set(err, WIF_E_NOMEM, "%s: out of memory", path);
        goto out;
      }
      memcpy(nbuf, buf, len);
      OPENSSL_cleanse(buf, cap);
      free(buf);
      buf = nbuf;
      cap = ncap;
    }
    n = read(fd, buf + len, cap - 1 - len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      rc = wif_error_set(err, errno_rc(errno), "%s: read failed: %s", path,
                         strerror(errno));
      goto out;
    }
    if (n == 0)
      break;
    len += (size_t)n;
  }
  if (len > max_size) {
    rc = wif_error_set(err, WIF_E_TOO_LARGE, "%s: larger than %zu bytes", path,
                       max_size);
    goto out;
  }
  buf[len] = '\0';
  *out = buf;
  *out_len = len;
  buf = NULL;
  rc = WIF_OK;
out:
  if (buf != NULL) {
    OPENSSL_cleanse(buf, cap);
    free(buf);
  }
  return rc;
}

static wif_rc check_size(const struct stat *st, const char *path,
                         size_t max_size, struct wif_error *err) {
  if (st->st_size < 0 || (uintmax_t)st->st_size > (uintmax_t)max_size)
    return wif_error_set(err, WIF_E_TOO_LARGE, "%s: larger than %zu bytes",
                         path, max_size);
  return WIF_OK;
}

wif_rc wif_file_read_trusted(const char *path, uid_t owner, size_t max_size,
                             char **out, size_t *out_len,
                             struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;
  int fd = -1;
  struct stat st;

  if (out != NULL)
    *out = NULL;
  if (out_len != NULL)
    *out_len = 0;
  if (out == NULL || out_len == NULL || max_size >= SIZE_MAX / 2) {
    rc = wif_error_set(err, WIF_E_INTERNAL, "wif_file_read_trusted: bad call");
    goto out;
  }
  if ((rc = wif_file_open_trusted(path, owner, &fd, err)) != WIF_OK)
    goto out;
  if (fstat(fd, &st) != 0) {
    rc = wif_error_set(err, errno_rc(errno), "%s: cannot stat: %s", path,
                       strerror(errno));
    goto out;
  }
  if ((rc = check_size(&st, path, max_size, err)) != WIF_OK)
    goto out;
  rc = read_all(fd, path, (size_t)st.st_size, max_size, out, out_len, err);
out:
  close_fd(&fd);
  return rc;
}

wif_rc wif_file_read(const char *path, size_t max_size, char **out,
                     size_t *out_len, struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;
  int fd = -1;
  struct stat st;

  if (out != NULL)
    *out = NULL;
  if (out_len != NULL)
    *out_len = 0;
  if (path == NULL || out == NULL || out_len == NULL ||
      max_size >= SIZE_MAX / 2) {
    rc = wif_error_set(err, WIF_E_INTERNAL, "wif_file_read: bad call");
    goto out;
  }
  if ((fd = open(path, FILE_OPEN_FLAGS)) < 0) {
    rc = wif_error_set(err, errno_rc(errno), "%s: cannot open: %s", path,
                       strerror(errno));
    goto out;
  }
  if (fstat(fd, &st) != 0) {
    rc = wif_error_set(err, errno_rc(errno), "%s: cannot stat: %s", path,
                       strerror(errno));
    goto out;
  }
  if (!S_ISREG(st.st_mode)) {
    rc = wif_error_set(err, WIF_E_SYSTEM, "%s: not a regular file", path);
    goto out;
  }
  if ((rc = check_size(&st, path, max_size, err)) != WIF_OK)
    goto out;
  rc = read_all(fd, path, (size_t)st.st_size, max_size, out, out_len, err);
out:
  close_fd(&fd);
  return rc;
}

void wif_file_free_buffer(char *buf, size_t len) {
  if (buf == NULL)
    return;
  /* The buffer always holds a NUL after len bytes. */
  OPENSSL_cleanse(buf, len + 1);
  free(buf);
}

static wif_rc write_all(int fd, const char *tmp, const void *data, size_t len,
                        struct wif_error *err) {
  const unsigned char *p = data;

  while (len > 0) {
    ssize_t n = write(fd, p, len);

    if (n < 0) {
      if (errno == EINTR)
        continue;
      return wif_error_set(err, errno_rc(errno), "%s: write failed: %s", tmp,
                           strerror(errno));
    }
    if (n == 0)
      return wif_error_set(err, WIF_E_SYSTEM, "%s: write made no progress",
                           tmp);
    p += n;
    len -= (size_t)n;
  }
  return WIF_OK;
}

wif_rc wif_file_write_atomic(const char *path, const void *data, size_t len,
                             mode_t mode, struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;
  char *tmp = NULL;
  char *dir = NULL;
  const char *slash;
  const char *base;
  size_t dlen;
  size_t tlen;
  int fd = -1;
  int dfd = -1;
  bool created = false;

  if (path == NULL || (data == NULL && len > 0)) {
    rc = wif_error_set(err, WIF_E_INTERNAL, "wif_file_write_atomic: bad call");
    goto out;
  }
  slash = strrchr(path, '/');
  base = slash ? slash + 1 : path;
  if (*base == '\0') {
    rc = wif_error_set(err, WIF_E_SYSTEM, "%s: not a file name", path);
    goto out;
  }
  dlen = slash == NULL ? 1 : (slash == path ? 1 : (size_t)(slash - path));
  if ((dir = malloc(dlen + 1)) == NULL) {
    rc = wif_error_set(err, WIF_E_NOMEM, "%s: out of memory", path);
    goto out;
  }
  if (slash == NULL)
    dir[0] = '.';
  else
    memcpy(dir, path, dlen);
  dir[dlen] = '\0';

  /* The temporary lives beside the target so rename() stays atomic; the
   * dot keeps it out of globs. */
  tlen = dlen + 1 + 1 + strlen(base) + 8;
  if ((tmp = malloc(tlen)) == NULL) {
    rc = wif_error_set(err, WIF_E_NOMEM, "%s: out of memory", path);
    goto out;
  }
  (void)snprintf(tmp, tlen, "%s/.%s.XXXXXX", dir, base);
  if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
    rc = wif_error_set(err, errno_rc(errno),
                       "%s: cannot create a temporary file: %s", path,
                       strerror(errno));
    goto out;
  }
  created = true;
  if (fchmod(fd, mode & 07777) != 0) {
    rc = wif_error_set(err, errno_rc(errno), "%s: chmod failed: %s", tmp,
                       strerror(errno));
    goto out;
  }
  if ((rc = write_all(fd, tmp, data, len, err)) != WIF_OK)
    goto out;
  rc = WIF_E_INTERNAL;
  if (fsync(fd) != 0) {
    rc = wif_error_set(err, errno_rc(errno), "%s: fsync failed: %s", tmp,
                       strerror(errno));
    goto out;
  }
  if (close(fd) != 0) {
    fd = -1;
    rc = wif_error_set(err, errno_rc(errno), "%s: close failed: %s", tmp,
                       strerror(errno));
    goto out;
  }
  fd = -1;
  if (rename(tmp, path) != 0) {
    rc = wif_error_set(err, errno_rc(errno), "%s: rename failed: %s", path,
                       strerror(errno));
    goto out;
  }
  created = false;
  /* Without this the rename itself may not survive a crash. */
  if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
      fsync(dfd) != 0) {
    rc = wif_error_set(err, errno_rc(errno), "%s: fsync failed: %s", dir,
                       strerror(errno));
    goto out;
  }
  rc = WIF_OK;
out:
  close_fd(&fd);
  close_fd(&dfd);
  if (created)
    (void)unlink(tmp);
  free(tmp);
  free(dir);
  return rc;
}
