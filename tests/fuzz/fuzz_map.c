/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the pam_wif.map parser against the fixed providers. */
#include "fuzz.h"

#include <string.h>

#include "fixture.h"
#include "map.h"

/*
 * A parsed map names only configured providers, its rule types agree with
 * their providers' authorization, identifiers are non-empty and as long as
 * they say, and every account passes wif_map_account_valid.
 */

static struct wif_config *cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  cfg = fuzz_config();
  return cfg == NULL ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct wif_map *map = NULL;
  struct wif_error err;

  wif_error_clear(&err);
  if (wif_map_parse((const char *)data, size, "fuzz.map", cfg, &map, &err) !=
      WIF_OK) {
    if (map != NULL || err.msg[0] == '\0')
      fuzz_fail("failure with an output or without a message");
    return 0;
  }
  for (size_t i = 0; i < map->n_rules; i++) {
    const struct wif_map_rule *r = &map->rules[i];
    const struct wif_provider *p =
        wif_config_provider_by_name(cfg, r->provider);
    if (p == NULL || (p->authz_types & WIF_AUTHZ_BIT(r->type)) == 0 ||
        (r->type == WIF_AUTHZ_CLAIM) != (r->claim != NULL))
      fuzz_fail("rule for an unknown provider or of the wrong type");
    if (r->identifier_len == 0 || strlen(r->identifier) != r->identifier_len)
      fuzz_fail("bad identifier accepted");
    if (r->n_accounts == 0 || r->n_accounts > WIF_MAP_ACCOUNTS_MAX)
      fuzz_fail("bad account list accepted");
    for (size_t k = 0; k < r->n_accounts; k++)
      if (!wif_map_account_valid(r->accounts[k]))
        fuzz_fail("invalid account name accepted");
  }
  wif_map_free(map);
  return 0;
}
