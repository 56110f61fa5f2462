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

/* Version 2 is version 1's layout with a journal beside it; code that
 * knows only version 1 would ignore the journal, so it must refuse the
 * store instead. Version 1 is read (the store before an upgrade). */
static const unsigned char MAGIC[8] = {'W', 'I', 'F', 'R', 'P', 'L', 0, 2};
static const unsigned char JOURNAL_MAGIC[8] = {'W', 'I', 'F', 'R',
                                               'P', 'J', 0,   1};

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
/* The journal's and the lock's: the store's name and a suffix. */
#define SUFFIXED_SIZE (NAME_SIZE + sizeof(".journal"))

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

static uint64_t get_u64(const unsigned char *p) {
  uint64_t v = 0;

  for (int i = 7; i >= 0; i--)
    v = v << 8 | p[i];
  return v;
}

static void put_u64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++)
    p[i] = (unsigned char)(v >> (8 * i));
}

static int64_t get_i64(const unsigned char *p) {
  return (int64_t)get_u64(p);
}

static void put_i64(unsigned char *p, int64_t v) {
  put_u64(p, (uint64_t)v);
}

/* Magic and issuer hash, the first 40 bytes of a store and a journal (the
 * caller has checked that there is a header). */
static wif_rc check_header(const unsigned char *data,
                           const unsigned char magic[8], unsigned char oldest,
                           const char *what, const char *issuer,
                           struct wif_error *err) {
  unsigned char ih[WIF_REPLAY_KEY_LEN];
  wif_rc rc;

  if (memcmp(data, magic, 7) != 0 || data[7] < oldest || data[7] > magic[7])
    return wif_error_set(err, WIF_E_REPLAY_CORRUPT,
                         "not a %s of a known version", what);
  if ((rc = issuer_hash(issuer, ih, err)) != WIF_OK)
    return rc;
  /* A file copied from another provider's name must not be trusted. */
  if (memcmp(data + 8, ih, sizeof(ih)) != 0)
    return wif_error_set(err, WIF_E_REPLAY_CORRUPT,
                         "written for another issuer");
  return WIF_OK;
}

static const unsigned char *entry(const unsigned char *data, size_t i) {
  return data + WIF_REPLAY_HEADER_LEN + i * WIF_REPLAY_ENTRY_LEN;
}

wif_rc wif_replay_decode(const unsigned char *data, size_t len,
                         const char *issuer, size_t *out_count,
                         struct wif_error *err) {
  uint32_t count;
  wif_rc rc;

  *out_count = 0;
  if (issuer == NULL || (data == NULL && len > 0))
    return wif_error_set(err, WIF_E_INTERNAL, "wif_replay_decode: bad call");
  if (data == NULL || len < WIF_REPLAY_HEADER_LEN)
    return wif_error_set(err, WIF_E_REPLAY_CORRUPT,
                         "not a replay store of a known version");
  rc = check_header(data, MAGIC, 1, "replay store", issuer, err);
  if (rc != WIF_OK)
    return rc;
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

/* A store image with room for `room` entries, its header written but for
 * the count (free); NULL with *rc and err set on failure. */
static unsigned char *new_image(size_t room, const char *issuer, wif_rc *rc,
                                struct wif_error *err) {
  unsigned char *img =
      malloc(WIF_REPLAY_HEADER_LEN + room * WIF_REPLAY_ENTRY_LEN);

  if (img == NULL) {
    *rc = wif_error_set(err, WIF_E_NOMEM, "out of memory");
    return NULL;
  }
  memcpy(img, MAGIC, sizeof(MAGIC));
  if ((*rc = issuer_hash(issuer, img + 8, err)) != WIF_OK) {
    free(img);
    return NULL;
  }
  put_u32(img + 44, 0);
  return img;
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
  if ((img = new_image(count + 1, issuer, &rc, err)) == NULL)
    goto out;
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

/* ---- the journal image ---- */

/* FNV-1a: tells a torn record from a whole one (the file is private, so
 * nobody forges one). */
static uint64_t fnv1a(const unsigned char *p, size_t n) {
  uint64_t h = UINT64_C(0xcbf29ce484222325);

  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= UINT64_C(0x100000001b3);
  }
  return h;
}

static const unsigned char *record(const unsigned char *jdata, size_t i) {
  return jdata + WIF_REPLAY_HEADER_LEN + i * WIF_REPLAY_RECORD_LEN;
}

static bool record_whole(const unsigned char *r) {
  return get_i64(r + WIF_REPLAY_KEY_LEN) > 0 &&
         get_u64(r + WIF_REPLAY_ENTRY_LEN) == fnv1a(r, WIF_REPLAY_ENTRY_LEN);
}

wif_rc wif_replay_journal_decode(const unsigned char *data, size_t len,
                                 const char *issuer, size_t *out_count,
                                 struct wif_error *err) {
  size_t n, good = 0;
  wif_rc rc;

  *out_count = 0;
  if (issuer == NULL || (data == NULL && len > 0))
    return wif_error_set(err, WIF_E_INTERNAL,
                         "wif_replay_journal_decode: bad call");
  if (data == NULL || len < WIF_REPLAY_HEADER_LEN)
    return wif_error_set(err, WIF_E_REPLAY_CORRUPT,
                         "not a replay journal of a known version");
  rc = check_header(data, JOURNAL_MAGIC, 1, "replay journal", issuer, err);
  if (rc != WIF_OK)
    return rc;
  if (get_u64(data + 40) != 0)
    return wif_error_set(err, WIF_E_REPLAY_CORRUPT, "bad header");
  if (len > WIF_REPLAY_JOURNAL_FILE_MAX)
    return wif_error_set(err, WIF_E_REPLAY_CORRUPT,
                         "%zu bytes, more than a full journal", len);
  n = (len - WIF_REPLAY_HEADER_LEN) / WIF_REPLAY_RECORD_LEN;
  for (size_t i = 0; i < n; i++) {
    if (!record_whole(record(data, i)))
      continue;
    /* Only an unfinished login's record, the last, may be torn. */
    if (good != i)
      return wif_error_set(err, WIF_E_REPLAY_CORRUPT,
                           "record %zu follows a damaged one", i);
    good = i + 1;
  }
  /* One record in flight at a time: a torn tail is at most one record. */
  if (len - WIF_REPLAY_HEADER_LEN - good * WIF_REPLAY_RECORD_LEN >
      WIF_REPLAY_RECORD_LEN)
    return wif_error_set(
        err, WIF_E_REPLAY_CORRUPT,
        "%zu damaged bytes after record %zu, more than one "
        "torn record",
        len - WIF_REPLAY_HEADER_LEN - good * WIF_REPLAY_RECORD_LEN, good);
  *out_count = good;
  return WIF_OK;
}

bool wif_replay_journal_contains(const unsigned char *data, size_t count,
                                 const unsigned char key[WIF_REPLAY_KEY_LEN],
                                 int64_t now) {
  for (size_t i = 0; data != NULL && i < count; i++)
    if (memcmp(record(data, i), key, WIF_REPLAY_KEY_LEN) == 0 &&
        live(record(data, i), now))
      return true;
  return false;
}

wif_rc wif_replay_journal_header(const char *issuer, unsigned char *out,
                                 struct wif_error *err) {
  memcpy(out, JOURNAL_MAGIC, sizeof(JOURNAL_MAGIC));
  put_u64(out + 40, 0);
  return issuer_hash(issuer, out + 8, err);
}

void wif_replay_journal_record(const unsigned char key[WIF_REPLAY_KEY_LEN],
                               int64_t until,
                               unsigned char out[WIF_REPLAY_RECORD_LEN]) {
  memcpy(out, key, WIF_REPLAY_KEY_LEN);
  put_i64(out + WIF_REPLAY_KEY_LEN, until);
  put_u64(out + WIF_REPLAY_ENTRY_LEN, fnv1a(out, WIF_REPLAY_ENTRY_LEN));
}

static int compare_keys(const void *a, const void *b) {
  return memcmp(*(const unsigned char *const *)a,
                *(const unsigned char *const *)b, WIF_REPLAY_KEY_LEN);
}

/* The later of two entries of one key. */
static const unsigned char *later(const unsigned char *a,
                                  const unsigned char *b) {
  return get_i64(a + WIF_REPLAY_KEY_LEN) >= get_i64(b + WIF_REPLAY_KEY_LEN) ? a
                                                                            : b;
}

wif_rc wif_replay_merge(const unsigned char *data, size_t count,
                        const unsigned char *jdata, size_t jcount,
                        const char *issuer, int64_t now, unsigned char **out,
                        size_t *out_len, struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;
  const unsigned char **js = NULL;
  unsigned char *img = NULL, *o;
  size_t m = 0, i = 0, j = 0, n = 0;

  *out = NULL;
  *out_len = 0;
  if (issuer == NULL || (data == NULL && count > 0) ||
      (jdata == NULL && jcount > 0) || count > WIF_REPLAY_ENTRIES_MAX ||
      jcount > WIF_REPLAY_JOURNAL_MAX + 1)
    return wif_error_set(err, WIF_E_INTERNAL, "wif_replay_merge: bad call");
  /* The journal's live entries sorted by key, each key once. */
  if (jcount > 0 && (js = malloc(jcount * sizeof(*js))) == NULL) {
    rc = wif_error_set(err, WIF_E_NOMEM, "out of memory");
    goto out;
  }
  for (size_t k = 0; k < jcount; k++)
    if (live(record(jdata, k), now))
      js[m++] = record(jdata, k);
  if (m > 0)
    qsort(js, m, sizeof(*js), compare_keys);
  if ((img = new_image(count + m, issuer, &rc, err)) == NULL)
    goto out;
  o = img + WIF_REPLAY_HEADER_LEN;
  while (i < count || j < m) {
    const unsigned char *take;
    int c = i == count ? 1
            : j == m   ? -1
                       : memcmp(entry(data, i), js[j], WIF_REPLAY_KEY_LEN);

    if (c < 0) {
      take = entry(data, i++);
    } else {
      take = c == 0 ? later(entry(data, i++), js[j]) : js[j];
      for (j++; j < m && compare_keys(&js[j - 1], &js[j]) == 0; j++)
        take = later(take, js[j]);
    }
    if (!live(take, now))
      continue;
    if (n == WIF_REPLAY_ENTRIES_MAX) {
      rc = wif_error_set(err, WIF_E_REPLAY_FULL,
                         "more than %d live entries, the most the replay "
                         "store holds",
                         WIF_REPLAY_ENTRIES_MAX);
      goto out;
    }
    memcpy(o, take, WIF_REPLAY_ENTRY_LEN);
    o += WIF_REPLAY_ENTRY_LEN;
    n++;
  }
  put_u32(img + 40, (uint32_t)n);
  *out = img;
  *out_len = WIF_REPLAY_HEADER_LEN + n * WIF_REPLAY_ENTRY_LEN;
  img = NULL;
  rc = WIF_OK;
out:
  free(js);
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

/* name opened with flags and checked; *out_fd -1 when there is no file. */
static wif_rc open_file(int dfd, const char *dir, const char *name, uid_t owner,
                        int flags, int *out_fd, struct wif_error *err) {
  struct stat st;
  wif_rc rc;

  *out_fd = openat(dfd, name, flags | OPEN_FLAGS);
  if (*out_fd < 0 && errno == ENOENT)
    return WIF_OK;
  if (*out_fd < 0)
    return sys_error(err, dir, name, "cannot open");
  if ((rc = check_file(*out_fd, owner, dir, name, &st, err)) != WIF_OK)
    close_fd(out_fd);
  return rc;
}

/* The whole file behind fd, at most max bytes. */
static wif_rc read_image(int fd, const char *dir, const char *name, size_t max,
                         unsigned char **out, size_t *out_len,
                         struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;
  unsigned char *buf = NULL;
  struct stat st;
  size_t size, got = 0;

  *out = NULL;
  *out_len = 0;
  if (fstat(fd, &st) != 0)
    return sys_error(err, dir, name, "cannot stat");
  if (st.st_size < 0 || (uintmax_t)st.st_size > max)
    return wif_error_set(err, WIF_E_REPLAY_CORRUPT,
                         "%s/%s: larger than it can be (%zu bytes)", dir, name,
                         max);
  size = (size_t)st.st_size;
  /* One byte more than fstat said: growth after it shows as a mismatch. */
  if ((buf = malloc(size + 1)) == NULL)
    return wif_error_set(err, WIF_E_NOMEM, "out of memory");
  while (got < size + 1) {
    ssize_t n = pread(fd, buf + got, size + 1 - got, (off_t)got);

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
  return rc;
}

/* What a login finds under the lock: the store and the journal, decoded;
 * the journal's descriptor kept for the append. */
struct replay_state {
  const char *dir;
  char name[NAME_SIZE];
  char jname[SUFFIXED_SIZE];
  unsigned char *img, *jimg;
  size_t len, count, jlen, jcount;
  int jfd;
};

static void state_free(struct replay_state *st) {
  free(st->img);
  free(st->jimg);
  close_fd(&st->jfd);
}

/* A damaged file stops every one-time login: an empty store would accept
 * replays again. */
static wif_rc corrupt(struct wif_error *err, const struct replay_state *st,
                      const char *name, const struct wif_provider *p,
                      const struct wif_error *why) {
  return wif_error_set(err, WIF_E_REPLAY_CORRUPT,
                       "%s/%s: %s; one-time tokens of provider \"%s\" "
                       "are refused until it is removed",
                       st->dir, name, why->msg, p->name);
}

static wif_rc read_state(int dfd, uid_t owner, const struct wif_provider *p,
                         bool writable, struct replay_state *st,
                         struct wif_error *err) {
  struct wif_error why;
  int fd = -1;
  wif_rc rc;

  wif_error_clear(&why);
  if ((rc = open_file(dfd, st->dir, st->name, owner, O_RDONLY, &fd, err)) !=
      WIF_OK)
    return rc;
  if (fd >= 0) {
    rc = read_image(fd, st->dir, st->name, WIF_REPLAY_FILE_MAX, &st->img,
                    &st->len, err);
    close_fd(&fd);
    if (rc != WIF_OK)
      return rc;
    if (wif_replay_decode(st->img, st->len, p->issuer, &st->count, &why) !=
        WIF_OK)
      return corrupt(err, st, st->name, p, &why);
  }
  rc = open_file(dfd, st->dir, st->jname, owner, writable ? O_RDWR : O_RDONLY,
                 &st->jfd, err);
  if (rc != WIF_OK || st->jfd < 0)
    return rc;
  rc = read_image(st->jfd, st->dir, st->jname, WIF_REPLAY_JOURNAL_FILE_MAX,
                  &st->jimg, &st->jlen, err);
  if (rc != WIF_OK)
    return rc;
  if (wif_replay_journal_decode(st->jimg, st->jlen, p->issuer, &st->jcount,
                                &why) != WIF_OK)
    return corrupt(err, st, st->jname, p, &why);
  return WIF_OK;
}

static size_t live_entries(const struct replay_state *st, int64_t now) {
  size_t n = 0;

  for (size_t i = 0; i < st->count; i++)
    n += live(entry(st->img, i), now);
  /* A key in both (a merge cut short) is counted once. */
  for (size_t i = 0; i < st->jcount; i++)
    n += live(record(st->jimg, i), now) &&
         !wif_replay_contains(st->img, st->count, record(st->jimg, i), now);
  return n;
}

/* The usual login: one record appended to the journal and synced. A torn
 * record of an unfinished login is cut off first. */
static wif_rc append(const struct replay_state *st,
                     const unsigned char key[WIF_REPLAY_KEY_LEN], int64_t until,
                     struct wif_error *err) {
  unsigned char rec[WIF_REPLAY_RECORD_LEN];
  off_t end = (off_t)(WIF_REPLAY_HEADER_LEN +
                      st->jcount * (size_t)WIF_REPLAY_RECORD_LEN);
  ssize_t n;

  wif_replay_journal_record(key, until, rec);
  if ((size_t)end != st->jlen && ftruncate(st->jfd, end) != 0)
    return sys_error(err, st->dir, st->jname, "cannot cut off a torn record");
  do
    n = pwrite(st->jfd, rec, sizeof(rec), end);
  while (n < 0 && errno == EINTR);
  if (n != (ssize_t)sizeof(rec)) {
    wif_rc rc = n < 0 ? sys_error(err, st->dir, st->jname, "cannot append")
                      : wif_error_set(err, WIF_E_SYSTEM,
                                      "%s/%s: cannot append: short write",
                                      st->dir, st->jname);

    /* Should this fail too, the next append cuts the torn record off. */
    (void)!ftruncate(st->jfd, end);
    return rc;
  }
  if (fdatasync(st->jfd) != 0) {
    wif_rc rc = sys_error(err, st->dir, st->jname, "cannot sync");

    /* A refused login does not use its jti up. */
    (void)!ftruncate(st->jfd, end);
    return rc;
  }
  return WIF_OK;
}

/* The journal missing or full: a new store with everything live and this
 * key, then an empty journal. */
static wif_rc merge_and_restart(int dfd, const struct replay_state *st,
                                const char *issuer,
                                const unsigned char key[WIF_REPLAY_KEY_LEN],
                                int64_t until, int64_t now,
                                struct wif_error *err) {
  unsigned char header[WIF_REPLAY_HEADER_LEN];
  unsigned char *merged = NULL, *next = NULL;
  size_t merged_len = 0, merged_count = 0, next_len = 0;
  wif_rc rc;

  if ((rc = wif_replay_merge(st->img, st->count, st->jimg, st->jcount, issuer,
                             now, &merged, &merged_len, err)) != WIF_OK ||
      (rc = wif_replay_decode(merged, merged_len, issuer, &merged_count,
                              err)) != WIF_OK ||
      (rc = wif_replay_insert(merged, merged_count, issuer, key, until, now,
                              &next, &next_len, err)) != WIF_OK ||
      (rc = wif_replay_journal_header(issuer, header, err)) != WIF_OK)
    goto out;
  /* A login killed while it merged left its temporary; under the lock,
   * every one there is such a leftover. */
  wif_file_remove_temps_at(dfd, st->name);
  wif_file_remove_temps_at(dfd, st->jname);
  rc = wif_file_write_atomic_at(dfd, st->dir, st->name, next, next_len, 0600,
                                err);
  if (rc == WIF_OK)
    rc = wif_file_write_atomic_at(dfd, st->dir, st->jname, header,
                                  sizeof(header), 0600, err);
out:
  free(merged);
  free(next);
  return rc;
}

static void state_init(struct replay_state *st, const char *dir) {
  memset(st, 0, sizeof(*st));
  st->dir = dir;
  st->jfd = -1;
}

static wif_rc state_names(struct replay_state *st, const struct wif_provider *p,
                          char *lname, size_t lname_size,
                          struct wif_error *err) {
  wif_rc rc = store_name(p, st->name, sizeof(st->name), err);

  if (rc != WIF_OK)
    return rc;
  (void)snprintf(st->jname, sizeof(st->jname), "%s.journal", st->name);
  (void)snprintf(lname, lname_size, "%s.lock", st->name);
  return WIF_OK;
}

wif_rc wif_replay_use(const char *dir, uid_t owner,
                      const struct wif_provider *p, const char *jti,
                      size_t jti_len, int64_t exp, int64_t clock_skew,
                      int64_t now, enum wif_replay_mode mode,
                      struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;
  char lname[SUFFIXED_SIZE];
  unsigned char key[WIF_REPLAY_KEY_LEN];
  struct replay_state st;
  int64_t until;
  int dfd = -1, lfd = -1;

  state_init(&st, dir);
  if (dir == NULL || p == NULL || p->issuer == NULL || jti == NULL ||
      exp <= 0 || clock_skew < 0) {
    rc = wif_error_set(err, WIF_E_INTERNAL, "wif_replay_use: bad call");
    goto out;
  }
  if ((rc = wif_replay_key(p->issuer, jti, jti_len, key, err)) != WIF_OK ||
      (rc = state_names(&st, p, lname, sizeof(lname), err)) != WIF_OK)
    goto out;
  rc = open_dir(dir, owner, mode == WIF_REPLAY_RECORD, &dfd, err);
  if (rc == WIF_E_KEY_NOT_FOUND && mode == WIF_REPLAY_PEEK) {
    rc = WIF_OK; /* no directory: nothing was ever recorded */
    goto out;
  }
  if (rc == WIF_E_KEY_NOT_FOUND)
    rc = WIF_E_SYSTEM;
  if (rc != WIF_OK ||
      (rc = wif_file_lock_at(dfd, dir, lname, owner, WIF_REPLAY_LOCK_WAIT_MS,
                             &lfd, err)) != WIF_OK ||
      (rc = read_state(dfd, owner, p, mode == WIF_REPLAY_RECORD, &st, err)) !=
          WIF_OK)
    goto out;
  if (wif_replay_contains(st.img, st.count, key, now) ||
      wif_replay_journal_contains(st.jimg, st.jcount, key, now)) {
    rc = wif_error_set(err, WIF_E_REPLAYED,
                       "this token's jti was accepted before; a one-time "
                       "token is accepted once");
    goto out;
  }
  if (mode == WIF_REPLAY_PEEK)
    goto out;
  until = exp > INT64_MAX - clock_skew ? INT64_MAX : exp + clock_skew;
  /* An accepted token is on disk before the login proceeds. */
  if (st.jfd < 0 || st.jcount >= WIF_REPLAY_JOURNAL_MAX)
    rc = merge_and_restart(dfd, &st, p->issuer, key, until, now, err);
  else if (live_entries(&st, now) >= WIF_REPLAY_ENTRIES_MAX)
    rc = wif_error_set(err, WIF_E_REPLAY_FULL,
                       "%d live entries, the most the replay store holds",
                       WIF_REPLAY_ENTRIES_MAX);
  else
    rc = append(&st, key, until, err);
out:
  wif_file_unlock(&lfd);
  close_fd(&dfd);
  state_free(&st);
  OPENSSL_cleanse(key, sizeof(key));
  return rc;
}

wif_rc wif_replay_count(const char *dir, uid_t owner,
                        const struct wif_provider *p, int64_t now,
                        size_t *out_live, struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;
  char lname[SUFFIXED_SIZE];
  struct replay_state st;
  int dfd = -1, lfd = -1;

  state_init(&st, dir);
  *out_live = 0;
  if (dir == NULL || p == NULL || p->issuer == NULL) {
    rc = wif_error_set(err, WIF_E_INTERNAL, "wif_replay_count: bad call");
    goto out;
  }
  if ((rc = state_names(&st, p, lname, sizeof(lname), err)) != WIF_OK)
    goto out;
  rc = open_dir(dir, owner, false, &dfd, err);
  if (rc == WIF_E_KEY_NOT_FOUND) {
    rc = WIF_OK;
    goto out;
  }
  if (rc != WIF_OK ||
      (rc = wif_file_lock_at(dfd, dir, lname, owner, WIF_REPLAY_LOCK_WAIT_MS,
                             &lfd, err)) != WIF_OK ||
      (rc = read_state(dfd, owner, p, false, &st, err)) != WIF_OK)
    goto out;
  *out_live = live_entries(&st, now);
out:
  wif_file_unlock(&lfd);
  close_fd(&dfd);
  state_free(&st);
  return rc;
}
