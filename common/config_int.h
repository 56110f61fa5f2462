/* Shared by config.c (keys and values) and config_parse.c (the file). */
#ifndef WIF_CONFIG_INT_H
#define WIF_CONFIG_INT_H

#include "config.h"

#define WIF_CONFIG_QUOTE_MAX 64 /* bytes of a value shown in a message */

/* s itself, or its first bytes and "..." in buf (size > 4), so that a
 * message with a long value still names the key and the place. */
const char *wif_config_quote(const char *s, char *buf, size_t size);

/* Drops leading and trailing blanks (space, tab) in place. */
char *wif_config_trim(char *s);

/* Prefixes err's message with "name:line: " (or "name: " for line 0). */
void wif_config_prefix_error(struct wif_error *err, const char *name,
                             unsigned line);

#endif
