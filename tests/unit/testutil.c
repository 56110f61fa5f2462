/* SPDX-License-Identifier: Apache-2.0 */
/* Shared helpers for the unit tests: files, keys and token signing. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* setenv */
#endif
#include "testutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "alg.h"
#include "b64url.h"

char *wif_test_read(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  size_t cap = 0, n = 0;

  if (f == NULL)
    fail_msg("cannot open %s", path);
  for (;;) {
    if (n + 4096 + 1 > cap) {
      cap = (n + 4096 + 1) * 2;
      buf = realloc(buf, cap);
      assert_non_null(buf);
    }
    size_t r = fread(buf + n, 1, cap - n - 1, f);
    n += r;
    if (r == 0)
      break;
  }
  fclose(f);
  buf[n] = '\0';
  if (len != NULL)
    *len = n;
  return buf;
}

char *wif_test_path(const char *dir, const char *name) {
  size_t n = strlen(dir) + strlen(name) + 2;
  char *p = malloc(n);

  assert_non_null(p);
  snprintf(p, n, "%s/%s", dir, name);
  return p;
}

void wif_test_write(const char *path, const char *data, size_t len,
                    mode_t mode) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

  if (fd < 0)
    fail_msg("cannot create %s", path);
  assert_int_equal(write(fd, data, len), (ssize_t)len);
  assert_int_equal(fchmod(fd, mode), 0);
  assert_int_equal(close(fd), 0);
}

void wif_test_write_text(const char *path, const char *text, mode_t mode) {
  wif_test_write(path, text, strlen(text), mode);
}

void wif_test_scratch_dir(char *out, size_t size, const char *prefix) {
  char tmpl[PATH_MAX];
  char *r;

  (void)snprintf(tmpl, sizeof(tmpl), "%s-XXXXXX", prefix);
  assert_non_null(mkdtemp(tmpl));
  r = realpath(tmpl, NULL);
  assert_non_null(r);
  assert_true(strlen(r) < size);
  memcpy(out, r, strlen(r) + 1);
  free(r);
  assert_int_equal(chmod(out, 0700), 0);
}

static int remove_entry(const char *p, const struct stat *st, int flag,
                        struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(p);
}

int wif_test_remove_tree(const char *dir) {
  (void)chmod(dir, 0700); /* undo modes that would stop the removal */
  return nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

char *wif_test_build_dir(const char *prefix, mode_t mode) {
  size_t n = strlen(WIF_TEST_KEYS_DIR) + strlen(prefix) + 16;
  char *dir = malloc(n);
  char *slash;

  assert_non_null(dir);
  snprintf(dir, n, "%s/../%s-XXXXXX", WIF_TEST_KEYS_DIR, prefix);
  /* Drop "keys/.." so no component is "..". */
  slash = strstr(dir, "/keys/../");
  assert_non_null(slash);
  memmove(slash, slash + 8, strlen(slash + 8) + 1);
  assert_non_null(mkdtemp(dir));
  assert_int_equal(chmod(dir, mode), 0);
  return dir;
}

size_t wif_test_for_each_file(const char *dir, const char *suffix,
                              void (*fn)(const char *path, const char *name,
                                         void *ctx),
                              void *ctx) {
  size_t slen = strlen(suffix);
  size_t n = 0;
  struct dirent *e;
  DIR *d = opendir(dir);

  if (d == NULL)
    fail_msg("cannot open %s", dir);
  while ((e = readdir(d)) != NULL) {
    size_t len = strlen(e->d_name);
    char *path;

    if (len <= slen || strcmp(e->d_name + len - slen, suffix) != 0)
      continue;
    path = wif_test_path(dir, e->d_name);
    fn(path, e->d_name, ctx);
    free(path);
    n++;
  }
  closedir(d);
  return n;
}

char *wif_test_expected_error(const char *text, const char *name,
                              const char *dropin_as) {
  static const char tag[] = "# expect: ";
  static const char word[] = "DROPIN";
  const char *nl = strchr(text, '\n');
  const char *msg = text + sizeof(tag) - 1;
  const char *at = NULL;
  char *want;
  size_t n;

  if (strncmp(text, tag, sizeof(tag) - 1) != 0 || nl == NULL ||
      (dropin_as != NULL && ((at = strstr(msg, word)) == NULL || at > nl)))
    fail_msg("%s: the first line must be \"# expect: %s\"", name,
             dropin_as != NULL ? "DROPIN..." : "MESSAGE");
  if (dropin_as == NULL) {
    assert_non_null(want = strndup(msg, (size_t)(nl - msg)));
    return want;
  }
  n = (size_t)(nl - msg) - (sizeof(word) - 1) + strlen(dropin_as) + 1;
  assert_non_null(want = malloc(n));
  snprintf(want, n, "%.*s%s%.*s", (int)(at - msg), msg, dropin_as,
           (int)((size_t)(nl - at) - (sizeof(word) - 1)),
           at + sizeof(word) - 1);
  return want;
}

char *wif_test_key_path(const char *name) {
  return wif_test_path(WIF_TEST_KEYS_DIR, name);
}

struct wif_jwks *wif_test_jwks(const char *file) {
  char *path = wif_test_key_path(file);
  size_t len;
  char *text = wif_test_read(path, &len);
  struct wif_jwks *set = NULL;
  struct wif_error err;

  if (wif_jwks_parse(text, len, NULL, &set, &err) != WIF_OK)
    fail_msg("%s: %s", path, err.msg);
  free(text);
  free(path);
  return set;
}

char *wif_test_b64(const void *data, size_t len) {
  char *out = malloc(WIF_B64URL_ENCODED_LEN(len) + 1);

  assert_non_null(out);
  wif_b64url_encode(data, len, out);
  return out;
}

char *wif_test_join(const char *h, const char *p, const char *s) {
  size_t n = strlen(h) + strlen(p) + strlen(s) + 3;
  char *t = malloc(n);

  assert_non_null(t);
  snprintf(t, n, "%s.%s.%s", h, p, s);
  return t;
}

/* DER ECDSA signature to fixed-size r||s. */
static size_t der_to_raw(const unsigned char *der, size_t der_len,
                         unsigned char *raw, size_t half) {
  ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &der, (long)der_len);
  const BIGNUM *r, *s;

  assert_non_null(sig);
  ECDSA_SIG_get0(sig, &r, &s);
  assert_true(BN_bn2binpad(r, raw, (int)half) == (int)half);
  assert_true(BN_bn2binpad(s, raw + half, (int)half) == (int)half);
  ECDSA_SIG_free(sig);
  return 2 * half;
}

static EVP_PKEY *load_private(const char *kid) {
  char name[256];
  snprintf(name, sizeof(name), "%s.key.pem", kid);
  char *path = wif_test_key_path(name);
  FILE *f = fopen(path, "r");
  EVP_PKEY *pkey;

  if (f == NULL)
    fail_msg("cannot open %s (did fixtures_keys run?)", path);
  pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
  fclose(f);
  assert_non_null(pkey);
  free(path);
  return pkey;
}

char *wif_test_sign(const char *kid, const char *alg_name,
                    const char *header_json, const char *claims_json) {
  enum wif_alg alg;
  char header_buf[512];
  EVP_PKEY *pkey = load_private(kid);
  EVP_MD_CTX *mctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX *pctx = NULL;
  const char *digest;
  unsigned char sig[1024], raw[200];
  size_t sig_len = sizeof(sig);

  assert_true(wif_alg_from_name(alg_name, strlen(alg_name), &alg));
  if (header_json == NULL) {
    snprintf(header_buf, sizeof(header_buf),
             "{\"alg\":\"%s\",\"kid\":\"%s\",\"typ\":\"JWT\"}", alg_name, kid);
    header_json = header_buf;
  }
  char *h = wif_test_b64(header_json, strlen(header_json));
  char *p = wif_test_b64(claims_json, strlen(claims_json));
  size_t input_len = strlen(h) + 1 + strlen(p);
  char *input = malloc(input_len + 1);
  assert_non_null(input);
  snprintf(input, input_len + 1, "%s.%s", h, p);

  digest = wif_alg_digest_name(alg);
  assert_int_equal(
      EVP_DigestSignInit_ex(mctx, &pctx, digest, NULL, NULL, pkey, NULL), 1);
  if (wif_alg_is_pss(alg)) {
    assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING),
                     1);
    assert_int_equal(
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST), 1);
  }
  assert_int_equal(EVP_DigestSign(mctx, sig, &sig_len,
                                  (const unsigned char *)input, input_len),
                   1);
  const unsigned char *final_sig = sig;
  if (wif_alg_is_ec(alg)) {
    size_t half = (size_t)(EVP_PKEY_get_bits(pkey) + 7) / 8;
    sig_len = der_to_raw(sig, sig_len, raw, half);
    final_sig = raw;
  }
  char *s = wif_test_b64(final_sig, sig_len);
  char *token = wif_test_join(h, p, s);

  free(h);
  free(p);
  free(s);
  free(input);
  EVP_MD_CTX_free(mctx);
  EVP_PKEY_free(pkey);
  return token;
}

char *wif_test_signf(const char *kid, const char *alg, const char *fmt, ...) {
  char claims[16384];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(claims, sizeof(claims), fmt, ap);
  va_end(ap);
  return wif_test_sign(kid, alg, NULL, claims);
}

/* Builds that compile this file for other programs may not build them. */
#ifndef WIF_TEST_LOCALE_DIR
#define WIF_TEST_LOCALE_DIR ""
#endif

const char *wif_test_setlocale(const char *name) {
  const char *loc = setlocale(LC_ALL, name);

  if (loc == NULL) {
    /* glibc reads LOCPATH on every setlocale call. */
    assert_int_equal(setenv("LOCPATH", WIF_TEST_LOCALE_DIR, 1), 0);
    loc = setlocale(LC_ALL, name);
    unsetenv("LOCPATH");
  }
  if (loc == NULL) {
    loc = setlocale(LC_ALL, "C.UTF-8");
    printf("# locale %s is not available; running under %s\n", name,
           loc != NULL ? loc : "(none)");
  }
  assert_non_null(loc);
  return loc;
}
