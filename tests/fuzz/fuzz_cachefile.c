/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the decoding of JWKS cache files (I5, I6). */
#include "fuzz.h"

#include "fixture.h"
#include "jwks_cache.h"
#include "jwks_store.h"

/*
 * A decoded cache file yields a usable key set for the provider, with
 * freshness within the documented window.
 */

static struct wif_config *cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  cfg = fuzz_config();
  return cfg == NULL ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct wif_jwks_cache_entry e;
  struct wif_error err;

  if (wif_jwks_store_decode((const char *)data, size, &cfg->providers[0], &e,
                            &err) == WIF_OK) {
    if (e.keys == NULL || wif_jwks_count(e.keys) == 0 || e.source == NULL)
      fuzz_fail("decoded entry without keys or source");
    if (e.fresh_until < e.fetched_at + WIF_JWKS_FRESH_MIN ||
        e.fresh_until > e.fetched_at + WIF_JWKS_FRESH_MAX)
      fuzz_fail("freshness outside the documented window");
  } else if (e.keys != NULL || e.source != NULL) {
    fuzz_fail("failure left an entry");
  }
  wif_jwks_cache_entry_clear(&e);
  return 0;
}
