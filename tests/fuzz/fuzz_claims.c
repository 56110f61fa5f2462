/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the claim checks with a claims set given directly as JSON. */
#include "fuzz.h"

#include <string.h>

#include "claims.h"
#include "fixture.h"
#include "jwt.h"

/*
 * The signature stops a fuzzer reaching the claims through fuzz_jws, so
 * here the input is the payload JSON itself, checked against both fixed
 * providers. A success must satisfy what the contract promises: exp still
 * in the future within the skew, nbf not ahead of it, a non-empty subject
 * within its cap, groups within theirs, the exact issuer, and a lifetime
 * within max_token_age.
 */

static struct wif_config *cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  cfg = fuzz_config();
  return cfg == NULL ? -1 : 0;
}

static void check_success(const struct wif_identity *id,
                          const struct wif_provider *p) {
  if (id->subject == NULL || id->subject_len == 0 ||
      id->subject_len > WIF_SUBJECT_LEN_MAX ||
      strlen(id->subject) != id->subject_len)
    fuzz_fail("bad subject accepted");
  if (id->n_groups > WIF_GROUPS_MAX || (id->n_groups > 0 && !id->groups))
    fuzz_fail("bad groups accepted");
  for (size_t i = 0; i < id->n_groups; i++)
    if (id->groups[i] == NULL || id->groups[i][0] == '\0' ||
        strlen(id->groups[i]) > WIF_GROUP_LEN_MAX)
      fuzz_fail("bad group accepted");
  if (id->exp + cfg->clock_skew <= WIF_FUZZ_NOW)
    fuzz_fail("expired claims accepted");
  if (id->nbf != INT64_MIN && id->nbf > WIF_FUZZ_NOW + cfg->clock_skew)
    fuzz_fail("future nbf accepted");
  if (id->issuer == NULL || strcmp(id->issuer, p->issuer) != 0)
    fuzz_fail("issuer mismatch accepted");
  if (p->max_token_age > 0 &&
      id->exp - (id->iat == INT64_MIN ? WIF_FUZZ_NOW : id->iat) >
          p->max_token_age)
    fuzz_fail("over-long lifetime accepted");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct wif_json_doc *doc = NULL;
  struct wif_error err;

  if (wif_json_parse((const char *)data, size, WIF_JWT_CLAIMS_DEPTH, &doc,
                     &err) != WIF_OK)
    return 0;
  for (size_t i = 0; i < cfg->n_providers; i++) {
    struct wif_identity id;
    wif_rc rc = wif_claims_check(doc, &cfg->providers[i], cfg->clock_skew,
                                 WIF_FUZZ_NOW, &id, &err);
    if (rc == WIF_OK)
      check_success(&id, &cfg->providers[i]);
    else if (id.subject != NULL || id.groups != NULL)
      fuzz_fail("failed check left an identity");
    wif_identity_clear(&id);
  }
  wif_json_free(doc);
  return 0;
}
