/* SPDX-License-Identifier: Apache-2.0 */
/* Client token cache in $XDG_RUNTIME_DIR/pam_wif (or /tmp/pam_wif-UID):
 * 0700 directory, 0600 files named by a hash of the request. */
#include "token_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "file.h"
#include "jwt.h"
#include "text.h"
#include "wipe.h"

#define CACHE_MAGIC "wif-token-cache-v1 "
#define CACHE_FILE_MAX (WIF_TOKEN_MAX + 64)
#define CACHE_NAME_LEN (64 + 6) /* hex SHA-256 + ".token" */

wif_rc wif_token_cache_dir(const char *runtime_dir, uid_t uid, char **out_dir,
                           struct wif_error *err) {
  char *d = NULL;
  int n;

  *out_dir = NULL;
  if (runtime_dir != NULL && runtime_dir[0] == '/')
    n = asprintf(&d, "%s/pam_wif", runtime_dir);
  else
    n = asprintf(&d, "/tmp/pam_wif-%lu", (unsigned long)uid);
  if (n < 0)
    return wif_error_set(err, WIF_E_NOMEM, "out of memory");
  *out_dir = d;
  return WIF_OK;
}

static wif_rc file_name(const char *key, char out[CACHE_NAME_LEN + 1],
                        struct wif_error *err) {
  unsigned char md[32];
  unsigned int n = 0;

  if (EVP_Digest(key, strlen(key), md, &n, EVP_sha256(), NULL) != 1 ||
      n != sizeof(md))
    return wif_error_set(err, WIF_E_INTERNAL, "token cache: SHA-256 failed");
  wif_text_hex(md, sizeof(md), out);
  memcpy(out + 64, ".token", 7);
  return WIF_OK;
}

/* Opens dir (making it 0700 when missing) and checks it on the
 * descriptor: ours, no access for anyone else, not a symlink. A directory
 * someone else made first in /tmp fails here. */
static wif_rc open_dir(const char *dir, int *out_fd, struct wif_error *err) {
  struct stat st;
  int fd;

  *out_fd = -1;
  if (mkdir(dir, 0700) != 0 && errno != EEXIST)
    return wif_error_set(err, WIF_E_SYSTEM, "token cache: cannot create %s: %s",
                         dir, strerror(errno));
  fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return wif_error_set(
        err,
        errno == ELOOP || errno == ENOTDIR ? WIF_E_CONFIG_INSECURE
                                           : WIF_E_SYSTEM,
        "token cache: cannot open %s: %s", dir, strerror(errno));
  if (fstat(fd, &st) != 0 || st.st_uid != geteuid() ||
      (st.st_mode & 077) != 0) {
    (void)close(fd);
    return wif_error_set(err, WIF_E_CONFIG_INSECURE,
                         "token cache: %s must be a directory owned by uid "
                         "%lu with mode 0700",
                         dir, (unsigned long)geteuid());
  }
  *out_fd = fd;
  return WIF_OK;
}

static wif_rc read_entry(int dfd, const char *dir, const char *name, char *buf,
                         size_t size, size_t *out_len, struct wif_error *err) {
  wif_rc rc = WIF_E_TOKEN_UNAVAILABLE;
  struct stat st;
  size_t len = 0;
  int fd;

  *out_len = 0;
  fd = openat(dfd, name,
              O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    if (errno == ENOENT)
      return wif_error_set(err, WIF_E_TOKEN_UNAVAILABLE, "token cache: miss");
    return wif_error_set(err,
                         errno == ELOOP ? WIF_E_CONFIG_INSECURE : WIF_E_SYSTEM,
                         "token cache: %s/%s: %s", dir, name, strerror(errno));
  }
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
      (st.st_mode & 077) != 0) {
    rc = wif_error_set(err, WIF_E_CONFIG_INSECURE,
                       "token cache: %s/%s must be a regular file owned by "
                       "uid %lu with mode 0600",
                       dir, name, (unsigned long)geteuid());
    goto out;
  }
  while (len < size) {
    ssize_t n = read(fd, buf + len, size - len);

    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      rc = wif_error_set(err, WIF_E_SYSTEM, "token cache: read: %s",
                         strerror(errno));
      goto out;
    }
    if (n == 0)
      break;
    len += (size_t)n;
  }
  if (len == size) {
    rc = wif_error_set(err, WIF_E_TOKEN_UNAVAILABLE,
                       "token cache: entry too large");
    goto out;
  }
  *out_len = len;
  rc = WIF_OK;
out:
  (void)close(fd);
  return rc;
}

/* "wif-token-cache-v1 <exp>\n<token>\n" */
static bool parse_entry(char *buf, size_t len, int64_t *out_exp, char **out_tok,
                        size_t *out_tok_len) {
  size_t m = sizeof(CACHE_MAGIC) - 1;
  char *end = NULL;
  char *tok;
  long long exp;

  if (len < m + 4 || memcmp(buf, CACHE_MAGIC, m) != 0 ||
      memchr(buf, '\0', len) != NULL || buf[len - 1] != '\n')
    return false;
  buf[len - 1] = '\0';
  errno = 0;
  exp = strtoll(buf + m, &end, 10);
  if (errno != 0 || end == buf + m || *end != '\n' || exp <= 0)
    return false;
  tok = end + 1;
  *out_tok_len = strlen(tok);
  if (*out_tok_len == 0 || *out_tok_len > WIF_TOKEN_MAX ||
      strcspn(tok, " \t\r\n\\") != *out_tok_len)
    return false;
  *out_exp = (int64_t)exp;
  *out_tok = tok;
  return true;
}

wif_rc wif_token_cache_get(const char *dir, const char *key, int64_t now,
                           char **out_token, int64_t *out_exp,
                           struct wif_error *err) {
  wif_rc rc = WIF_E_TOKEN_UNAVAILABLE;
  char name[CACHE_NAME_LEN + 1];
  char *buf = NULL;
  size_t len = 0;
  char *tok = NULL;
  size_t tok_len = 0;
  int64_t exp = 0;
  int dfd = -1;

  *out_token = NULL;
  *out_exp = 0;
  if ((rc = file_name(key, name, err)) != WIF_OK ||
      (rc = open_dir(dir, &dfd, err)) != WIF_OK)
    goto out;
  if ((buf = malloc(CACHE_FILE_MAX)) == NULL) {
    rc = wif_error_set(err, WIF_E_NOMEM, "out of memory");
    goto out;
  }
  if ((rc = read_entry(dfd, dir, name, buf, CACHE_FILE_MAX, &len, err)) !=
      WIF_OK)
    goto out;
  if (!parse_entry(buf, len, &exp, &tok, &tok_len)) {
    rc = wif_error_set(err, WIF_E_TOKEN_UNAVAILABLE,
                       "token cache: %s/%s is not a cache entry", dir, name);
    goto out;
  }
  if (now >= exp - WIF_TOKEN_CACHE_MARGIN) {
    rc = wif_error_set(err, WIF_E_TOKEN_UNAVAILABLE,
                       "token cache: the entry expires too soon");
    goto out;
  }
  if ((*out_token = malloc(tok_len + 1)) == NULL) {
    rc = wif_error_set(err, WIF_E_NOMEM, "out of memory");
    goto out;
  }
  memcpy(*out_token, tok, tok_len + 1);
  *out_exp = exp;
  rc = WIF_OK;
out:
  wif_wipe_free(buf, CACHE_FILE_MAX);
  if (dfd >= 0)
    (void)close(dfd);
  return rc;
}

wif_rc wif_token_cache_put(const char *dir, const char *key, const char *token,
                           int64_t exp, int64_t now, struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;
  char name[CACHE_NAME_LEN + 1];
  char *data = NULL;
  char *path = NULL;
  int dfd = -1;
  int n;
  size_t tlen = strlen(token);

  if (exp <= now + WIF_TOKEN_CACHE_MARGIN)
    return WIF_OK;
  if (tlen == 0 || tlen > WIF_TOKEN_MAX || strcspn(token, " \t\r\n\\") != tlen)
    return wif_error_set(err, WIF_E_INTERNAL, "token cache: not a token");
  if ((rc = file_name(key, name, err)) != WIF_OK ||
      (rc = open_dir(dir, &dfd, err)) != WIF_OK)
    goto out;
  /* asprintf leaves the pointer undefined on failure. */
  if ((n = asprintf(&data, "%s%lld\n%s\n", CACHE_MAGIC, (long long)exp,
                    token)) < 0) {
    data = NULL;
    rc = wif_error_set(err, WIF_E_NOMEM, "out of memory");
    goto out;
  }
  if (asprintf(&path, "%s/%s", dir, name) < 0) {
    path = NULL;
    rc = wif_error_set(err, WIF_E_NOMEM, "out of memory");
    goto out;
  }
  rc = wif_file_write_atomic(path, data, (size_t)n, 0600, err);
out:
  wif_wipe_free_str(data);
  free(path);
  if (dfd >= 0)
    (void)close(dfd);
  return rc;
}

wif_rc wif_token_cache_drop(const char *dir, const char *key,
                            struct wif_error *err) {
  wif_rc rc;
  char name[CACHE_NAME_LEN + 1];
  int dfd = -1;

  if ((rc = file_name(key, name, err)) != WIF_OK ||
      (rc = open_dir(dir, &dfd, err)) != WIF_OK)
    return rc;
  if (unlinkat(dfd, name, 0) != 0 && errno != ENOENT)
    rc = wif_error_set(err, WIF_E_SYSTEM, "token cache: cannot remove: %s",
                       strerror(errno));
  (void)close(dfd);
  return rc;
}
