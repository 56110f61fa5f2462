/* SPDX-License-Identifier: Apache-2.0 */
/* The fixed configuration, keys and watched log of the token fuzzers. */
#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

static const char *watch;
static size_t watch_len;

static int set(struct wif_config *cfg, struct wif_provider *p, const char *key,
               const char *value) {
  struct wif_error err;

  if (wif_config_set(cfg, p, key, value, &err) != WIF_OK) {
    fprintf(stderr, "fuzz config: %s = %s: %s\n", key, value, err.msg);
    return -1;
  }
  return 0;
}

struct wif_config *fuzz_config(void) {
  struct wif_config *cfg = wif_config_new("fuzz.conf");
  struct wif_provider *p;
  struct wif_error err;

  if (cfg == NULL)
    return NULL;
  if (wif_config_add_provider(cfg, "main", &p, &err) != WIF_OK ||
      set(cfg, p, "issuer", "https://issuer.example/fuzz") != 0 ||
      set(cfg, p, "audience", "fuzz-aud other-aud") != 0 ||
      set(cfg, p, "algorithms", "RS256 PS256 ES256 EdDSA") != 0 ||
      set(cfg, p, "require", "tid = tenant-*") != 0 ||
      set(cfg, p, "max_token_age", "86400") != 0)
    goto fail;
  if (wif_config_add_provider(cfg, "second", &p, &err) != WIF_OK ||
      set(cfg, p, "issuer", "https://other.example/fuzz") != 0 ||
      set(cfg, p, "audience", "fuzz-aud") != 0 ||
      set(cfg, p, "authorization", "group") != 0 ||
      set(cfg, p, "user_claim", "/nested/user") != 0 ||
      set(cfg, p, "algorithms", "RS256,ES256,EdDSA") != 0)
    goto fail;
  if (wif_config_finish(cfg, &err) != WIF_OK) {
    fprintf(stderr, "fuzz config: %s\n", err.msg);
    goto fail;
  }
  return cfg;
fail:
  wif_config_free(cfg);
  return NULL;
}

char *fuzz_read_keys(size_t *len) {
  FILE *f = fopen(WIF_FUZZ_KEYS, "rb");
  char *buf = NULL;
  long size;

  *len = 0;
  if (f == NULL) {
    perror(WIF_FUZZ_KEYS);
    return NULL;
  }
  if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0 &&
      fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)size)) != NULL) {
    if (fread(buf, 1, (size_t)size, f) == (size_t)size) {
      *len = (size_t)size;
    } else {
      free(buf);
      buf = NULL;
    }
  }
  fclose(f);
  return buf;
}

void fuzz_log_watch(const char *s, size_t len) {
  watch = (s != NULL && len >= 16) ? s : NULL;
  watch_len = len;
}

void fuzz_check_no_secret(const char *what, const char *msg) {
  if (watch != NULL && memmem(msg, strlen(msg), watch, watch_len) != NULL)
    fuzz_fail("%s contains a token segment: %s", what, msg);
}

static void sink(void *ctx, int priority, const char *msg) {
  (void)ctx;
  (void)priority;
  fuzz_check_no_secret("log line", msg);
}

const struct wif_log fuzz_log = {sink, NULL, true};
