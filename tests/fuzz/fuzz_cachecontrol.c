/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes Cache-Control parsing for JWKS freshness (J14). */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "jwks_cache.h"

/*
 * The input is a block of header lines separated by '\n'. Whatever they
 * say, the freshness is within WIF_JWKS_FRESH_MIN..WIF_JWKS_FRESH_MAX.
 */

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct wif_http_response r;
  size_t start = 0;
  int64_t fresh;

  memset(&r, 0, sizeof(r));
  r.status = 200;
  for (size_t i = 0; i <= size && r.n_headers < WIF_HTTP_HEADERS_MAX; i++) {
    if (i < size && data[i] != '\n')
      continue;
    /* Headers are C strings: a line with a NUL ends at it. */
    r.headers[r.n_headers] = strndup((const char *)data + start, i - start);
    if (r.headers[r.n_headers] == NULL)
      break;
    r.n_headers++;
    start = i + 1;
  }
  fresh = wif_jwks_cache_freshness(&r);
  if (fresh < WIF_JWKS_FRESH_MIN || fresh > WIF_JWKS_FRESH_MAX)
    fuzz_fail("freshness %lld outside the clamp", (long long)fresh);
  for (size_t i = 0; i < r.n_headers; i++)
    free(r.headers[i]);
  return 0;
}
