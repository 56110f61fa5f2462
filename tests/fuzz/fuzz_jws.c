/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes compact JWS parsing and the whole validation pipeline. */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "validate.h"

/*
 * The input is the token, validated at the fixed clock against the fixed
 * providers and keys. Invariants checked beyond "no crash, no leak":
 *   - a success names a provider and a non-empty subject, and the token
 *     has exactly two dots and fits WIF_TOKEN_MAX;
 *   - no error message and no debug log line contains the token's
 *     signature segment (M4);
 *   - wif_jwt_parse on the same input agrees with wif_validate about
 *     framing: when it fails, validation failed too.
 */

static struct wif_config *cfg;
static struct wif_validator *validator;

static int give_keys(const struct wif_provider *p) {
  size_t len;
  char *text = fuzz_read_keys(&len);
  struct wif_jwks *keys = NULL;
  struct wif_error err;
  wif_rc rc = WIF_E_INTERNAL;

  if (text == NULL)
    return -1;
  if (wif_jwks_parse(text, len, NULL, &keys, &err) != WIF_OK)
    fprintf(stderr, "fuzz keys: %s\n", err.msg);
  else
    rc = wif_validator_set_keys(validator, p, keys);
  free(text);
  return rc == WIF_OK ? 0 : -1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  if ((cfg = fuzz_config()) == NULL ||
      (validator = wif_validator_new(cfg, getuid(), &fuzz_log)) == NULL ||
      give_keys(&cfg->providers[0]) != 0 || give_keys(&cfg->providers[1]) != 0)
    return -1;
  return 0;
}

static size_t count_dots(const uint8_t *data, size_t size,
                         const uint8_t **last) {
  size_t dots = 0;

  *last = NULL;
  for (size_t i = 0; i < size; i++) {
    if (data[i] == '.') {
      dots++;
      *last = data + i;
    }
  }
  return dots;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *token = (const char *)data;
  const uint8_t *last_dot;
  size_t dots = count_dots(data, size, &last_dot);
  struct wif_result r;
  struct wif_error err;
  struct wif_jwt *jwt = NULL;
  wif_rc rc, parse_rc;

  /* Watch the signature segment (A token's header and payload may be
   * quoted in decoded, sanitized form; the signature never is). */
  if (dots == 2)
    fuzz_log_watch((const char *)last_dot + 1,
                   size - (size_t)(last_dot + 1 - data));
  wif_error_clear(&err);
  rc = wif_validate(validator, token, size, WIF_FUZZ_NOW, &r, &err);
  fuzz_check_no_secret("error message", err.msg);
  if (rc == WIF_OK) {
    if (r.provider == NULL || r.identity.subject == NULL ||
        r.identity.subject_len == 0 || dots != 2 || size > WIF_TOKEN_MAX)
      fuzz_fail("success without provider, subject or framing");
    if (r.identity.exp + cfg->clock_skew <= WIF_FUZZ_NOW)
      fuzz_fail("expired token accepted");
  } else if (err.rc != rc) {
    fuzz_fail("result %s but err says %s", wif_rc_name(rc),
              wif_rc_name(err.rc));
  }
  wif_result_clear(&r);

  parse_rc = wif_jwt_parse(token, size, &jwt, &err);
  fuzz_check_no_secret("error message", err.msg);
  if (parse_rc == WIF_OK) {
    struct wif_json_doc *claims = NULL;
    if (jwt == NULL || jwt->signing_input_len >= size)
      fuzz_fail("parse succeeded without a sane jwt");
    if (wif_jwt_claims(jwt, &claims, &err) == WIF_OK && claims == NULL)
      fuzz_fail("claims succeeded without a document");
    wif_json_free(claims);
  } else if (jwt != NULL) {
    fuzz_fail("failed parse left an output");
  } else if (rc == WIF_OK) {
    fuzz_fail("validated a token that does not parse");
  }
  wif_jwt_free(jwt);
  fuzz_log_watch(NULL, 0);
  return 0;
}
