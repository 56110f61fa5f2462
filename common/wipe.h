/* SPDX-License-Identifier: Apache-2.0 */
/* Freeing memory that may hold a secret. */
#ifndef WIF_WIPE_H
#define WIF_WIPE_H

#include <stddef.h>

/* Overwrites the first n bytes of p (OPENSSL_cleanse, which the compiler
 * may not drop) and frees p. NULL does nothing. */
void wif_wipe_free(void *p, size_t n);

/* wif_wipe_free of a NUL-terminated string and its terminator. NULL does
 * nothing. */
void wif_wipe_free_str(char *s);

#endif
