/* SPDX-License-Identifier: Apache-2.0 */
/* Throughput of full token validation, in the peer harness's interface.
 *
 *   bench_verify --fixtures DIR [--algs RS256,...] [--seconds S] [--warmup S]
 *   bench_verify --fixtures DIR --once ALG
 *   bench_verify --floor ...      the naive OpenSSL floor, for a same-run
 *                                 ratio without the peer harness
 *
 * The fixtures come from shared/bench/peers/fixtures/gen_fixtures.py. Per
 * token, pam_wif does what the PAM module does: wif_validate (size cap,
 * split, strict base64url, header and claims JSON, provider by iss, alg
 * allow-list, kid lookup, signature, iss/aud/exp/nbf/iat/sub/groups). The
 * key set is parsed once per run, as a warm cache would hold it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "alg.h"
#include "b64url.h"
#include "jwk.h"
#include "validate.h"

struct tokens {
  char **v;
  size_t *len;
  size_t n;
};

struct bench {
  const char *fixtures;
  json_t *meta;
  struct wif_config *cfg;
  struct wif_validator *validator;
  struct wif_jwks *floor_keys;
  bool floor;
};

static double now_mono(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double now_cpu(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  long size;

  if (f == NULL)
    return NULL;
  if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 &&
      fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)size + 1)) != NULL &&
      fread(buf, 1, (size_t)size, f) == (size_t)size) {
    buf[size] = '\0';
    if (len != NULL)
      *len = (size_t)size;
  } else {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  return buf;
}

static bool load_tokens(const char *dir, const char *alg, const char *suffix,
                        struct tokens *t) {
  char path[4096];
  char *text, *line, *next;

  snprintf(path, sizeof(path), "%s/tokens/%s%s", dir, alg, suffix);
  memset(t, 0, sizeof(*t));
  text = slurp(path, NULL);
  if (text == NULL)
    return false;
  for (line = text; *line != '\0'; line = next) {
    char *nl = strchr(line, '\n');
    size_t len = nl ? (size_t)(nl - line) : strlen(line);
    next = nl ? nl + 1 : line + len;
    if (len == 0)
      continue;
    t->v = realloc(t->v, (t->n + 1) * sizeof(*t->v));
    t->len = realloc(t->len, (t->n + 1) * sizeof(*t->len));
    t->v[t->n] = strndup(line, len);
    t->len[t->n] = len;
    t->n++;
  }
  free(text);
  return t->n > 0;
}

static bool setup(struct bench *b) {
  char path[4096];
  struct wif_error err;
  json_t *v;
  size_t i, len;
  char *text;

  snprintf(path, sizeof(path), "%s/meta.json", b->fixtures);
  b->meta = json_load_file(path, 0, NULL);
  snprintf(path, sizeof(path), "%s/jwks.json", b->fixtures);
  text = slurp(path, &len);
  if (b->meta == NULL || text == NULL)
    return false;
  b->cfg = wif_config_new("bench");
  json_array_foreach(json_object_get(b->meta, "issuers"), i, v) {
    struct wif_provider *p;
    char name[32];
    json_t *aud;
    size_t j;

    snprintf(name, sizeof(name), "p%zu", i);
    if (wif_config_add_provider(b->cfg, name, &p, &err) != WIF_OK ||
        wif_config_set(b->cfg, p, "issuer", json_string_value(v), &err) ||
        wif_config_set(b->cfg, p, "algorithms", "RS256 PS256 ES256 ES384 EdDSA",
                       &err))
      goto fail;
    json_array_foreach(json_object_get(b->meta, "audiences"), j, aud) {
      if (wif_config_set(b->cfg, p, "audience", json_string_value(aud), &err))
        goto fail;
    }
  }
  if (wif_config_finish(b->cfg, &err) != WIF_OK)
    goto fail;
  b->validator = wif_validator_new(b->cfg, 0, NULL);
  for (i = 0; i < b->cfg->n_providers; i++) {
    struct wif_jwks *keys;
    if (wif_jwks_parse(text, len, NULL, &keys, &err) != WIF_OK ||
        wif_validator_set_keys(b->validator, &b->cfg->providers[i], keys))
      goto fail;
  }
  if (wif_jwks_parse(text, len, NULL, &b->floor_keys, &err) != WIF_OK)
    goto fail;
  free(text);
  return true;
fail:
  fprintf(stderr, "bench setup: %s\n", err.msg);
  free(text);
  return false;
}

static int verify_wif(struct bench *b, const struct tokens *t, size_t i) {
  struct wif_result r;
  wif_rc rc = wif_validate(b->validator, t->v[i], t->len[i], time(NULL), &r,
                           NULL);
  wif_result_clear(&r);
  return rc != WIF_OK;
}

/* The harness's `evp` floor: per token a fresh EVP_DigestVerifyInit and
 * EVP_DigestVerify over the signing input, signature decoded (and ECDSA
 * converted to DER) beforehand, untimed. */
struct floor_item {
  EVP_PKEY *pkey;
  const char *md;
  bool pss;
  unsigned char sig[1024];
  size_t sig_len;
  size_t tbs_len;
};

static struct floor_item *floor_prepare(struct bench *b, const char *alg_name,
                                        const struct tokens *t) {
  struct floor_item *items = calloc(t->n, sizeof(*items));
  enum wif_alg alg;

  wif_alg_from_name(alg_name, strlen(alg_name), &alg);
  for (size_t i = 0; i < t->n; i++) {
    struct wif_jwt *jwt;
    struct wif_jwk *key;
    if (wif_jwt_parse(t->v[i], t->len[i], &jwt, NULL) != WIF_OK)
      continue;
    key = wif_jwks_find(b->floor_keys, jwt->kid, jwt->kid_len);
    items[i].pkey = key ? wif_jwk_pkey(key) : NULL;
    items[i].md = wif_alg_digest_name(alg);
    items[i].pss = wif_alg_is_pss(alg);
    items[i].tbs_len = jwt->signing_input_len;
    if (wif_alg_is_ec(alg)) {
      size_t half = jwt->signature_len / 2;
      ECDSA_SIG *sig = ECDSA_SIG_new();
      unsigned char *p = items[i].sig;
      ECDSA_SIG_set0(sig, BN_bin2bn(jwt->signature, (int)half, NULL),
                     BN_bin2bn(jwt->signature + half, (int)half, NULL));
      items[i].sig_len = (size_t)i2d_ECDSA_SIG(sig, &p);
      ECDSA_SIG_free(sig);
    } else {
      memcpy(items[i].sig, jwt->signature, jwt->signature_len);
      items[i].sig_len = jwt->signature_len;
    }
    wif_jwt_free(jwt);
  }
  return items;
}

static int verify_floor(const struct floor_item *items, const struct tokens *t,
                        size_t i) {
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX *pctx = NULL;
  int ok = ctx != NULL && items[i].pkey != NULL &&
           EVP_DigestVerifyInit_ex(ctx, &pctx, items[i].md, NULL, NULL,
                                   items[i].pkey, NULL) == 1;
  if (ok && items[i].pss)
    ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
  ok = ok && EVP_DigestVerify(ctx, items[i].sig, items[i].sig_len,
                              (const unsigned char *)t->v[i],
                              items[i].tbs_len) == 1;
  EVP_MD_CTX_free(ctx);
  return !ok;
}

static int verify_one(struct bench *b, const struct floor_item *items,
                      const struct tokens *t, size_t i) {
  return b->floor ? verify_floor(items, t, i) : verify_wif(b, t, i);
}

static void run_alg(struct bench *b, const char *alg, double secs,
                    double warm) {
  const char *impl = b->floor ? "evp-floor" : "pam_wif";
  struct tokens good, bad;
  struct floor_item *gi = NULL, *bi = NULL;
  size_t i = 0, n = 0, nbad;
  double t0, w0, c0, w1, c1;
  int errs = 0;

  if (!load_tokens(b->fixtures, alg, ".txt", &good)) {
    printf("RESULT impl=%s alg=%s status=FAIL reason=no-tokens\n", impl, alg);
    return;
  }
  if (!load_tokens(b->fixtures, alg, ".bad.txt", &bad))
    bad.n = 0;
  if (b->floor) {
    gi = floor_prepare(b, alg, &good);
    bi = floor_prepare(b, alg, &bad);
  }
  for (i = 0; i < good.n; i++)
    if (verify_one(b, gi, &good, i)) {
      printf("RESULT impl=%s alg=%s status=FAIL reason=valid-token-%zu-"
             "rejected\n", impl, alg, i);
      return;
    }
  /* The floor checks no claims: only bad[0], the corrupted signature. */
  nbad = b->floor ? (bad.n ? 1 : 0) : bad.n;
  for (i = 0; i < nbad; i++)
    if (!verify_one(b, bi, &bad, i)) {
      printf("RESULT impl=%s alg=%s status=FAIL reason=bad-token-%zu-"
             "accepted\n", impl, alg, i);
      return;
    }
  i = 0;
  for (t0 = now_mono(); now_mono() - t0 < warm; i = (i + 1) % good.n)
    verify_one(b, gi, &good, i);
  w0 = now_mono();
  c0 = now_cpu();
  do {
    for (int k = 0; k < 16; k++, n++, i = (i + 1) % good.n)
      errs += verify_one(b, gi, &good, i);
    w1 = now_mono();
  } while (w1 - w0 < secs);
  c1 = now_cpu();
  if (errs)
    printf("RESULT impl=%s alg=%s status=FAIL reason=%d-errors-in-timed-loop"
           "\n", impl, alg, errs);
  else
    printf("RESULT impl=%s alg=%s status=ok n=%zu wall_s=%.4f cpu_s=%.4f "
           "per_s=%.1f cpu_per_s=%.1f\n",
           impl, alg, n, w1 - w0, c1 - c0, (double)n / (w1 - w0),
           (double)n / (c1 - c0));
  fflush(stdout);
}

static double parse_seconds(const char *s) {
  char *end;
  double d = strtod(s, &end);
  return *end == '\0' && d > 0 && d < 3600 ? d : -1;
}

int main(int argc, char **argv) {
  struct bench b = {0};
  const char *algs = "RS256,PS256,ES256,ES384,EdDSA", *once = NULL;
  double secs = 0.5, warm = 0.1;

  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--fixtures") == 0 && i + 1 < argc)
      b.fixtures = argv[++i];
    else if (strcmp(argv[i], "--algs") == 0 && i + 1 < argc)
      algs = argv[++i];
    else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
      secs = parse_seconds(argv[++i]);
    else if (strcmp(argv[i], "--warmup") == 0 && i + 1 < argc)
      warm = parse_seconds(argv[++i]);
    else if (strcmp(argv[i], "--once") == 0 && i + 1 < argc)
      once = argv[++i];
    else if (strcmp(argv[i], "--floor") == 0)
      b.floor = true;
    else
      secs = -1;
  }
  if (b.fixtures == NULL || secs <= 0 || warm <= 0) {
    fprintf(stderr, "usage: %s --fixtures DIR [--algs A,B] [--seconds S] "
                    "[--warmup S] [--floor] | --once ALG\n", argv[0]);
    return 2;
  }
  if (!setup(&b))
    return 2;
  if (once != NULL) {
    struct tokens t;
    if (!load_tokens(b.fixtures, once, ".txt", &t))
      return 2;
    return verify_wif(&b, &t, 0) ? 1 : 0;
  }
  char *list = strdup(algs);
  for (char *save = NULL, *alg = strtok_r(list, ",", &save); alg != NULL;
       alg = strtok_r(NULL, ",", &save))
    run_alg(&b, alg, secs, warm);
  free(list);
  return 0;
}
