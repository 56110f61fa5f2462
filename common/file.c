/* SPDX-License-Identifier: Apache-2.0 */
/* Checked reads of root-owned files, and atomic writes. */
#include "file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "clock.h"

#include "dynbuf.h"
#include "text.h"
#include "wipe.h"

/* O_PATH lets us hold and fstat a directory we may not be able to read. */
#ifdef O_PATH
#define DIR_OPEN_FLAGS (O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#else
#define DIR_OPEN_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#endif

/* A FIFO or device never blocks the open, and never becomes our tty. */
#define FILE_OPEN_FLAGS (O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)
#define TRUSTED_OPEN_FLAGS (FILE_OPEN_FLAGS | O_NOFOLLOW)
#define LOCK_POLL_MS 5

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

/* fstat(fd) and check_stat: dir names the directory fd holds in
 * messages, NULL when fd is the file or directory at path itself. */
static wif_rc fstat_checked(int fd, uid_t owner, const char *path,
                            const char *dir, struct wif_error *err) {
  struct stat st;
  char what[PATH_MAX + 32];

  if (fstat(fd, &st) != 0) {
    if (dir == NULL)
      return wif_error_set(err, errno_rc(errno), "%s: cannot stat: %s", path,
                           strerror(errno));
    return wif_error_set(err, errno_rc(errno), "%s: cannot stat %s: %s", path,
                         dir, strerror(errno));
  }
  if (dir == NULL)
    return check_stat(&st, owner, path, "", err);
  (void)snprintf(what, sizeof(what), "directory %s: ", dir);
  return check_stat(&st, owner, path, what, err);
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
 * Walks from / to the parent of path's last component one component at a
 * time with openat(), so a symlink swapped into the path cannot redirect
 * us: each directory is checked on the descriptor we then descend from
 * (OpenSSH safe_path_fd, pam_namespace). *out_dirfd is the parent;
 * *out_last points into *out_copy (free it) at the last component.
 */
static wif_rc walk_to_parent(const char *path, uid_t owner, int *out_dirfd,
                             char **out_copy, char **out_last,
                             struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;
  char *copy = NULL;
  char *comp;
  char *next;
  int dirfd = -1;
  size_t plen;

  *out_dirfd = -1;
  *out_copy = NULL;
  *out_last = NULL;
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
  if (plen == 1 || path[plen - 1] == '/') {
    rc = wif_error_set(err, WIF_E_CONFIG_INVALID,
                       "%s: the path must not end in /", path);
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
  if ((rc = fstat_checked(dirfd, owner, path, "/", err)) != WIF_OK)
    goto out;

  /* copy holds "/a/b/c"; each component is cut in place, and the prefix
   * before the cut is the directory's name in messages. */
  comp = copy + 1;
  for (;;) {
    int newfd;

    while (*comp == '/')
      comp++;
    next = strchr(comp, '/');
    if (next == NULL)
      break;
    *next = '\0';
    newfd = openat(dirfd, comp, DIR_OPEN_FLAGS);
    if (newfd < 0) {
      int e = errno;
      char shown[PATH_MAX + 32];

      (void)snprintf(shown, sizeof(shown), "directory %s", copy);
      rc = open_failed(dirfd, comp, e, path, shown, err);
      goto out;
    }
    close_fd(&dirfd);
    dirfd = newfd;
    if ((rc = fstat_checked(dirfd, owner, path, copy, err)) != WIF_OK)
      goto out;
    *next = '/';
    comp = next + 1;
  }
  *out_dirfd = dirfd;
  *out_copy = copy;
  *out_last = comp;
  dirfd = -1;
  copy = NULL;
  rc = WIF_OK;
out:
  close_fd(&dirfd);
  free(copy);
  return rc;
}

wif_rc wif_file_open_parent_trusted(const char *path, uid_t owner,
                                    int *out_dirfd, char **out_name,
                                    struct wif_error *err) {
  char *copy = NULL;
  char *last = NULL;
  wif_rc rc;

  *out_name = NULL;
  rc = walk_to_parent(path, owner, out_dirfd, &copy, &last, err);
  if (rc == WIF_OK && (*out_name = strdup(last)) == NULL) {
    close_fd(out_dirfd);
    rc = wif_error_set(err, WIF_E_NOMEM, "%s: out of memory", path);
  }
  free(copy);
  return rc;
}

wif_rc wif_file_check_stat(const struct stat *st, uid_t owner, const char *path,
                           struct wif_error *err) {
  return check_stat(st, owner, path, "", err);
}

/*
 * The last component of path, below the checked directories: opened with
 * flags (never following a link), with its stat in *st. create makes a
 * missing directory first, mode 0700 whatever the umask; one someone else
 * made in the meantime is judged like any other.
 */
static wif_rc open_last(const char *path, uid_t owner, int flags, bool create,
                        int *out_fd, struct stat *st, struct wif_error *err) {
  wif_rc rc;
  char *copy = NULL;
  char *last = NULL;
  int dirfd = -1;

  *out_fd = -1;
  if ((rc = walk_to_parent(path, owner, &dirfd, &copy, &last, err)) != WIF_OK)
    goto out;
  if (create && mkdirat(dirfd, last, 0700) != 0 && errno != EEXIST) {
    rc = wif_error_set(err, errno_rc(errno), "%s: cannot create: %s", path,
                       strerror(errno));
    goto out;
  }
  if ((*out_fd = openat(dirfd, last, flags)) < 0) {
    rc = open_failed(dirfd, last, errno, path,
                     (flags & O_DIRECTORY) ? "the directory" : "the file", err);
    goto out;
  }
  if (fstat(*out_fd, st) != 0) {
    rc = wif_error_set(err, errno_rc(errno), "%s: cannot stat: %s", path,
                       strerror(errno));
    close_fd(out_fd);
  }
out:
  close_fd(&dirfd);
  free(copy);
  return rc;
}

wif_rc wif_file_open_trusted(const char *path, uid_t owner, int *out_fd,
                             struct wif_error *err) {
  struct stat st = {0};
  int fd = -1;
  wif_rc rc = open_last(path, owner, TRUSTED_OPEN_FLAGS, false, &fd, &st, err);

  if (rc == WIF_OK && !S_ISREG(st.st_mode))
    rc = wif_error_set(err, WIF_E_CONFIG_INSECURE, "%s: not a regular file",
                       path);
  if (rc == WIF_OK)
    rc = check_stat(&st, owner, path, "", err);
  if (rc != WIF_OK)
    close_fd(&fd);
  *out_fd = fd;
  return rc;
}

wif_rc wif_file_open_dir_trusted(const char *path, uid_t owner, int *out_fd,
                                 struct wif_error *err) {
  struct stat st = {0};
  int fd = -1;
  wif_rc rc =
      open_last(path, owner, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
                true, &fd, &st, err);

  if (rc == WIF_OK &&
      (st.st_uid != owner || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0))
    rc = wif_error_set(err, WIF_E_CONFIG_INSECURE,
                       "%s: must be owned by uid %lu and not writable by "
                       "group or others (it is uid %lu, mode %04o)",
                       path, (unsigned long)owner, (unsigned long)st.st_uid,
                       (unsigned)(st.st_mode & 07777));
  if (rc != WIF_OK)
    close_fd(&fd);
  *out_fd = fd;
  return rc;
}

void wif_file_free_names(char **names, size_t n) {
  if (names == NULL)
    return;
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  free(names);
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

wif_rc wif_file_list_trusted(const char *dir, uid_t owner, const char *suffix,
                             size_t max, char ***out, size_t *out_n,
                             struct wif_error *err) {
  wif_rc rc;
  char *copy = NULL;
  char *last = NULL;
  int dirfd = -1;
  int fd = -1;
  DIR *d = NULL;
  struct dirent *e;
  char **names = NULL;
  size_t n = 0;
  size_t slen = strlen(suffix);

  *out = NULL;
  *out_n = 0;
  if ((rc = walk_to_parent(dir, owner, &dirfd, &copy, &last, err)) != WIF_OK)
    goto out;
  fd = openat(dirfd, last, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      rc = WIF_OK;
      goto out;
    }
    rc = open_failed(dirfd, last, errno, dir, "the directory", err);
    goto out;
  }
  if ((rc = fstat_checked(fd, owner, dir, NULL, err)) != WIF_OK)
    goto out;
  if ((names = calloc(max + 1, sizeof(*names))) == NULL ||
      (d = fdopendir(fd)) == NULL) {
    rc = wif_error_set(err, errno_rc(errno), "%s: cannot read: %s", dir,
                       strerror(errno));
    goto out;
  }
  fd = -1; /* d owns it */
  for (;;) {
    size_t len;

    errno = 0;
    if ((e = readdir(d)) == NULL) {
      if (errno != 0) {
        rc = wif_error_set(err, errno_rc(errno), "%s: cannot read: %s", dir,
                           strerror(errno));
        goto out;
      }
      break;
    }
    len = strlen(e->d_name);
    if (e->d_name[0] == '.' || len <= slen ||
        memcmp(e->d_name + len - slen, suffix, slen) != 0)
      continue;
    if (n == max) {
      rc = wif_error_set(err, WIF_E_CONFIG_INVALID,
                         "%s: more than %zu *%s files", dir, max, suffix);
      goto out;
    }
    if ((names[n] = strdup(e->d_name)) == NULL) {
      rc = wif_error_set(err, WIF_E_NOMEM, "%s: out of memory", dir);
      goto out;
    }
    n++;
  }
  qsort(names, n, sizeof(*names), cmp_names);
  *out = names;
  *out_n = n;
  names = NULL;
  n = 0;
  rc = WIF_OK;
out:
  wif_file_free_names(names, n);
  if (d != NULL)
    (void)closedir(d);
  close_fd(&fd);
  close_fd(&dirfd);
  free(copy);
  return rc;
}

/*
 * Reads fd to the end, never keeping more than max_size bytes: the file
 * may grow after fstat, so the cap is applied to what read() returns.
 * The buffer is a secret's: the content may be a key or a token.
 */
static wif_rc read_all(int fd, const char *path, size_t hint, size_t max_size,
                       char **out, size_t *out_len, struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;
  struct wif_dynbuf b;
  char chunk[4096];

  *out = NULL;
  *out_len = 0;
  wif_dynbuf_init(&b, max_size, true);
  rc = wif_dynbuf_reserve(&b, hint < max_size ? hint : max_size);
  while (rc == WIF_OK) {
    ssize_t n = read(fd, chunk, sizeof(chunk));

    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      rc = wif_error_set(err, errno_rc(errno), "%s: read failed: %s", path,
                         strerror(errno));
      goto out;
    }
    if (n == 0)
      break;
    rc = wif_dynbuf_add(&b, chunk, (size_t)n);
  }
  if (rc == WIF_OK)
    rc = wif_dynbuf_take(&b, out, out_len);
  if (rc == WIF_E_TOO_LARGE)
    wif_error_set(err, rc, "%s: larger than %zu bytes", path, max_size);
  else if (rc != WIF_OK)
    rc = wif_error_set(err, WIF_E_NOMEM, "%s: out of memory", path);
out:
  OPENSSL_cleanse(chunk, sizeof(chunk));
  wif_dynbuf_free(&b);
  return rc;
}

static wif_rc check_size(const struct stat *st, const char *path,
                         size_t max_size, struct wif_error *err) {
  if (st->st_size < 0 || (uintmax_t)st->st_size > (uintmax_t)max_size)
    return wif_error_set(err, WIF_E_TOO_LARGE, "%s: larger than %zu bytes",
                         path, max_size);
  return WIF_OK;
}

/* The rest of both readers, on the open descriptor: a regular file of at
 * most max_size bytes, read whole. (The trusted open has refused other
 * types already; the plain open has not.) */
static wif_rc read_regular(int fd, const char *path, size_t max_size,
                           char **out, size_t *out_len, struct wif_error *err) {
  struct stat st;
  wif_rc rc;

  if (fstat(fd, &st) != 0)
    return wif_error_set(err, errno_rc(errno), "%s: cannot stat: %s", path,
                         strerror(errno));
  if (!S_ISREG(st.st_mode))
    return wif_error_set(err, WIF_E_SYSTEM, "%s: not a regular file", path);
  if ((rc = check_size(&st, path, max_size, err)) != WIF_OK)
    return rc;
  return read_all(fd, path, (size_t)st.st_size, max_size, out, out_len, err);
}

wif_rc wif_file_read_trusted(const char *path, uid_t owner, size_t max_size,
                             char **out, size_t *out_len,
                             struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;
  int fd = -1;

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
  rc = read_regular(fd, path, max_size, out, out_len, err);
out:
  close_fd(&fd);
  return rc;
}

wif_rc wif_file_read(const char *path, size_t max_size, char **out,
                     size_t *out_len, struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;
  int fd = -1;

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
  rc = read_regular(fd, path, max_size, out, out_len, err);
out:
  close_fd(&fd);
  return rc;
}

void wif_file_free_buffer(char *buf, size_t len) {
  if (buf == NULL)
    return;
  /* The buffer always holds a NUL after len bytes. */
  wif_wipe_free(buf, len + 1);
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

/* The random part of a temporary's name: ".<name>.<hex of these bytes>". */
#define TEMP_RANDOM_LEN 8

wif_rc wif_file_write_atomic_at(int dirfd, const char *dir, const char *name,
                                const void *data, size_t len, mode_t mode,
                                struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;
  char tmp[NAME_MAX + 1];
  unsigned char rnd[TEMP_RANDOM_LEN];
  int fd = -1;
  bool created = false;

  if (dirfd < 0 || name == NULL || strchr(name, '/') != NULL ||
      strlen(name) > NAME_MAX - 2 * sizeof(rnd) - 3 ||
      (data == NULL && len > 0)) {
    rc = wif_error_set(err, WIF_E_INTERNAL, "wif_file_write_atomic: bad call");
    goto out;
  }
  /* The temporary lives beside the target so renameat() stays atomic;
   * the dot keeps it out of globs. O_EXCL and O_NOFOLLOW: nothing
   * planted under that name is followed or reused. */
  if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
    rc = wif_error_set(err, WIF_E_SYSTEM, "%s/%s: no random name: %s", dir,
                       name, strerror(errno));
    goto out;
  }
  (void)snprintf(tmp, sizeof(tmp), ".%s.", name);
  wif_text_hex(rnd, sizeof(rnd), tmp + strlen(tmp));
  fd = openat(dirfd, tmp,
              O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
              0600);
  if (fd < 0) {
    rc = wif_error_set(err, errno_rc(errno),
                       "%s/%s: cannot create a temporary file: %s", dir, name,
                       strerror(errno));
    goto out;
  }
  created = true;
  if (fchmod(fd, mode & 07777) != 0) {
    rc = wif_error_set(err, errno_rc(errno), "%s/%s: chmod failed: %s", dir,
                       tmp, strerror(errno));
    goto out;
  }
  if ((rc = write_all(fd, tmp, data, len, err)) != WIF_OK)
    goto out;
  rc = WIF_E_INTERNAL;
  if (fsync(fd) != 0) {
    rc = wif_error_set(err, errno_rc(errno), "%s/%s: fsync failed: %s", dir,
                       tmp, strerror(errno));
    goto out;
  }
  if (close(fd) != 0) {
    fd = -1;
    rc = wif_error_set(err, errno_rc(errno), "%s/%s: close failed: %s", dir,
                       tmp, strerror(errno));
    goto out;
  }
  fd = -1;
  if (renameat(dirfd, tmp, dirfd, name) != 0) {
    rc = wif_error_set(err, errno_rc(errno), "%s/%s: rename failed: %s", dir,
                       name, strerror(errno));
    goto out;
  }
  created = false;
  /* Without this the rename itself may not survive a crash. */
  if (fsync(dirfd) != 0) {
    rc = wif_error_set(err, errno_rc(errno), "%s: fsync failed: %s", dir,
                       strerror(errno));
    goto out;
  }
  rc = WIF_OK;
out:
  close_fd(&fd);
  if (created)
    (void)unlinkat(dirfd, tmp, 0);
  return rc;
}

/* ".<name>." and nothing but 2 * TEMP_RANDOM_LEN hex digits after it. */
static bool is_temp_of(const char *entry, const char *name) {
  size_t n = strlen(name);

  if (entry[0] != '.' || strncmp(entry + 1, name, n) != 0 ||
      entry[n + 1] != '.' || strlen(entry + n + 2) != 2 * TEMP_RANDOM_LEN)
    return false;
  return strspn(entry + n + 2, "0123456789abcdef") == 2 * TEMP_RANDOM_LEN;
}

void wif_file_remove_temps_at(int dirfd, const char *name) {
  int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
  DIR *d;
  struct dirent *e;

  if (fd < 0)
    return;
  if ((d = fdopendir(fd)) == NULL) {
    (void)close(fd);
    return;
  }
  while ((e = readdir(d)) != NULL)
    if (is_temp_of(e->d_name, name))
      (void)unlinkat(dirfd, e->d_name, 0);
  (void)closedir(d);
}

wif_rc wif_file_write_atomic(const char *path, const void *data, size_t len,
                             mode_t mode, struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;
  char *dir = NULL;
  const char *slash;
  int dfd = -1;

  if (path == NULL || (slash = strrchr(path, '/')) == NULL ||
      slash[1] == '\0') {
    return wif_error_set(err, path == NULL ? WIF_E_INTERNAL : WIF_E_SYSTEM,
                         "%s: not an absolute file name",
                         path ? path : "(null)");
  }
  if ((dir = strndup(path, slash == path ? 1 : (size_t)(slash - path))) == NULL)
    return wif_error_set(err, WIF_E_NOMEM, "%s: out of memory", path);
  if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
    rc = wif_error_set(err, errno_rc(errno), "%s: cannot open: %s", dir,
                       strerror(errno));
    goto out;
  }
  rc = wif_file_write_atomic_at(dfd, dir, slash + 1, data, len, mode, err);
out:
  close_fd(&dfd);
  free(dir);
  return rc;
}

wif_rc wif_file_lock_at(int dirfd, const char *dir, const char *name,
                        uid_t owner, long wait_ms, int *out_fd,
                        struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;
  int64_t deadline = wif_clock_mono_ms() + (wait_ms > 0 ? wait_ms : 0);
  struct stat st;
  int fd;

  *out_fd = -1;
  fd = openat(dirfd, name, O_RDWR | O_CREAT | TRUSTED_OPEN_FLAGS, 0600);
  if (fd < 0)
    return wif_error_set(err, errno_rc(errno), "%s/%s: cannot open: %s", dir,
                         name, strerror(errno));
  if (fstat(fd, &st) != 0) {
    rc = wif_error_set(err, errno_rc(errno), "%s/%s: cannot stat: %s", dir,
                       name, strerror(errno));
    goto out;
  }
  if (!S_ISREG(st.st_mode) || st.st_uid != owner || st.st_nlink != 1 ||
      (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    rc = wif_error_set(err, WIF_E_CONFIG_INSECURE,
                       "%s/%s: must be a regular file of uid %lu, one link, "
                       "writable by nobody else",
                       dir, name, (unsigned long)owner);
    goto out;
  }
  /* flock with a timeout means polling: no alarm() inside a PAM host. */
  for (;;) {
    if (flock(fd, LOCK_EX | LOCK_NB) == 0)
      break;
    if (errno == EINTR)
      continue;
    if (errno != EWOULDBLOCK) {
      rc = wif_error_set(err, errno_rc(errno), "%s/%s: cannot lock: %s", dir,
                         name, strerror(errno));
      goto out;
    }
    if (wif_clock_mono_ms() >= deadline) {
      rc = wif_error_set(err, WIF_E_UNAVAILABLE,
                         "%s/%s: still locked by another process after %ld "
                         "ms",
                         dir, name, wait_ms);
      goto out;
    }
    wif_clock_sleep_ms(LOCK_POLL_MS);
  }
  *out_fd = fd;
  fd = -1;
  rc = WIF_OK;
out:
  close_fd(&fd);
  return rc;
}

static char *join(const char *dir, const char *base, const char *ext) {
  size_t n = strlen(dir) + 1 + strlen(base) + strlen(ext) + 1;
  char *s = malloc(n);

  if (s != NULL)
    (void)snprintf(s, n, "%s/%s%s", dir, base, ext);
  return s;
}

wif_rc wif_file_cache_paths(const char *dir, const char *base, const char *ext,
                            const char *lock_ext, char **out_path,
                            char **out_lock, struct wif_error *err) {
  *out_path = join(dir, base, ext);
  *out_lock = join(dir, base, lock_ext);
  if (*out_path == NULL || *out_lock == NULL) {
    free(*out_path);
    free(*out_lock);
    *out_path = NULL;
    *out_lock = NULL;
    return wif_error_set(err, WIF_E_NOMEM, "out of memory");
  }
  return WIF_OK;
}

void wif_file_unlock(int *fd) {
  if (fd == NULL || *fd < 0)
    return;
  (void)flock(*fd, LOCK_UN);
  close_fd(fd);
}
