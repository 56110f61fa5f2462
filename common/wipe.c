/* SPDX-License-Identifier: Apache-2.0 */
/* Freeing memory that may hold a secret. */
#include "wipe.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

void wif_wipe_free(void *p, size_t n) {
  if (p == NULL)
    return;
  OPENSSL_cleanse(p, n);
  free(p);
}

void wif_wipe_free_str(char *s) {
  if (s == NULL)
    return;
  wif_wipe_free(s, strlen(s) + 1);
}
