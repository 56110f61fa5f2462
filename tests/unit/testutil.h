/* SPDX-License-Identifier: Apache-2.0 */
/* Shared helpers for the unit tests: files, keys and token signing. */
#ifndef WIF_TESTUTIL_H
#define WIF_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cmocka.h>

#include "jwk.h"

/* A string literal where a core struct wants char *: the tests fill
 * config structs by hand (-Wwrite-strings makes literals const) and never
 * write or free these strings. */
static inline char *wif_test_str(const char *s) {
  return (char *)(uintptr_t)s;
}

/* Reads a whole file; fails the test when it cannot. Caller frees. */
char *wif_test_read(const char *path, size_t *len);

/* "dir/name", caller frees. */
char *wif_test_path(const char *dir, const char *name);

/* Writes len bytes to path (created, or truncated), then sets exactly
 * mode; fails the test on any error. */
void wif_test_write(const char *path, const char *data, size_t len,
                    mode_t mode);

/* wif_test_write of a string. */
void wif_test_write_text(const char *path, const char *text, mode_t mode);

/* A fresh 0700 directory PREFIX-XXXXXX in the current directory (the
 * build tree: trusted paths must not pass through a world-writable
 * directory such as /tmp); its absolute path in out (size bytes). */
void wif_test_scratch_dir(char *out, size_t size, const char *prefix);

/* Makes dir 0700 and removes it with everything below it: 0, or -1 when
 * something could not be removed. */
int wif_test_remove_tree(const char *dir);

/* A fresh directory with mode, named PREFIX-XXXXXX next to the generated
 * keys in the build tree (the trusted-file rules walk every parent, which
 * rules out /tmp), its path without a ".." component. Caller frees. */
char *wif_test_build_dir(const char *prefix, mode_t mode);

/* Calls fn(path, name, ctx) on each file of dir whose name is longer than
 * suffix and ends in it; returns how many. Fails the test when dir cannot
 * be opened. */
size_t wif_test_for_each_file(const char *dir, const char *suffix,
                              void (*fn)(const char *path, const char *name,
                                         void *ctx),
                              void *ctx);

/*
 * The message an invalid data case must produce, from its first line
 * "# expect: MESSAGE" (name labels the failure). With dropin_as not NULL
 * the case is installed as a drop-in at that path: the message must hold
 * the word DROPIN, which is replaced by dropin_as. Fails the test when
 * the line is not there. Caller frees.
 */
char *wif_test_expected_error(const char *text, const char *name,
                              const char *dropin_as);

/* Path of a generated key file (WIF_TEST_KEYS_DIR/name); caller frees. */
char *wif_test_key_path(const char *name);

/* Loads WIF_TEST_KEYS_DIR/<file> as a key set; fails the test on error. */
struct wif_jwks *wif_test_jwks(const char *file);

/* base64url of len bytes; caller frees. */
char *wif_test_b64(const void *data, size_t len);

/*
 * Signs a token with the private key WIF_TEST_KEYS_DIR/<kid>.key.pem under
 * alg. header_json NULL means {"alg":ALG,"kid":KID,"typ":"JWT"}. The
 * header and claims are encoded exactly as given. Caller frees.
 */
char *wif_test_sign(const char *kid, const char *alg, const char *header_json,
                    const char *claims_json);

/* Like wif_test_sign with claims built by printf-style formatting. */
char *wif_test_signf(const char *kid, const char *alg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Three raw segments joined with dots (each already base64url or not). */
char *wif_test_join(const char *h, const char *p, const char *s);

/*
 * Switches LC_ALL to `name` (such as "de_DE.UTF-8"), from the system or
 * from the locales tests/tools/make_locales.sh built for the tests. When
 * neither has it, falls back to C.UTF-8 and prints that it did, so the
 * test still runs under a UTF-8 locale; fails the test when not even that
 * exists. Returns the locale in effect. Undo with setlocale(LC_ALL, "C").
 */
const char *wif_test_setlocale(const char *name);

/* Exit status of a test program that could not run (ctest SKIP_RETURN_CODE):
 * reported as skipped, never as passed. */
#define WIF_TEST_SKIP 77

/* A fixed "now" for tests: 2026-01-01T00:00:00Z. */
#define WIF_TEST_NOW INT64_C(1767225600)

#endif
