/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the hand-over's parser and record check: the WIF_* values the
 * account phase reads back from the PAM environment. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "handover.h"

/*
 * The input is up to six lines, the values of WIF_PROVIDER ... WIF_BINDING
 * ("-" alone: unset). Invariants: parsing never reads past a value and
 * gives WIF_OK or WIF_E_MALFORMED; on WIF_OK the grant points into the
 * values and exp is not negative; a record of the values verifies them
 * for its own account and service, and not for another account.
 */

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  struct wif_handover_input in;
  struct wif_handover_grant g;
  struct wif_handover rec;
  char *p;
  wif_rc rc;

  if (text == NULL)
    return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  memset(&in, 0, sizeof(in));
  p = text;
  for (size_t i = 0; i < WIF_HO_COUNT && p != NULL; i++) {
    char *nl = strchr(p, '\n');

    if (nl != NULL)
      *nl = '\0';
    in.values[i] = strcmp(p, "-") == 0 ? NULL : p;
    p = nl != NULL ? nl + 1 : NULL;
  }
  rc = wif_handover_parse(in.values, &g, NULL);
  if (rc != WIF_OK && rc != WIF_E_MALFORMED)
    fuzz_fail("parse gave %d", (int)rc);
  if (rc == WIF_OK && (g.exp < 0 || g.provider != in.values[WIF_HO_PROVIDER] ||
                       g.grant != in.values[WIF_HO_GRANT] ||
                       (g.type != WIF_AUTHZ_USER && g.type != WIF_AUTHZ_GROUP &&
                        g.type != WIF_AUTHZ_CLAIM)))
    fuzz_fail("a parsed grant that does not hold together");
  if (wif_handover_record(in.values, "acct", "svc", &rec) == WIF_OK) {
    in.record = &rec;
    in.service = "svc";
    if (wif_handover_verify(&in, "acct", NULL, 0, NULL) != WIF_OK)
      fuzz_fail("a record does not verify its own values");
    if (wif_handover_verify(&in, "other", NULL, 0, NULL) != WIF_E_TAMPERED)
      fuzz_fail("a record verifies another account");
    wif_handover_clear(&rec);
  }
  free(text);
  return 0;
}
