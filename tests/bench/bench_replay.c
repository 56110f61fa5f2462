/* SPDX-License-Identifier: Apache-2.0 */
/* What the replay store adds to a login of a one_time provider.
 *
 *   bench_replay [--dir DIR] [--entries N] [--logins M]
 *
 * Fills a store with N live entries (default 10000), then times M logins
 * (default 1000) through wif_replay_use as the module makes them: lock,
 * read store and journal, check, append one record + fdatasync; every
 * WIF_REPLAY_JOURNAL_MAX logins, one merges the journal into a new store
 * (write + fsync + rename + directory fsync), counted in the figures.
 * Also times a lookup alone (wifctl verify) and the in-memory part of a
 * merge (decode + insert, no file system) to show where the time goes.
 * DIR (default a new directory under /var/tmp) must be on the file system
 * whose fsync is to be measured; it is removed afterwards.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "config.h"
#include "replay.h"

static double now_mono(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_key(const void *a, const void *b) {
  return memcmp(a, b, WIF_REPLAY_ENTRY_LEN);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static long arg_long(const char *s) {
  char *end = NULL;
  long v = strtol(s, &end, 10);

  if (end == s || *end != '\0' || v <= 0) {
    fprintf(stderr, "bench_replay: bad number \"%s\"\n", s);
    exit(2);
  }
  return v;
}

/* A store image of n random live entries, sorted as the format demands. */
static unsigned char *fill(const char *issuer, size_t n, int64_t until,
                           size_t *len) {
  unsigned char key[WIF_REPLAY_KEY_LEN] = {0};
  unsigned char *one = NULL, *img;
  size_t one_len = 0;
  struct wif_error err;

  if (wif_replay_insert(NULL, 0, issuer, key, until, 0, &one, &one_len, &err) !=
      WIF_OK)
    return NULL;
  *len = WIF_REPLAY_HEADER_LEN + n * WIF_REPLAY_ENTRY_LEN;
  if ((img = malloc(*len)) == NULL)
    return NULL;
  memcpy(img, one, WIF_REPLAY_HEADER_LEN);
  free(one);
  for (int i = 0; i < 4; i++)
    img[40 + i] = (unsigned char)(n >> (8 * i));
  for (size_t i = 0; i < n; i++) {
    unsigned char *e = img + WIF_REPLAY_HEADER_LEN + i * WIF_REPLAY_ENTRY_LEN;

    if (RAND_bytes(e, WIF_REPLAY_KEY_LEN) != 1)
      return NULL;
    for (int b = 0; b < 8; b++)
      e[WIF_REPLAY_KEY_LEN + b] = (unsigned char)((uint64_t)until >> (8 * b));
  }
  qsort(img + WIF_REPLAY_HEADER_LEN, n, WIF_REPLAY_ENTRY_LEN, cmp_key);
  return img;
}

static void report(const char *what, double *t, size_t n) {
  double sum = 0;

  for (size_t i = 0; i < n; i++)
    sum += t[i];
  qsort(t, n, sizeof(*t), cmp_double);
  printf("%-34s mean %8.3f ms  median %8.3f ms  p99 %8.3f ms  (n=%zu)\n", what,
         sum / (double)n * 1e3, t[n / 2] * 1e3,
         t[n * 99 / 100 < n ? n * 99 / 100 : n - 1] * 1e3, n);
}

int main(int argc, char **argv) {
  const char *base = NULL;
  char dirbuf[] = "/var/tmp/bench-replay-XXXXXX";
  long entries = 10000, logins = 1000;
  struct wif_config *cfg = NULL;
  struct wif_provider *p = NULL;
  struct wif_error err;
  char *store = NULL, *lock = NULL;
  unsigned char *img = NULL;
  size_t len = 0;
  double *t = NULL;
  int64_t now = (int64_t)time(NULL);
  int ret = 1;
  char cmd[256];
  char jti[64];
  FILE *f;

  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
      base = argv[++i];
    else if (strcmp(argv[i], "--entries") == 0 && i + 1 < argc)
      entries = arg_long(argv[++i]);
    else if (strcmp(argv[i], "--logins") == 0 && i + 1 < argc)
      logins = arg_long(argv[++i]);
    else {
      fprintf(stderr, "usage: bench_replay [--dir DIR] [--entries N] "
                      "[--logins M]\n");
      return 2;
    }
  }
  if (entries + logins > WIF_REPLAY_ENTRIES_MAX) {
    fprintf(stderr, "bench_replay: entries + logins exceed %d\n",
            WIF_REPLAY_ENTRIES_MAX);
    return 2;
  }
  if (base == NULL && (base = mkdtemp(dirbuf)) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  if ((cfg = wif_config_new("bench")) == NULL ||
      wif_config_add_provider(cfg, "once", &p, &err) != WIF_OK ||
      wif_config_set(cfg, p, "issuer", "https://issuer.example/bench", &err) !=
          WIF_OK ||
      wif_config_set(cfg, p, "audience", "bench", &err) != WIF_OK ||
      wif_config_set(cfg, p, "one_time", "yes", &err) != WIF_OK ||
      wif_replay_paths(base, p, &store, &lock, &err) != WIF_OK) {
    fprintf(stderr, "bench_replay: setup failed\n");
    goto out;
  }
  if ((t = calloc((size_t)logins, sizeof(*t))) == NULL ||
      (img = fill(p->issuer, (size_t)entries, now + 3600, &len)) == NULL) {
    fprintf(stderr, "bench_replay: out of memory\n");
    goto out;
  }
  /* The directory and lock file as a first login makes them. */
  if (wif_replay_use(base, geteuid(), p, "first", 5, now + 3600, 60, now,
                     WIF_REPLAY_RECORD, &err) != WIF_OK) {
    fprintf(stderr, "bench_replay: %s\n", err.msg);
    goto out;
  }
  if ((f = fopen(store, "wb")) == NULL || fwrite(img, 1, len, f) != len ||
      fclose(f) != 0) {
    perror(store);
    goto out;
  }
  printf("store %s: %ld live entries, %zu bytes\n", store, entries, len);

  for (long i = 0; i < logins; i++) {
    double t0;

    snprintf(jti, sizeof(jti), "login-%ld", i);
    t0 = now_mono();
    if (wif_replay_use(base, geteuid(), p, jti, strlen(jti), now + 3600, 60,
                       now, WIF_REPLAY_RECORD, &err) != WIF_OK) {
      fprintf(stderr, "bench_replay: login %ld: %s\n", i, err.msg);
      goto out;
    }
    t[i] = now_mono() - t0;
  }
  report("login (record, with fsync)", t, (size_t)logins);

  for (long i = 0; i < logins; i++) {
    double t0;

    snprintf(jti, sizeof(jti), "login-%ld", i);
    t0 = now_mono();
    if (wif_replay_use(base, geteuid(), p, jti, strlen(jti), now + 3600, 60,
                       now, WIF_REPLAY_PEEK, &err) != WIF_E_REPLAYED) {
      fprintf(stderr, "bench_replay: lookup %ld was not a replay\n", i);
      goto out;
    }
    t[i] = now_mono() - t0;
  }
  report("replay refused (lookup only)", t, (size_t)logins);

  for (long i = 0; i < logins; i++) {
    unsigned char key[WIF_REPLAY_KEY_LEN];
    unsigned char *next = NULL;
    size_t next_len, count;
    double t0 = now_mono();

    snprintf(jti, sizeof(jti), "mem-%ld", i);
    if (wif_replay_decode(img, len, p->issuer, &count, &err) != WIF_OK ||
        wif_replay_key(p->issuer, jti, strlen(jti), key, &err) != WIF_OK ||
        wif_replay_insert(img, count, p->issuer, key, now + 3600, now, &next,
                          &next_len, &err) != WIF_OK) {
      fprintf(stderr, "bench_replay: in memory: %s\n", err.msg);
      goto out;
    }
    t[i] = now_mono() - t0;
    free(next);
  }
  report("merge in memory (decode + insert)", t, (size_t)logins);
  ret = 0;
out:
  if (base == dirbuf) {
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dirbuf);
    if (system(cmd) != 0)
      fprintf(stderr, "bench_replay: cannot remove %s\n", dirbuf);
  }
  free(img);
  free(t);
  free(store);
  free(lock);
  wif_config_free(cfg);
  return ret;
}
