/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes what token sources accept from a service or a program. */
#include "fuzz.h"

#include <string.h>

#include "jwt.h"
#include "source.h"
#include "source_int.h"

/*
 * The input is a response body (IMDS, GCP, GitHub, token endpoint, exec
 * callback output). It is read as plain token text and as JSON at each
 * field the sources use. A token handed out is 1..WIF_TOKEN_MAX bytes of
 * printable ASCII without space or backslash (A10: only the documented
 * framing is stripped).
 */

static const char *const fields[] = {"/access_token", "/value",
                                     "/status/token"};

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  return 0;
}

static void check_token(const char *t) {
  size_t len;

  if (t == NULL)
    fuzz_fail("success without a token");
  len = strlen(t);
  if (len == 0 || len > WIF_TOKEN_MAX)
    fuzz_fail("token of %zu bytes handed out", len);
  for (size_t i = 0; i < len; i++)
    if (t[i] <= ' ' || t[i] > '~' || t[i] == '\\')
      fuzz_fail("token with byte 0x%02x handed out", (unsigned char)t[i]);
  int64_t exp;

  if (wif_source_token_exp(t, &exp, NULL) == WIF_OK && exp < 0)
    fuzz_fail("negative exp %lld", (long long)exp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *text = (const char *)data;
  struct wif_error err;
  char *token = NULL;
  int64_t exp;

  if (wif_source_token_text("fuzz", text, size, &token, &err) == WIF_OK)
    check_token(token);
  wif_source_token_free(token);
  for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
    token = NULL;
    if (wif_source_json_token("fuzz", text, size, fields[i], &token, &exp,
                              &err) == WIF_OK)
      check_token(token);
    wif_source_token_free(token);
  }
  return 0;
}
