/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by config.c (keys and values) and config_parse.c (the file). */
#ifndef WIF_CONFIG_INT_H
#define WIF_CONFIG_INT_H

#include "config.h"

/* Drops leading and trailing blanks (space, tab) in place. */
char *wif_config_trim(char *s);

#endif
