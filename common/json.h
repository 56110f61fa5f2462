/* SPDX-License-Identifier: Apache-2.0 */
/* A strict, read-only JSON parser (RFC 8259) built for untrusted input. */
#ifndef WIF_JSON_H
#define WIF_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/*
 * Why not jansson here: parsing a 1.2 KB claims set with jansson costs as
 * much as an RSA-2048 verification (about 23 us), which would halve login
 * throughput. This parser validates the whole document in one pass, makes
 * one allocation, and is stricter than jansson where JOSE needs it:
 *
 *   - the document is exactly one object or array (no scalars at the top);
 *   - duplicate member names are rejected in every object;
 *   - strings are valid UTF-8 (no overlong forms, no surrogates), with no
 *     raw control characters and no \u0000 (so every string is also a
 *     valid C string of exactly `len` bytes);
 *   - numbers follow the RFC 8259 grammar; NaN, Infinity, leading zeros,
 *     leading `+` are rejected;
 *   - a UTF-8 BOM, trailing data after the value, and nesting deeper than
 *     max_depth are rejected.
 *
 * Whitespace between tokens (space, tab, CR, LF) is allowed as RFC 8259
 * says.
 */

enum wif_json_type {
  WIF_JSON_NULL,
  WIF_JSON_FALSE,
  WIF_JSON_TRUE,
  WIF_JSON_NUMBER,
  WIF_JSON_STRING,
  WIF_JSON_ARRAY,
  WIF_JSON_OBJECT
};

/*
 * Values are stored flat, in document order. An object's children are its
 * members as (name, value) pairs: the name is a WIF_JSON_STRING value.
 * Strings and numbers point into the document's own NUL-terminated copy of
 * their decoded text.
 */
struct wif_json {
  enum wif_json_type type;
  uint32_t count;  /* arrays: elements; objects: members; else 0 */
  uint32_t next;   /* index just past this value and all its descendants */
  uint32_t len;    /* strings and numbers: length of str */
  const char *str; /* strings: decoded text; numbers: the literal */
};

struct wif_json_doc; /* opaque; owns every struct wif_json it returns */

#define WIF_JSON_DEPTH_MAX 64

/*
 * Parses `len` bytes. max_depth bounds nesting (1 = a flat object), at most
 * WIF_JSON_DEPTH_MAX. On success *out is a new document (free with
 * wif_json_free) and WIF_OK is returned; on failure *out is NULL, the
 * result is WIF_E_MALFORMED (or WIF_E_NOMEM) and err says what and at
 * which byte offset.
 */
wif_rc wif_json_parse(const char *text, size_t len, unsigned max_depth,
                      struct wif_json_doc **out, struct wif_error *err);

/* Frees the document; NULL does nothing. Wipes decoded text first (it may
 * hold token claims). */
void wif_json_free(struct wif_json_doc *doc);

/* The top-level value (an object or an array). Borrowed from doc. */
const struct wif_json *wif_json_root(const struct wif_json_doc *doc);

/* First child of an array or object (for objects: the first member name),
 * NULL when empty or not a container. */
const struct wif_json *wif_json_first(const struct wif_json_doc *doc,
                                      const struct wif_json *v);

/* The sibling after v inside its container, or NULL after the last one.
 * For objects, siblings alternate name, value, name, value. */
const struct wif_json *wif_json_next(const struct wif_json_doc *doc,
                                     const struct wif_json *container,
                                     const struct wif_json *v);

/* Member value by exact name (byte comparison), NULL when absent or obj is
 * not an object. name is NUL-terminated. */
const struct wif_json *wif_json_get(const struct wif_json_doc *doc,
                                    const struct wif_json *obj,
                                    const char *name);

/*
 * Resolves an RFC 6901 JSON pointer ("/a/b", "~0" and "~1" escapes, array
 * indexes) from v. A pointer that does not start with '/' is taken as a
 * plain member name. NULL when nothing is there.
 */
const struct wif_json *wif_json_pointer(const struct wif_json_doc *doc,
                                        const struct wif_json *v,
                                        const char *pointer);

/* True when v is a string; then *s and *len borrow its text. */
bool wif_json_string(const struct wif_json *v, const char **s, size_t *len);

/*
 * Number as an integer: accepts only an integer literal (no fraction or
 * exponent) within int64_t. False otherwise.
 */
bool wif_json_int64(const struct wif_json *v, int64_t *out);

/*
 * Number as a NumericDate (RFC 7519 section 2): every literal is read
 * exactly, in decimal, without floating point or the locale. Non-integers
 * are rounded down when round_up is false (exp) and up when it is true
 * (nbf, iat). False when not a number or outside [-2^53, 2^53].
 */
bool wif_json_numeric_date(const struct wif_json *v, bool round_up,
                           int64_t *out);

#endif
