/* SPDX-License-Identifier: Apache-2.0 */
/* The replay store: one-time tokens (`one_time = yes`) already accepted. */
#include "replay.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "clock.h"
#include "file.h"
#include "text.h"

static const unsigned char MAGIC[8] = {'W', 'I', 'F', 'R', 'P', 'L', 0, 1};

#define NAME_DOMAIN "pam_wif replay store v1\n"
#define ISSUER_DOMAIN "pam_wif replay issuer v1\n"
#define KEY_DOMAIN "pam_wif replay jti v1\n"
#define OPEN_FLAGS (O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK)

wif_rc wif_replay_jti(const struct wif_json_doc *claims, const char **out,
                      size_t *out_len, struct wif_error *err) {
  const struct wif_json *v;

  *out = NULL;
  *out_len = 0;
  if (claims == NULL)
    return wif_error_set(err, WIF_E_INTERNAL, "wif_replay_jti: bad call");
  v = wif_json_get(claims, wif_json_root(claims), "jti");
  if (v == NULL)
    return wif_error_set(err, WIF_E_JTI_MISSING,
                         "the provider accepts one-time tokens only and the "
                         "token has no jti");
  if (!wif_json_string(v, out, out_len))
    return wif_error_set(err, WIF_E_CLAIM_TYPE, "jti is not a string");
  if (*out_len == 0)
    return wif_error_set(err, WIF_E_JTI_MISSING,
                         "the provider accepts one-time tokens only and the "
                         "token's jti is empty");
  if (*out_len > WIF_REPLAY_JTI_MAX)
    return wif_error_set(err, WIF_E_TOO_LARGE,
                         "jti is %zu bytes long, more than %d", *out_len,
                         WIF_REPLAY_JTI_MAX);
  return WIF_OK;
}

/* SHA-256 over a domain string, then parts (each length-prefixed except
 * the last, which ends the input). */
static wif_rc digest(const char *domain, const char *a, size_t alen,
                     const char *b, size_t blen,
                     unsigned char out[WIF_REPLAY_KEY_LEN],
                     struct wif_error *err) {
  wif_rc rc = WIF_E_NOMEM;
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  unsigned char lenb[8];
  unsigned int dlen = 0;

  for (int i = 0; i < 8; i++)
    lenb[i] = (unsigned char)((uint64_t)alen >> (8 * i));
  if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
      EVP_DigestUpdate(md, domain, strlen(domain)) != 1 ||
      EVP_DigestUpdate(md, lenb, sizeof(lenb)) != 1 ||
      EVP_DigestUpdate(md, a, alen) != 1 ||
      (blen > 0 && EVP_DigestUpdate(md, b, blen) != 1) ||
      EVP_DigestFinal_ex(md, out, &dlen) != 1 || dlen != WIF_REPLAY_KEY_LEN) {
    rc = wif_error_set(err, WIF_E_NOMEM, "cannot compute SHA-256");
    goto out;
  }
  rc = WIF_OK;
out:
  EVP_MD_CTX_free(md);
  return rc;
}

wif_rc wif_replay_key(const char *issuer, const char *jti, size_t jti_len,
                      unsigned char out[WIF_REPLAY_KEY_LEN],
                      struct wif_error *err) {
  if (issuer == NULL || jti == NULL || jti_len == 0)
    return wif_error_set(err, WIF_E_INTERNAL, "wif_replay_key: bad call");
  return digest(KEY_DOMAIN, issuer, strlen(issuer), jti, jti_len, out, err);
}

static wif_rc issuer_hash(const char *issuer,
                          unsigned char out[WIF_REPLAY_KEY_LEN],
                          struct wif_error *err) {
  return digest(ISSUER_DOMAIN, issuer, strlen(issuer), NULL, 0, out, err);
}

/* "<h>.replay": the store's name inside the cache directory. */
static wif_rc store_name(const struct wif_provider *p, char *out,
                         size_t out_size, struct wif_error *err) {
  unsigned char h[WIF_REPLAY_KEY_LEN];
  wif_rc rc;

  if (out_size < 2 * WIF_REPLAY_KEY_LEN + sizeof(".replay"))
    return wif_error_set(err, WIF_E_INTERNAL, "store_name: short buffer");
  rc = digest(NAME_DOMAIN, p->issuer, strlen(p->issuer), NULL, 0, h, err);
  if (rc != WIF_OK)
    return rc;
  wif_text_hex(h, WIF_REPLAY_KEY_LEN, out);
  memcpy(out + 2 * WIF_REPLAY_KEY_LEN, ".replay", sizeof(".replay"));
  return WIF_OK;
}

#define NAME_SIZE (2 * WIF_REPLAY_KEY_LEN + sizeof(".replay.lock"))

wif_rc wif_replay_paths(const char *dir, const struct wif_provider *p,
                        char **out_store, char **out_lock,
                        struct wif_error *err) {
  char name[NAME_SIZE];
  wif_rc rc;

  *out_store = NULL;
  *out_lock = NULL;
  if (dir == NULL || p == NULL || p->issuer == NULL)
    return wif_error_set(err, WIF_E_INTERNAL, "wif_replay_paths: bad call");
  if ((rc = store_name(p, name, sizeof(name), err)) != WIF_OK)
    return rc;
  return wif_file_cache_paths(dir, name, "", ".lock", out_store, out_lock, err);
}

/* ---- the file image ---- */

static uint32_t get_u32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

static void put_u32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++)
    p[i] = (unsigned char)(v >> (8 * i));
}

static int64_t get_i64(const unsigned char *p) {
  uint64_t v = 0;

  for (int i = 7; i >= 0; i--)
    v = v << 8 | p[i];
  return (int64_t)v;
}

static void put_i64(unsigned char *p, int64_t v) {
  uint64_t u = (uint64_t)v;

  for (int i = 0; i < 8; i++)
    p[i] = (unsigned char)(u >> (8 * i));
}

static const unsigned char *entry(const unsigned char *data, size_t i) {
  return data + WIF_REPLAY_HEADER_LEN + i * WIF_REPLAY_ENTRY_LEN;
}

wif_rc wif_replay_decode(const unsigned char *data, size_t len,
                         const char *issuer, size_t *out_count,
                         struct wif_error *err) {
  unsigned char ih[WIF_REPLAY_KEY_LEN];
  uint32_t count;
  wif_rc rc;

  *out_count = 0;
  if (issuer == NULL || (data == NULL && len > 0))
    return wif_error_set(err, WIF_E_INTERNAL, "wif_replay_decode: bad call");
  if (len < WIF_REPLAY_HEADER_LEN || memcmp(data, MAGIC, sizeof(MAGIC)) != 0)
    return wif_error_set(err, WIF_E_REPLAY_CORRUPT,
                         "not a version 1 replay store");
  if ((rc = issuer_hash(issuer, ih, err)) != WIF_OK)
    return rc;
  /* A file copied from another provider's name must not be trusted. */
  if (memcmp(data + 8, ih, sizeof(ih)) != 0)
    return wif_error_set(err, WIF_E_REPLAY_CORRUPT,
                         "written for another issuer");
  count = get_u32(data + 40);
  if (get_u32(data + 44) != 0)
    return wif_error_set(err, WIF_E_REPLAY_CORRUPT, "bad header");
  if (count > WIF_REPLAY_ENTRIES_MAX)
    return wif_error_set(err, WIF_E_REPLAY_CORRUPT, "%lu entries, more than %d",
                         (unsigned long)count, WIF_REPLAY_ENTRIES_MAX);
  if (len != WIF_REPLAY_HEADER_LEN + (size_t)count * WIF_REPLAY_ENTRY_LEN)
    return wif_error_set(err, WIF_E_REPLAY_CORRUPT,
                         "%zu bytes do not hold %lu entries", len,
                         (unsigned long)count);
  /* Binary search is only right over strictly sorted keys. */
  for (size_t i = 0; i < count; i++) {
    const unsigned char *e = entry(data, i);

    if (i > 0 && memcmp(entry(data, i - 1), e, WIF_REPLAY_KEY_LEN) >= 0)
      return wif_error_set(err, WIF_E_REPLAY_CORRUPT,
                           "entry %zu is out of order", i);
    if (get_i64(e + WIF_REPLAY_KEY_LEN) <= 0)
      return wif_error_set(err, WIF_E_REPLAY_CORRUPT, "entry %zu has no expiry",
                           i);
  }
  *out_count = count;
  return WIF_OK;
}

/* The index of key, or where it would go; *found says which. */
static size_t search(const unsigned char *data, size_t count,
                     const unsigned char *key, bool *found) {
  size_t lo = 0, hi = count;

  *found = false;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = memcmp(entry(data, mid), key, WIF_REPLAY_KEY_LEN);

    if (c == 0) {
      *found = true;
      return mid;
    }
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

static bool live(const unsigned char *e, int64_t now) {
  return now < get_i64(e + WIF_REPLAY_KEY_LEN);
}

bool wif_replay_contains(const unsigned char *data, size_t count,
                         const unsigned char key[WIF_REPLAY_KEY_LEN],
                         int64_t now) {
  bool found = false;
  size_t i;

  if (data == NULL || count == 0)
    return false;
  i = search(data, count, key, &found);
  return found && live(entry(data, i), now);
}

wif_rc wif_replay_insert(const unsigned char *data, size_t count,
                         const char *issuer,
                         const unsigned char key[WIF_REPLAY_KEY_LEN],
                         int64_t until, int64_t now, unsigned char **out,
                         size_t *out_len, struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;
  unsigned char *img = NULL;
  unsigned char *o;
  size_t at, n = 0, kept = 0;
  bool found = false;

  *out = NULL;
  *out_len = 0;
  if (issuer == NULL || key == NULL || until <= 0 ||
      (data == NULL && count > 0) || count > WIF_REPLAY_ENTRIES_MAX) {
    rc = wif_error_set(err, WIF_E_INTERNAL, "wif_replay_insert: bad call");
    goto out;
  }
  at = count > 0 ? search(data, count, key, &found) : 0;
  if (found && live(entry(data, at), now)) {
    rc = wif_error_set(err, WIF_E_REPLAYED,
                       "this token's jti was accepted before; a one-time "
                       "token is accepted once");
    goto out;
  }
  /* Sized for every entry; the expired ones are left out as it is
   * filled, so one pass both purges and counts. */
  img = malloc(WIF_REPLAY_HEADER_LEN + (count + 1) * WIF_REPLAY_ENTRY_LEN);
  if (img == NULL) {
    rc = wif_error_set(err, WIF_E_NOMEM, "out of memory");
    goto out;
  }
  memcpy(img, MAGIC, sizeof(MAGIC));
  if ((rc = issuer_hash(issuer, img + 8, err)) != WIF_OK)
    goto out;
  put_u32(img + 44, 0);
  o = img + WIF_REPLAY_HEADER_LEN;
  /* One merge pass: live entries in order, the new key at its place. */
  for (size_t i = 0; i <= count; i++) {
    if (i == at) {
      memcpy(o, key, WIF_REPLAY_KEY_LEN);
      put_i64(o + WIF_REPLAY_KEY_LEN, until);
      o += WIF_REPLAY_ENTRY_LEN;
      n++;
    }
    if (i == count)
      break;
    if (i == at && found)
      continue; /* the expired entry of this very key */
    if (!live(entry(data, i), now))
      continue;
    memcpy(o, entry(data, i), WIF_REPLAY_ENTRY_LEN);
    o += WIF_REPLAY_ENTRY_LEN;
    n++;
  }
  kept = n - 1;
  if (kept >= WIF_REPLAY_ENTRIES_MAX) {
    rc = wif_error_set(err, WIF_E_REPLAY_FULL,
                       "%zu live entries, the most the replay store holds",
                       kept);
    goto out;
  }
  put_u32(img + 40, (uint32_t)n);
  *out = img;
  *out_len = WIF_REPLAY_HEADER_LEN + n * WIF_REPLAY_ENTRY_LEN;
  img = NULL;
  rc = WIF_OK;
out:
  free(img);
  return rc;
}

/* ---- the files ---- */

static void close_fd(int *fd) {
  if (*fd >= 0)
    (void)close(*fd);
  *fd = -1;
}

static wif_rc sys_error(struct wif_error *err, const char *dir,
                        const char *name, const char *what) {
  int e = errno;

  return wif_error_set(err, e == ENOMEM ? WIF_E_NOMEM : WIF_E_SYSTEM,
                       "%s/%s: %s: %s", dir, name, what, strerror(e));
}

/* Regular, owned by owner, nobody else may read or write it, one link. */
static wif_rc check_file(int fd, uid_t owner, const char *dir, const char *name,
                         struct stat *st, struct wif_error *err) {
  if (fstat(fd, st) != 0)
    return sys_error(err, dir, name, "cannot stat");
  if (!S_ISREG(st->st_mode) || st->st_uid != owner ||
      (st->st_mode & 077) != 0 || st->st_nlink != 1)
    return wif_error_set(err, WIF_E_CONFIG_INSECURE,
                         "%s/%s: must be a regular file owned by uid %lu, "
                         "mode 0600, one link (it is uid %lu, mode %04o)",
                         dir, name, (unsigned long)owner,
                         (unsigned long)st->st_uid,
                         (unsigned)(st->st_mode & 07777));
  return WIF_OK;
}

/*
 * The cache directory, checked up to / and created 0700 when missing
 * (file.h); every file below is opened relative to it, so a path swapped
 * after the check cannot redirect a write. Without create, a missing
 * directory is WIF_E_KEY_NOT_FOUND (nothing recorded yet).
 */
static wif_rc open_dir(const char *dir, uid_t owner, bool create, int *out_fd,
                       struct wif_error *err) {
  struct stat st;

  *out_fd = -1;
  if (!create && stat(dir, &st) != 0 && errno == ENOENT)
    return wif_error_set(err, WIF_E_KEY_NOT_FOUND, "%s: nothing recorded", dir);
  return wif_file_open_dir_trusted(dir, owner, out_fd, err);
}

/* The store's image; *out NULL and *out_len 0 when there is no file. */
static wif_rc read_store(int dfd, const char *dir, const char *name,
                         uid_t owner, unsigned char **out, size_t *out_len,
                         struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;
  unsigned char *buf = NULL;
  struct stat st;
  size_t size, got = 0;
  int fd;

  *out = NULL;
  *out_len = 0;
  fd = openat(dfd, name, O_RDONLY | OPEN_FLAGS);
  if (fd < 0 && errno == ENOENT)
    return WIF_OK;
  if (fd < 0)
    return sys_error(err, dir, name, "cannot open");
  if ((rc = check_file(fd, owner, dir, name, &st, err)) != WIF_OK)
    goto out;
  if (st.st_size < 0 || (uintmax_t)st.st_size > WIF_REPLAY_FILE_MAX) {
    rc = wif_error_set(err, WIF_E_REPLAY_CORRUPT,
                       "%s/%s: larger than a full store (%zu bytes)", dir, name,
                       (size_t)WIF_REPLAY_FILE_MAX);
    goto out;
  }
  size = (size_t)st.st_size;
  /* One byte more than fstat said: growth after it shows as a mismatch. */
  if ((buf = malloc(size + 1)) == NULL) {
    rc = wif_error_set(err, WIF_E_NOMEM, "out of memory");
    goto out;
  }
  while (got < size + 1) {
    ssize_t n = read(fd, buf + got, size + 1 - got);

    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      rc = sys_error(err, dir, name, "cannot read");
      goto out;
    }
    if (n == 0)
      break;
    got += (size_t)n;
  }
  if (got != size) {
    rc = wif_error_set(err, WIF_E_REPLAY_CORRUPT,
                       "%s/%s: changed while it was read", dir, name);
    goto out;
  }
  *out = buf;
  *out_len = size;
  buf = NULL;
  rc = WIF_OK;
out:
  free(buf);
  close_fd(&fd);
  return rc;
}

wif_rc wif_replay_use(const char *dir, uid_t owner,
                      const struct wif_provider *p, const char *jti,
                      size_t jti_len, int64_t exp, int64_t clock_skew,
                      int64_t now, enum wif_replay_mode mode,
                      struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;
  char name[NAME_SIZE];
  char lname[NAME_SIZE + 8];
  unsigned char key[WIF_REPLAY_KEY_LEN];
  unsigned char *img = NULL, *next = NULL;
  size_t len = 0, next_len = 0, count = 0;
  int64_t until;
  int dfd = -1, lfd = -1;
  struct wif_error derr;

  if (dir == NULL || p == NULL || p->issuer == NULL || jti == NULL ||
      clock_skew < 0) {
    rc = wif_error_set(err, WIF_E_INTERNAL, "wif_replay_use: bad call");
    goto out;
  }
  if ((rc = wif_replay_key(p->issuer, jti, jti_len, key, err)) != WIF_OK ||
      (rc = store_name(p, name, sizeof(name), err)) != WIF_OK)
    goto out;
  (void)snprintf(lname, sizeof(lname), "%s.lock", name);
  rc = open_dir(dir, owner, mode == WIF_REPLAY_RECORD, &dfd, err);
  if (rc == WIF_E_KEY_NOT_FOUND && mode == WIF_REPLAY_PEEK) {
    rc = WIF_OK; /* no directory: nothing was ever recorded */
    goto out;
  }
  if (rc == WIF_E_KEY_NOT_FOUND)
    rc = WIF_E_SYSTEM;
  if (rc != WIF_OK)
    goto out;
  if ((rc = wif_file_lock_at(dfd, dir, lname, owner, WIF_REPLAY_LOCK_WAIT_MS,
                             &lfd, err)) != WIF_OK)
    goto out;
  if ((rc = read_store(dfd, dir, name, owner, &img, &len, err)) != WIF_OK)
    goto out;
  if (img != NULL) {
    wif_error_clear(&derr);
    rc = wif_replay_decode(img, len, p->issuer, &count, &derr);
    if (rc != WIF_OK) {
      wif_error_set(err, rc,
                    "%s/%s: %s; one-time tokens of provider \"%s\" "
                    "are refused until it is removed",
                    dir, name, derr.msg, p->name);
      goto out;
    }
  }
  if (mode == WIF_REPLAY_PEEK) {
    rc = wif_replay_contains(img, count, key, now)
             ? wif_error_set(err, WIF_E_REPLAYED,
                             "this token's jti was accepted before; a "
                             "one-time token is accepted once")
             : WIF_OK;
    goto out;
  }
  until = exp > INT64_MAX - clock_skew ? INT64_MAX : exp + clock_skew;
  rc = wif_replay_insert(img, count, p->issuer, key, until, now, &next,
                         &next_len, err);
  if (rc != WIF_OK)
    goto out;
  /* An accepted token is on disk before the login proceeds: the atomic
   * write fsyncs the file and the directory. */
  rc = wif_file_write_atomic_at(dfd, dir, name, next, next_len, 0600, err);
out:
  wif_file_unlock(&lfd);
  close_fd(&dfd);
  free(img);
  free(next);
  OPENSSL_cleanse(key, sizeof(key));
  return rc;
}

wif_rc wif_replay_count(const char *dir, uid_t owner,
                        const struct wif_provider *p, int64_t now,
                        size_t *out_live, struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;
  char name[NAME_SIZE];
  char lname[NAME_SIZE + 8];
  unsigned char *img = NULL;
  size_t len = 0, count = 0;
  int dfd = -1, lfd = -1;
  struct wif_error derr;

  *out_live = 0;
  if (dir == NULL || p == NULL || p->issuer == NULL) {
    rc = wif_error_set(err, WIF_E_INTERNAL, "wif_replay_count: bad call");
    goto out;
  }
  if ((rc = store_name(p, name, sizeof(name), err)) != WIF_OK)
    goto out;
  (void)snprintf(lname, sizeof(lname), "%s.lock", name);
  rc = open_dir(dir, owner, false, &dfd, err);
  if (rc == WIF_E_KEY_NOT_FOUND) {
    rc = WIF_OK;
    goto out;
  }
  if (rc != WIF_OK ||
      (rc = wif_file_lock_at(dfd, dir, lname, owner, WIF_REPLAY_LOCK_WAIT_MS,
                             &lfd, err)) != WIF_OK ||
      (rc = read_store(dfd, dir, name, owner, &img, &len, err)) != WIF_OK ||
      img == NULL)
    goto out;
  wif_error_clear(&derr);
  if ((rc = wif_replay_decode(img, len, p->issuer, &count, &derr)) != WIF_OK) {
    wif_error_set(err, rc, "%s/%s: %s", dir, name, derr.msg);
    goto out;
  }
  for (size_t i = 0; i < count; i++)
    if (live(entry(img, i), now))
      (*out_live)++;
out:
  wif_file_unlock(&lfd);
  close_fd(&dfd);
  free(img);
  return rc;
}
