/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the pam_wif.conf parser. */
#include "fuzz.h"

#include <string.h>

#include "config.h"

/*
 * A parsed config must be what wif_config_finish promises: every provider
 * has a name, an https issuer found again by lookup, at least one audience,
 * and nothing beyond the documented limits. A failure names a line.
 */

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct wif_config *cfg = NULL;
  struct wif_error err;

  wif_error_clear(&err);
  if (wif_config_parse((const char *)data, size, "fuzz.conf", &cfg, &err) !=
      WIF_OK) {
    if (cfg != NULL)
      fuzz_fail("failed parse left an output");
    if (err.msg[0] == '\0' || strlen(err.msg) >= WIF_ERROR_MSG_MAX)
      fuzz_fail("failure without a bounded message");
    return 0;
  }
  if (cfg->n_providers == 0 || cfg->n_providers > WIF_PROVIDERS_MAX)
    fuzz_fail("%zu providers accepted", cfg->n_providers);
  for (size_t i = 0; i < cfg->n_providers; i++) {
    const struct wif_provider *p = &cfg->providers[i];
    if (p->name == NULL || p->issuer == NULL || p->n_audiences == 0 ||
        p->n_audiences > WIF_LIST_MAX || p->n_requires > WIF_LIST_MAX)
      fuzz_fail("incomplete provider accepted");
    /* A plain name only where no discovery is needed; never http. */
    if (strncmp(p->issuer, "https://", 8) != 0 &&
        ((p->jwks_file == NULL && p->jwks_uri == NULL) ||
         strncmp(p->issuer, "http://", 7) == 0))
      fuzz_fail("non-https issuer accepted");
    if (wif_config_provider_by_issuer(cfg, p->issuer, strlen(p->issuer)) != p ||
        wif_config_provider_by_name(cfg, p->name) != p)
      fuzz_fail("provider not found by its own issuer or name");
    if (p->algorithms == 0)
      fuzz_fail("empty algorithm list accepted");
  }
  wif_config_free(cfg);
  return 0;
}
