/* SPDX-License-Identifier: Apache-2.0 */
/* Small text helpers shared by the line-oriented file parsers, and the
 * hex of hashed file names and tags. */
#ifndef WIF_TEXT_H
#define WIF_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define WIF_TEXT_QUOTE_MAX 64 /* bytes of a value shown in a message */

/* Strict UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF. */
bool wif_text_utf8_valid(const unsigned char *s, size_t n);

/* s itself, or its first WIF_TEXT_QUOTE_MAX bytes (cut on a UTF-8
 * boundary) and "..." in buf (size > 4), so that a message with a long
 * value still names the key and the place. */
const char *wif_text_quote(const char *s, char *buf, size_t size);

/*
 * The next line of a configuration file: text[*pos, len) up to a newline,
 * copied NUL-terminated into line (which holds max + 1 bytes) without one
 * trailing CR, and *pos moved past it. WIF_E_CONFIG_INVALID, with the
 * reason in err, for a line over max bytes, a NUL byte, invalid UTF-8 or
 * a control character other than tab. Call while *pos < len.
 */
wif_rc wif_text_next_line(const char *text, size_t len, size_t *pos, size_t max,
                          char *line, struct wif_error *err);

/*
 * strncasecmp for ASCII only: 'A'-'Z' fold to 'a'-'z' and nothing else,
 * whatever the locale (in a Turkish locale strcasecmp may fold 'I' to a
 * dotless i). Compares at most n bytes, stopping at a NUL in either.
 */
int wif_text_ncasecmp(const char *a, const char *b, size_t n);

/* The text after prefix when s starts with it, else NULL (Linux-PAM's
 * pam_str_skip_prefix): no hand-counted lengths. s may be NULL. */
const char *wif_text_skip_prefix(const char *s, const char *prefix);

/* in as lowercase hex: 2 * n digits and a NUL into out. */
void wif_text_hex(const unsigned char *in, size_t n, char *out);

/* Prefixes err's message with "name:line: " (or "name: " for line 0);
 * nothing when err or name is NULL. */
void wif_text_prefix_error(struct wif_error *err, const char *name,
                           unsigned line);

#endif
