/* SPDX-License-Identifier: Apache-2.0 */
/* HTTP responses: header look-up and clearing (no network code). */
#include "http.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "wipe.h"

void wif_http_headers_clear(struct wif_http_response *r) {
  for (size_t i = 0; i < r->n_headers; i++)
    free(r->headers[i]);
  r->n_headers = 0;
}

const char *wif_http_header(const struct wif_http_response *r,
                            const char *name) {
  size_t n;

  if (r == NULL || name == NULL)
    return NULL;
  n = strlen(name);
  for (size_t i = 0; i < r->n_headers; i++) {
    const char *h = r->headers[i];

    if (strncasecmp(h, name, n) == 0 && h[n] == ':') {
      h += n + 1;
      while (*h == ' ' || *h == '\t')
        h++;
      return h;
    }
  }
  return NULL;
}

void wif_http_response_clear(struct wif_http_response *r) {
  if (r == NULL)
    return;
  /* The allocation size is not kept; body_len + 1 bytes were written. */
  wif_wipe_free(r->body, r->body_len + 1);
  r->body = NULL;
  r->body_len = 0;
  wif_http_headers_clear(r);
  r->status = 0;
}
