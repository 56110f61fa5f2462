/* SPDX-License-Identifier: Apache-2.0 */
/* A growable byte buffer with a hard size cap. */
#include "dynbuf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wipe.h"

#define DYNBUF_FIRST 64 /* bytes of the first allocation */

void wif_dynbuf_init(struct wif_dynbuf *b, size_t max, bool secret) {
  memset(b, 0, sizeof(*b));
  /* Keeps max + 1 and the doubling below from overflowing. */
  b->max = max < SIZE_MAX / 2 ? max : SIZE_MAX / 2 - 1;
  b->secret = secret;
  b->failed = WIF_OK;
}

static void release(struct wif_dynbuf *b) {
  if (b->secret)
    wif_wipe_free(b->p, b->cap);
  else
    free(b->p);
  b->p = NULL;
  b->len = 0;
  b->cap = 0;
}

static wif_rc fail(struct wif_dynbuf *b, wif_rc rc) {
  release(b);
  b->failed = rc;
  return rc;
}

/* Room for n more bytes and the NUL. */
static wif_rc grow(struct wif_dynbuf *b, size_t n) {
  size_t need;
  size_t ncap;
  char *np;

  if (b->failed != WIF_OK)
    return b->failed;
  if (n > b->max - b->len)
    return fail(b, WIF_E_TOO_LARGE);
  need = b->len + n + 1; /* <= max + 1 < SIZE_MAX / 2 */
  if (need <= b->cap)
    return WIF_OK;
  ncap = b->cap > 0 ? b->cap : DYNBUF_FIRST;
  while (ncap < need)
    ncap *= 2;
  if (ncap > b->max + 1)
    ncap = b->max + 1;
  if (!b->secret) {
    if ((np = realloc(b->p, ncap)) == NULL)
      return fail(b, WIF_E_NOMEM);
  } else {
    /* Not realloc: the old allocation holds the secret and is wiped. */
    if ((np = malloc(ncap)) == NULL)
      return fail(b, WIF_E_NOMEM);
    if (b->p != NULL)
      memcpy(np, b->p, b->len + 1);
    wif_wipe_free(b->p, b->cap);
  }
  if (b->p == NULL)
    np[0] = '\0';
  b->p = np;
  b->cap = ncap;
  return WIF_OK;
}

wif_rc wif_dynbuf_reserve(struct wif_dynbuf *b, size_t n) {
  return grow(b, n);
}

wif_rc wif_dynbuf_add(struct wif_dynbuf *b, const void *s, size_t n) {
  wif_rc rc = grow(b, n);

  if (rc != WIF_OK)
    return rc;
  if (n > 0)
    memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
  return WIF_OK;
}

wif_rc wif_dynbuf_add_str(struct wif_dynbuf *b, const char *s) {
  return wif_dynbuf_add(b, s, strlen(s));
}

wif_rc wif_dynbuf_addf(struct wif_dynbuf *b, const char *fmt, ...) {
  va_list ap;
  int n;
  wif_rc rc;

  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0)
    return fail(b, WIF_E_INTERNAL);
  if ((rc = grow(b, (size_t)n)) != WIF_OK)
    return rc;
  va_start(ap, fmt);
  (void)vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
  return WIF_OK;
}

wif_rc wif_dynbuf_take(struct wif_dynbuf *b, char **out, size_t *out_len) {
  wif_rc rc;

  *out = NULL;
  *out_len = 0;
  if ((rc = grow(b, 0)) != WIF_OK) {
    release(b);
    return rc;
  }
  *out = b->p;
  *out_len = b->len;
  b->p = NULL;
  b->len = 0;
  b->cap = 0;
  return WIF_OK;
}

void wif_dynbuf_free(struct wif_dynbuf *b) {
  if (b == NULL)
    return;
  release(b);
  b->failed = WIF_OK;
}
