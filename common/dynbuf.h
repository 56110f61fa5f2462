/* SPDX-License-Identifier: Apache-2.0 */
/* A growable byte buffer with a hard size cap (in the spirit of curl's
 * dynbuf, docs/internals/DYNBUF.md). */
#ifndef WIF_DYNBUF_H
#define WIF_DYNBUF_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/*
 * The content is p[0, len), always followed by a NUL once anything was
 * added. Read p and len; change them only through the functions below.
 *
 * Every buffer has a maximum length, max, fixed at init: adding beyond it
 * fails with WIF_E_TOO_LARGE. Growth doubles, is overflow-checked and never
 * allocates more than max + 1 bytes. A buffer made for a secret never uses
 * realloc: each outgrown allocation is wiped before it is freed, and so is
 * the last one on wif_dynbuf_free.
 *
 * The first failure (WIF_E_TOO_LARGE or WIF_E_NOMEM) is remembered: the
 * content is wiped and freed, every later add returns the same code, and
 * wif_dynbuf_take returns it. A caller can make several adds and check
 * once.
 */
struct wif_dynbuf {
  char *p;
  size_t len;
  size_t cap; /* bytes allocated at p */
  size_t max; /* largest len allowed */
  bool secret;
  wif_rc failed; /* WIF_OK until an add fails */
};

/* An empty buffer of at most max bytes; nothing is allocated yet. max must
 * be below SIZE_MAX / 2. */
void wif_dynbuf_init(struct wif_dynbuf *b, size_t max, bool secret);

/* Appends n bytes (s may be NULL when n is 0). WIF_OK, WIF_E_TOO_LARGE or
 * WIF_E_NOMEM (or the failure remembered from before). */
wif_rc wif_dynbuf_add(struct wif_dynbuf *b, const void *s, size_t n);

/* Appends a NUL-terminated string. */
wif_rc wif_dynbuf_add_str(struct wif_dynbuf *b, const char *s);

/* Appends printf-formatted text. */
wif_rc wif_dynbuf_addf(struct wif_dynbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Makes room for n more bytes without adding them, so that a caller who
 * knows the size ahead allocates once. Fails like wif_dynbuf_add. */
wif_rc wif_dynbuf_reserve(struct wif_dynbuf *b, size_t n);

/*
 * Hands the content over: *out is new (NUL-terminated, *out_len bytes; an
 * empty buffer gives ""), to be freed by the caller (wiped first when the
 * buffer was a secret's), and b is empty again. On a remembered failure or
 * WIF_E_NOMEM, *out is NULL and b is freed.
 */
wif_rc wif_dynbuf_take(struct wif_dynbuf *b, char **out, size_t *out_len);

/* Frees the content (wiped when secret) and empties b; max and secret
 * stay, the failure is forgotten. NULL does nothing. */
void wif_dynbuf_free(struct wif_dynbuf *b);

#endif
