/* SPDX-License-Identifier: Apache-2.0 */
/* The WIF_* hand-over between PAM phases: encoding, binding, parsing. */
#include "handover.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "file.h"
#include "text.h"
#include "wipe.h"

/* Versioned, so that a future format never verifies under this one. */
#define BINDING_LABEL "pam_wif hand-over v1"
#define TAG_LEN 32 /* HMAC-SHA256 */
#define BINDING_HEX_LEN (2 * WIF_HANDOVER_NONCE_LEN + 1 + 2 * TAG_LEN)
#define ABSENT 0xffffffffu /* the length field of an unset variable */
#define NUM_MAX 32         /* a decimal int64 and its NUL */

const char *const wif_handover_names[WIF_HO_COUNT] = {
    "WIF_PROVIDER", "WIF_SUBJECT", "WIF_ISSUER",
    "WIF_EXPIRES",  "WIF_GRANT",   "WIF_BINDING"};

static const char hex_digits[] = "0123456789abcdef";

bool wif_handover_encode(const char *s, size_t len, char *out,
                         size_t out_size) {
  size_t o = 0;

  if (out == NULL || out_size == 0)
    return false;
  out[0] = '\0';
  for (size_t i = 0; s != NULL && i < len; i++) {
    unsigned char c = (unsigned char)s[i];

    if (c >= 0x20 && c < 0x7f && c != '\\') {
      if (o + 2 > out_size)
        return false;
      out[o++] = (char)c;
    } else {
      if (o + 5 > out_size)
        return false;
      out[o++] = '\\';
      out[o++] = 'x';
      out[o++] = hex_digits[c >> 4];
      out[o++] = hex_digits[c & 0xf];
    }
  }
  out[o] = '\0';
  return true;
}

const char *wif_handover_key_dir(uid_t owner, const char *cache_dir) {
  return owner == 0 ? WIF_HANDOVER_RUN_DIR : cache_dir;
}

/* ---- the key ---------------------------------------------------------- */

static wif_rc errno_rc(int e) {
  return e == ENOMEM ? WIF_E_NOMEM : WIF_E_SYSTEM;
}

/* Opens dir (made when create and missing) and checks it on the
 * descriptor: a directory of owner, nothing for group or others. */
static wif_rc open_key_dir(const char *dir, uid_t owner, bool create,
                           int *out_fd, struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;
  bool made = false;
  struct stat st;
  int fd = -1;

  *out_fd = -1;
  if (dir == NULL || dir[0] != '/') {
    rc = wif_error_set(err, WIF_E_CONFIG_INVALID,
                       "binding key directory %s: not an absolute path",
                       dir != NULL ? dir : "(none)");
    goto out;
  }
  if (create) {
    if (mkdir(dir, 0700) == 0)
      made = true;
    else if (errno != EEXIST) {
      rc = wif_error_set(err, errno_rc(errno), "%s: cannot create: %s", dir,
                         strerror(errno));
      goto out;
    }
  }
  fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    /* O_DIRECTORY | O_NOFOLLOW on a symbolic link: ENOTDIR or ELOOP. */
    rc = wif_error_set(
        err,
        errno == ELOOP || errno == ENOTDIR ? WIF_E_CONFIG_INSECURE
                                           : errno_rc(errno),
        "%s: cannot open as a directory: %s", dir, strerror(errno));
    goto out;
  }
  /* mkdir's mode passed through the caller's umask: set it outright. */
  if (made && fchmod(fd, 0700) != 0) {
    rc = wif_error_set(err, errno_rc(errno), "%s: cannot chmod: %s", dir,
                       strerror(errno));
    goto out;
  }
  if (fstat(fd, &st) != 0) {
    rc = wif_error_set(err, errno_rc(errno), "%s: cannot stat: %s", dir,
                       strerror(errno));
    goto out;
  }
  if (st.st_uid != owner || (st.st_mode & 077) != 0) {
    rc = wif_error_set(err, WIF_E_CONFIG_INSECURE,
                       "%s: the binding key directory must be uid %lu's, mode "
                       "0700 (it is uid %lu's, mode %04o)",
                       dir, (unsigned long)owner, (unsigned long)st.st_uid,
                       (unsigned)(st.st_mode & 07777));
    goto out;
  }
  *out_fd = fd;
  fd = -1;
  rc = WIF_OK;
out:
  if (fd >= 0)
    (void)close(fd);
  return rc;
}

static wif_rc write_all(int fd, const unsigned char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);

    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return WIF_E_SYSTEM;
    p += w;
    n -= (size_t)w;
  }
  return WIF_OK;
}

/* A new key, written whole to a temporary name (O_EXCL, 0600 whatever
 * the umask) and linked to KEY_FILE, which never replaces one that a
 * concurrent login linked first: the caller then reads whichever won. */
static wif_rc create_key(int dirfd, const char *dir, struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;
  unsigned char key[WIF_HANDOVER_KEY_LEN];
  unsigned char rnd[8];
  char tmp[sizeof(WIF_HANDOVER_KEY_FILE) + 2 * sizeof(rnd) + 2];
  int fd = -1;
  bool made = false;

  if (RAND_bytes(key, sizeof(key)) != 1 || RAND_bytes(rnd, sizeof(rnd)) != 1) {
    rc = wif_error_set(err, WIF_E_SYSTEM, "no random bytes for a binding key");
    goto out;
  }
  memcpy(tmp, WIF_HANDOVER_KEY_FILE ".", sizeof(WIF_HANDOVER_KEY_FILE));
  wif_text_hex(rnd, sizeof(rnd), tmp + sizeof(WIF_HANDOVER_KEY_FILE));
  fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
              0600);
  if (fd < 0) {
    rc = wif_error_set(err, errno_rc(errno), "%s/%s: cannot create: %s", dir,
                       tmp, strerror(errno));
    goto out;
  }
  made = true;
  if (fchmod(fd, 0600) != 0 || write_all(fd, key, sizeof(key)) != WIF_OK ||
      fsync(fd) != 0) {
    rc = wif_error_set(err, errno_rc(errno), "%s/%s: cannot write: %s", dir,
                       tmp, strerror(errno));
    goto out;
  }
  if (linkat(dirfd, tmp, dirfd, WIF_HANDOVER_KEY_FILE, 0) != 0 &&
      errno != EEXIST) {
    rc = wif_error_set(err, errno_rc(errno), "%s/%s: cannot link: %s", dir,
                       WIF_HANDOVER_KEY_FILE, strerror(errno));
    goto out;
  }
  rc = WIF_OK;
out:
  OPENSSL_cleanse(key, sizeof(key));
  if (fd >= 0)
    (void)close(fd);
  if (made)
    (void)unlinkat(dirfd, tmp, 0);
  return rc;
}

wif_rc wif_handover_key(const char *dir, uid_t owner, bool create,
                        unsigned char key[WIF_HANDOVER_KEY_LEN],
                        struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;
  int dirfd = -1;
  struct stat st;
  char *path = NULL;
  char *buf = NULL;
  size_t len = 0, plen;

  rc = open_key_dir(dir, owner, create, &dirfd, err);
  if (rc != WIF_OK)
    goto out;
  if (fstatat(dirfd, WIF_HANDOVER_KEY_FILE, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno != ENOENT) {
      rc = wif_error_set(err, errno_rc(errno), "%s/%s: cannot stat: %s", dir,
                         WIF_HANDOVER_KEY_FILE, strerror(errno));
      goto out;
    }
    if (!create) {
      rc = wif_error_set(err, WIF_E_TAMPERED,
                         "%s/%s does not exist: nothing was bound on this host",
                         dir, WIF_HANDOVER_KEY_FILE);
      goto out;
    }
    if ((rc = create_key(dirfd, dir, err)) != WIF_OK)
      goto out;
    if (fstatat(dirfd, WIF_HANDOVER_KEY_FILE, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      rc = wif_error_set(err, errno_rc(errno), "%s/%s: cannot stat: %s", dir,
                         WIF_HANDOVER_KEY_FILE, strerror(errno));
      goto out;
    }
  }
  /* The directory is owner's and 0700, so nobody else can change the
   * key between this check and the read below. */
  if (!S_ISREG(st.st_mode) || st.st_uid != owner || (st.st_mode & 077) != 0) {
    rc = wif_error_set(err, WIF_E_CONFIG_INSECURE,
                       "%s/%s: must be a regular file of uid %lu, mode 0600",
                       dir, WIF_HANDOVER_KEY_FILE, (unsigned long)owner);
    goto out;
  }
  plen = strlen(dir) + sizeof(WIF_HANDOVER_KEY_FILE) + 1;
  if ((path = malloc(plen)) == NULL) {
    rc = wif_error_set(err, WIF_E_NOMEM, "out of memory");
    goto out;
  }
  (void)snprintf(path, plen, "%s/%s", dir, WIF_HANDOVER_KEY_FILE);
  rc =
      wif_file_read_trusted(path, owner, WIF_HANDOVER_KEY_LEN, &buf, &len, err);
  if (rc == WIF_E_TOO_LARGE || (rc == WIF_OK && len != WIF_HANDOVER_KEY_LEN)) {
    rc = wif_error_set(err, WIF_E_CONFIG_INVALID,
                       "%s: a binding key is %d bytes; remove this file and "
                       "pam_wif makes a new one",
                       path, WIF_HANDOVER_KEY_LEN);
    goto out;
  }
  if (rc != WIF_OK)
    goto out;
  memcpy(key, buf, WIF_HANDOVER_KEY_LEN);
out:
  wif_file_free_buffer(buf, len);
  free(path);
  if (dirfd >= 0)
    (void)close(dirfd);
  return rc;
}

/* ---- the tag ---------------------------------------------------------- */

static void put_field(unsigned char *buf, size_t *off, const char *s) {
  uint32_t n = s != NULL ? (uint32_t)strlen(s) : ABSENT;

  buf[(*off)++] = (unsigned char)(n >> 24);
  buf[(*off)++] = (unsigned char)(n >> 16);
  buf[(*off)++] = (unsigned char)(n >> 8);
  buf[(*off)++] = (unsigned char)n;
  for (uint32_t i = 0; s != NULL && i < n; i++)
    buf[(*off)++] = (unsigned char)s[i]; /* bytes, no terminator */
}

/*
 * HMAC-SHA256 over length-prefixed fields, so that no two different
 * inputs share a message: the label, service, account, nonce (hex) and
 * the values of every variable but WIF_BINDING.
 */
static wif_rc compute_tag(const unsigned char key[WIF_HANDOVER_KEY_LEN],
                          const char *service, const char *account,
                          const char *nonce_hex,
                          const char *const values[WIF_HO_COUNT],
                          unsigned char tag[TAG_LEN], struct wif_error *err) {
  const char *fields[4 + WIF_HO_BINDING];
  size_t n = 0, size = 0, off = 0;
  unsigned char *buf = NULL;
  unsigned int tag_len = 0;
  wif_rc rc = WIF_E_INTERNAL;

  fields[n++] = BINDING_LABEL;
  fields[n++] = service;
  fields[n++] = account;
  fields[n++] = nonce_hex;
  for (size_t i = 0; i < WIF_HO_BINDING; i++)
    fields[n++] = values[i];
  for (size_t i = 0; i < n; i++) {
    size_t l =
        fields[i] != NULL ? strnlen(fields[i], WIF_HANDOVER_VALUE_MAX + 1) : 0;
    if (l > WIF_HANDOVER_VALUE_MAX)
      return wif_error_set(err, WIF_E_MALFORMED,
                           "a hand-over value is longer than %d bytes",
                           WIF_HANDOVER_VALUE_MAX);
    size += 4 + l;
  }
  if ((buf = malloc(size)) == NULL)
    return wif_error_set(err, WIF_E_NOMEM, "out of memory");
  for (size_t i = 0; i < n; i++)
    put_field(buf, &off, fields[i]);
  if (HMAC(EVP_sha256(), key, WIF_HANDOVER_KEY_LEN, buf, off, tag, &tag_len) ==
          NULL ||
      tag_len != TAG_LEN) {
    rc = wif_error_set(err, WIF_E_SYSTEM, "HMAC-SHA256 failed");
    goto out;
  }
  rc = WIF_OK;
out:
  free(buf);
  return rc;
}

/* ---- making, copying, clearing ---------------------------------------- */

void wif_handover_clear(struct wif_handover *h) {
  if (h == NULL)
    return;
  for (size_t i = 0; i < WIF_HO_COUNT; i++) {
    wif_wipe_free_str(h->env[i]);
  }
  free(h->account);
  free(h->service);
  memset(h, 0, sizeof(*h));
}

/* h->env[v] = "NAME=value". */
static bool set_var(struct wif_handover *h, enum wif_handover_var v,
                    const char *value) {
  size_t size = strlen(wif_handover_names[v]) + strlen(value) + 2;

  if ((h->env[v] = malloc(size)) == NULL)
    return false;
  (void)snprintf(h->env[v], size, "%s=%s", wif_handover_names[v], value);
  return true;
}

const char *wif_handover_value(const struct wif_handover *h,
                               enum wif_handover_var v) {
  if (h == NULL || (int)v < 0 || v >= WIF_HO_COUNT || h->env[v] == NULL)
    return NULL;
  return h->env[v] + strlen(wif_handover_names[v]) + 1;
}

/* A new encoded copy of len raw bytes. */
static char *encoded(const char *s, size_t len) {
  size_t size = 4 * len + 1;
  char *out = malloc(size);

  if (out != NULL && !wif_handover_encode(s, len, out, size)) {
    free(out);
    return NULL;
  }
  return out;
}

bool wif_handover_grant_encode(enum wif_authz type, const char *claim,
                               const char *id, size_t id_len, char *out,
                               size_t out_size) {
  size_t o;

  if (out == NULL || out_size == 0 ||
      (type == WIF_AUTHZ_CLAIM) != (claim != NULL))
    return false;
  out[0] = '\0';
  o = (size_t)snprintf(out, out_size, "%s:", wif_authz_name(type));
  if (o >= out_size)
    return false;
  if (claim != NULL) {
    for (const char *c = claim; *c != '\0'; c++) {
      char one[8];

      if (*c == ':')
        (void)snprintf(one, sizeof(one), "\\x3a");
      else if (!wif_handover_encode(c, 1, one, sizeof(one)))
        return false;
      if (o + strlen(one) + 1 > out_size)
        return false;
      memcpy(out + o, one, strlen(one) + 1);
      o += strlen(one);
    }
    if (o + 2 > out_size)
      return false;
    out[o++] = ':';
    out[o] = '\0';
  }
  return wif_handover_encode(id, id_len, out + o, out_size - o);
}

static wif_rc fill_values(const struct wif_handover_facts *f,
                          struct wif_handover *out, struct wif_error *err) {
  char num[NUM_MAX];
  char grant[WIF_HANDOVER_GRANT_MAX];
  char *subject = NULL;
  wif_rc rc = WIF_E_NOMEM;

  if (!wif_handover_grant_encode(f->type, f->claim, f->identifier,
                                 f->identifier_len, grant, sizeof(grant)))
    return wif_error_set(err, WIF_E_INTERNAL, "the grant cannot be encoded");
  subject = encoded(f->subject, f->subject_len);
  (void)snprintf(num, sizeof(num), "%" PRId64, f->exp);
  if (subject == NULL || !set_var(out, WIF_HO_PROVIDER, f->provider) ||
      !set_var(out, WIF_HO_SUBJECT, subject) ||
      !set_var(out, WIF_HO_ISSUER, f->issuer) ||
      !set_var(out, WIF_HO_EXPIRES, num) || !set_var(out, WIF_HO_GRANT, grant))
    goto out;
  rc = WIF_OK;
out:
  wif_wipe_free_str(subject);
  return rc == WIF_OK ? rc : wif_error_set(err, rc, "out of memory");
}

static void values_of(const struct wif_handover *h,
                      const char *out[WIF_HO_COUNT]) {
  for (size_t i = 0; i < WIF_HO_COUNT; i++)
    out[i] = wif_handover_value(h, (enum wif_handover_var)i);
}

wif_rc wif_handover_make(const struct wif_handover_facts *f,
                         const char *account, const char *service,
                         const unsigned char key[WIF_HANDOVER_KEY_LEN],
                         struct wif_handover *out, struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;
  unsigned char nonce[WIF_HANDOVER_NONCE_LEN];
  unsigned char tag[TAG_LEN];
  char binding[BINDING_HEX_LEN + 1];
  const char *values[WIF_HO_COUNT];

  if (out == NULL)
    return wif_error_set(err, WIF_E_INTERNAL, "no hand-over");
  memset(out, 0, sizeof(*out));
  if (f == NULL || f->provider == NULL || f->issuer == NULL ||
      account == NULL || service == NULL) {
    rc = wif_error_set(err, WIF_E_INTERNAL, "incomplete hand-over");
    goto out;
  }
  /* The kernel's generator: OpenSSL's would be set up from scratch in
   * every login process, for 16 bytes. */
  if (getrandom(nonce, sizeof(nonce), 0) != (ssize_t)sizeof(nonce)) {
    rc = wif_error_set(err, WIF_E_SYSTEM, "no random bytes for a nonce");
    goto out;
  }
  if ((rc = fill_values(f, out, err)) != WIF_OK)
    goto out;
  if ((out->account = strdup(account)) == NULL ||
      (out->service = strdup(service)) == NULL) {
    rc = wif_error_set(err, WIF_E_NOMEM, "out of memory");
    goto out;
  }
  if (key == NULL) {
    rc = WIF_OK; /* no WIF_BINDING: valid within this process only */
    goto out;
  }
  wif_text_hex(nonce, sizeof(nonce), binding);
  values_of(out, values);
  rc = compute_tag(key, service, account, binding, values, tag, err);
  if (rc != WIF_OK)
    goto out;
  binding[2 * WIF_HANDOVER_NONCE_LEN] = ':';
  wif_text_hex(tag, sizeof(tag), binding + 2 * WIF_HANDOVER_NONCE_LEN + 1);
  if (!set_var(out, WIF_HO_BINDING, binding)) {
    rc = wif_error_set(err, WIF_E_NOMEM, "out of memory");
    goto out;
  }
  rc = WIF_OK;
out:
  OPENSSL_cleanse(tag, sizeof(tag));
  if (rc != WIF_OK)
    wif_handover_clear(out);
  return rc;
}

wif_rc wif_handover_record(const char *const values[WIF_HO_COUNT],
                           const char *account, const char *service,
                           struct wif_handover *out) {
  memset(out, 0, sizeof(*out));
  if (account == NULL || service == NULL)
    return WIF_E_INTERNAL;
  for (size_t i = 0; i < WIF_HO_COUNT; i++) {
    if (values[i] != NULL && !set_var(out, (enum wif_handover_var)i, values[i]))
      goto nomem;
  }
  if ((out->account = strdup(account)) == NULL ||
      (out->service = strdup(service)) == NULL)
    goto nomem;
  return WIF_OK;
nomem:
  wif_handover_clear(out);
  return WIF_E_NOMEM;
}

void wif_handover_drop_binding(struct wif_handover *h) {
  if (h != NULL && h->env[WIF_HO_BINDING] != NULL) {
    free(h->env[WIF_HO_BINDING]);
    h->env[WIF_HO_BINDING] = NULL;
  }
}

bool wif_handover_present(const char *const values[WIF_HO_COUNT]) {
  for (size_t i = 0; i < WIF_HO_COUNT; i++)
    if (values[i] != NULL)
      return true;
  return false;
}

/* ---- verifying and parsing -------------------------------------------- */

static bool same(const char *a, const char *b) {
  return (a == NULL && b == NULL) ||
         (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static wif_rc check_record(const struct wif_handover_input *in,
                           const char *account, struct wif_error *err) {
  const struct wif_handover *r = in->record;

  if (!same(r->account, account))
    return wif_error_set(err, WIF_E_TAMPERED,
                         "PAM_USER changed after authentication");
  if (!same(r->service, in->service))
    return wif_error_set(err, WIF_E_TAMPERED,
                         "PAM_SERVICE changed after authentication");
  for (size_t i = 0; i < WIF_HO_COUNT; i++)
    if (!same(wif_handover_value(r, (enum wif_handover_var)i), in->values[i]))
      return wif_error_set(err, WIF_E_TAMPERED,
                           "%s differs from what authentication set",
                           wif_handover_names[i]);
  return WIF_OK;
}

static bool lower_hex(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (strchr(hex_digits, s[i]) == NULL || s[i] == '\0')
      return false;
  return true;
}

static wif_rc check_tag(const struct wif_handover_input *in,
                        const char *account, const char *key_dir, uid_t owner,
                        struct wif_error *err) {
  const char *b = in->values[WIF_HO_BINDING];
  unsigned char key[WIF_HANDOVER_KEY_LEN];
  unsigned char tag[TAG_LEN];
  char nonce[2 * WIF_HANDOVER_NONCE_LEN + 1];
  char want[2 * TAG_LEN + 1];
  const char *given;
  wif_rc rc = WIF_E_INTERNAL;

  if (b == NULL)
    return wif_error_set(err, WIF_E_UNBOUND,
                         "WIF_* variables without WIF_BINDING: not set by "
                         "pam_wif's auth phase");
  given = b + 2 * WIF_HANDOVER_NONCE_LEN + 1;
  if (strnlen(b, BINDING_HEX_LEN + 1) != BINDING_HEX_LEN ||
      !lower_hex(b, 2 * WIF_HANDOVER_NONCE_LEN) ||
      b[2 * WIF_HANDOVER_NONCE_LEN] != ':' || !lower_hex(given, 2 * TAG_LEN))
    return wif_error_set(err, WIF_E_TAMPERED, "WIF_BINDING does not parse");
  if (account == NULL || in->service == NULL)
    return wif_error_set(err, WIF_E_TAMPERED, "no account or service");
  rc = wif_handover_key(key_dir, owner, false, key, err);
  if (rc != WIF_OK)
    goto out;
  memcpy(nonce, b, 2 * WIF_HANDOVER_NONCE_LEN);
  nonce[2 * WIF_HANDOVER_NONCE_LEN] = '\0';
  rc = compute_tag(key, in->service, account, nonce, in->values, tag, err);
  if (rc != WIF_OK)
    goto out;
  wif_text_hex(tag, sizeof(tag), want);
  if (CRYPTO_memcmp(want, given, 2 * TAG_LEN) != 0) {
    rc = wif_error_set(err, WIF_E_TAMPERED,
                       "WIF_BINDING does not match the WIF_* values, the "
                       "account and the service");
    goto out;
  }
  rc = WIF_OK;
out:
  OPENSSL_cleanse(key, sizeof(key));
  OPENSSL_cleanse(tag, sizeof(tag));
  OPENSSL_cleanse(want, sizeof(want));
  return rc;
}

wif_rc wif_handover_verify(const struct wif_handover_input *in,
                           const char *account, const char *key_dir,
                           uid_t owner, struct wif_error *err) {
  if (in == NULL)
    return wif_error_set(err, WIF_E_INTERNAL, "no hand-over");
  if (in->record != NULL)
    return check_record(in, account, err);
  return check_tag(in, account, key_dir, owner, err);
}

static wif_rc parse_expires(const char *s, int64_t *out,
                            struct wif_error *err) {
  char *end = NULL;
  long long n;

  /* Digits only: strtoll alone would take blanks and signs. */
  if (s[0] < '0' || s[0] > '9')
    return wif_error_set(err, WIF_E_MALFORMED, "WIF_EXPIRES is not a number");
  errno = 0;
  n = strtoll(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || n < 0)
    return wif_error_set(err, WIF_E_MALFORMED, "WIF_EXPIRES is not a number");
  *out = (int64_t)n;
  return WIF_OK;
}

wif_rc wif_handover_parse(const char *const values[WIF_HO_COUNT],
                          struct wif_handover_grant *out,
                          struct wif_error *err) {
  const char *g = values[WIF_HO_GRANT];
  const char *rest;

  memset(out, 0, sizeof(*out));
  for (size_t i = 0; i < WIF_HO_BINDING; i++) {
    if (values[i] == NULL)
      return wif_error_set(err, WIF_E_MALFORMED,
                           "the WIF_* environment of the auth phase is "
                           "incomplete (no %s)",
                           wif_handover_names[i]);
    if (strnlen(values[i], WIF_HANDOVER_VALUE_MAX + 1) > WIF_HANDOVER_VALUE_MAX)
      return wif_error_set(err, WIF_E_MALFORMED, "%s is longer than %d bytes",
                           wif_handover_names[i], WIF_HANDOVER_VALUE_MAX);
  }
  if (wif_text_skip_prefix(g, "user:") != NULL)
    out->type = WIF_AUTHZ_USER;
  else if (wif_text_skip_prefix(g, "group:") != NULL)
    out->type = WIF_AUTHZ_GROUP;
  else if ((rest = wif_text_skip_prefix(g, "claim:")) != NULL &&
           strchr(rest, ':') != NULL)
    out->type = WIF_AUTHZ_CLAIM;
  else
    return wif_error_set(err, WIF_E_MALFORMED, "WIF_GRANT does not parse");
  if (parse_expires(values[WIF_HO_EXPIRES], &out->exp, err) != WIF_OK)
    return WIF_E_MALFORMED;
  out->provider = values[WIF_HO_PROVIDER];
  out->issuer = values[WIF_HO_ISSUER];
  out->grant = g;
  return WIF_OK;
}
