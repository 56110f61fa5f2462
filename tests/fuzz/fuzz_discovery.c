/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the OIDC discovery document check (J17). */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "discovery.h"

/*
 * Accepted documents name exactly the expected issuer, and the jwks_uri
 * handed out is an https URL by the same rule the configuration uses.
 */

#define ISSUER "https://issuer.example/fuzz"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *uri = NULL;
  struct wif_error err;

  if (wif_discovery_parse((const char *)data, size, ISSUER, &uri, &err) !=
      WIF_OK) {
    if (uri != NULL)
      fuzz_fail("failure left a jwks_uri");
    return 0;
  }
  if (uri == NULL || !wif_discovery_https_url(uri, strlen(uri)))
    fuzz_fail("accepted a jwks_uri that is not an https URL");
  if (memmem(data, size, "\"" ISSUER "\"", strlen(ISSUER) + 2) == NULL &&
      memmem(data, size, "\\", 1) == NULL)
    fuzz_fail("accepted a document that does not name the issuer");
  free(uri);
  return 0;
}
