/* SPDX-License-Identifier: Apache-2.0 */
/* Compact JWS: size cap, split, header policy and claims decoding. */
#include "jwt.h"

#include <stdlib.h>
#include <string.h>

#include "b64url.h"
#include "text.h"
#include "wipe.h"

/* The struct and every buffer it points to live in one allocation of
 * `size` bytes, wiped as a whole on free. */
struct jwt_block {
  struct wif_jwt jwt;
  size_t size;
  unsigned char data[];
};

/* RFC 7515 section 4.1.9: media types compare case-insensitively (ASCII
 * only, whatever the locale) and the "application/" prefix may be left
 * out. */
static bool media_type_is(const char *value, const char *want) {
  static const char prefix[] = "application/";

  if (wif_text_ncasecmp(value, prefix, sizeof(prefix) - 1) == 0)
    value += sizeof(prefix) - 1;
  return wif_text_ncasecmp(value, want, strlen(want) + 1) == 0;
}

static wif_rc check_header(struct wif_jwt *jwt, struct wif_error *err) {
  const struct wif_json_doc *doc = jwt->header;
  const struct wif_json *root = wif_json_root(doc), *v;
  const char *s;
  size_t len;

  if (root->type != WIF_JSON_OBJECT)
    return wif_error_set(err, WIF_E_MALFORMED,
                         "the token header is not a JSON object");
  v = wif_json_get(doc, root, "alg");
  if (v == NULL)
    return wif_error_set(err, WIF_E_MALFORMED, "the token header has no alg");
  if (!wif_json_string(v, &s, &len))
    return wif_error_set(err, WIF_E_MALFORMED,
                         "the token header's alg is not a string");
  jwt->alg_name = s;
  jwt->alg_known = wif_alg_from_name(s, len, &jwt->alg);

  v = wif_json_get(doc, root, "kid");
  if (v != NULL) {
    if (!wif_json_string(v, &s, &len))
      return wif_error_set(err, WIF_E_MALFORMED,
                           "the token header's kid is not a string");
    if (len > WIF_KID_MAX)
      return wif_error_set(err, WIF_E_MALFORMED,
                           "the token header's kid is longer than %d bytes",
                           WIF_KID_MAX);
    jwt->kid = s;
    jwt->kid_len = len;
  }

  /* We understand no extension, so any crit list is unsatisfiable, and an
   * unencoded payload (b64) is never a JWT (RFC 7797 section 7). */
  if (wif_json_get(doc, root, "crit") != NULL)
    return wif_error_set(err, WIF_E_UNSUPPORTED_CRIT,
                         "the token header has crit parameters");
  if (wif_json_get(doc, root, "b64") != NULL)
    return wif_error_set(err, WIF_E_UNSUPPORTED_CRIT,
                         "the token header has a b64 parameter");
  if (wif_json_get(doc, root, "zip") != NULL)
    return wif_error_set(err, WIF_E_UNSUPPORTED,
                         "compressed tokens (zip) are not supported");
  if (wif_json_get(doc, root, "enc") != NULL)
    return wif_error_set(err, WIF_E_UNSUPPORTED,
                         "encrypted tokens (enc) are not supported");

  v = wif_json_get(doc, root, "cty");
  if (v != NULL) {
    if (!wif_json_string(v, &s, NULL))
      return wif_error_set(err, WIF_E_MALFORMED,
                           "the token header's cty is not a string");
    if (media_type_is(s, "JWT"))
      return wif_error_set(err, WIF_E_UNSUPPORTED,
                           "nested tokens (cty JWT) are not supported");
  }
  v = wif_json_get(doc, root, "typ");
  if (v != NULL) {
    if (!wif_json_string(v, &s, NULL))
      return wif_error_set(err, WIF_E_MALFORMED,
                           "the token header's typ is not a string");
    /* JOSE: SPIFFE JWT-SVIDs (the JWS compact serialization's own type). */
    if (!media_type_is(s, "JWT") && !media_type_is(s, "at+jwt") &&
        !media_type_is(s, "JOSE"))
      return wif_error_set(err, WIF_E_TYP_MISMATCH,
                           "the token type is not JWT, at+jwt or JOSE");
  }
  return WIF_OK;
}

wif_rc wif_jwt_parse(const char *token, size_t len, struct wif_jwt **out,
                     struct wif_error *err) {
  struct jwt_block *block = NULL;
  struct wif_jwt *jwt;
  const char *dot1, *dot2, *p_seg, *s_seg;
  size_t h_len, p_len, s_len, h_max, p_max, s_max, size;
  unsigned char *header_buf, *cursor;
  size_t header_len;
  struct wif_error json_err;
  wif_rc rc = WIF_E_MALFORMED;

  if (out != NULL)
    *out = NULL;
  if (token == NULL || out == NULL || len == 0) {
    wif_error_set(err, WIF_E_MALFORMED, "the token is empty");
    goto out;
  }
  /* Before anything else, so no work is proportional to a huge input. */
  if (len > WIF_TOKEN_MAX) {
    rc = wif_error_set(err, WIF_E_TOO_LARGE,
                       "the token is %zu bytes; at most %d are accepted", len,
                       WIF_TOKEN_MAX);
    goto out;
  }
  dot1 = memchr(token, '.', len);
  dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
  if (dot2 == NULL || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token))) {
    wif_error_set(err, WIF_E_MALFORMED,
                  "the token is not a compact JWS (three base64url "
                  "segments separated by dots; JWE is not supported)");
    goto out;
  }
  p_seg = dot1 + 1;
  s_seg = dot2 + 1;
  h_len = (size_t)(dot1 - token);
  p_len = (size_t)(dot2 - p_seg);
  s_len = len - (size_t)(s_seg - token);
  if (h_len == 0) {
    wif_error_set(err, WIF_E_MALFORMED, "the token header is empty");
    goto out;
  }

  h_max = WIF_B64URL_DECODED_MAX(h_len);
  p_max = WIF_B64URL_DECODED_MAX(p_len);
  s_max = WIF_B64URL_DECODED_MAX(s_len);
  size = sizeof(*block) + (size_t)(dot2 - token) + 1 + h_max + p_max + s_max;
  block = calloc(1, size);
  if (block == NULL) {
    rc = wif_error_set(err, WIF_E_NOMEM, "out of memory");
    goto out;
  }
  block->size = size;
  jwt = &block->jwt;
  cursor = block->data;
  jwt->signing_input = (char *)cursor;
  jwt->signing_input_len = (size_t)(dot2 - token);
  memcpy(cursor, token, jwt->signing_input_len);
  cursor += jwt->signing_input_len + 1;
  header_buf = cursor;
  cursor += h_max;
  jwt->payload = cursor;
  cursor += p_max;
  jwt->signature = cursor;

  if (!wif_b64url_decode(token, h_len, header_buf, h_max, &header_len)) {
    wif_error_set(err, WIF_E_MALFORMED, "the token header is not base64url");
    goto out;
  }
  if (!wif_b64url_decode(p_seg, p_len, jwt->payload, p_max,
                         &jwt->payload_len)) {
    wif_error_set(err, WIF_E_MALFORMED, "the token payload is not base64url");
    goto out;
  }
  if (!wif_b64url_decode(s_seg, s_len, jwt->signature, s_max,
                         &jwt->signature_len)) {
    wif_error_set(err, WIF_E_MALFORMED, "the token signature is not base64url");
    goto out;
  }
  rc = wif_json_parse((const char *)header_buf, header_len,
                      WIF_JWT_HEADER_DEPTH, &jwt->header, &json_err);
  if (rc != WIF_OK) {
    wif_error_set(err, rc, "the token header: %s", json_err.msg);
    goto out;
  }
  rc = check_header(jwt, err);
  if (rc != WIF_OK)
    goto out;
  *out = jwt;
  block = NULL;

out:
  if (block != NULL)
    wif_jwt_free(&block->jwt);
  return rc;
}

wif_rc wif_jwt_claims(const struct wif_jwt *jwt, struct wif_json_doc **out,
                      struct wif_error *err) {
  struct wif_json_doc *doc = NULL;
  struct wif_error json_err;
  wif_rc rc;

  if (out != NULL)
    *out = NULL;
  if (jwt == NULL || out == NULL)
    return wif_error_set(err, WIF_E_INTERNAL, "no token");
  rc = wif_json_parse((const char *)jwt->payload, jwt->payload_len,
                      WIF_JWT_CLAIMS_DEPTH, &doc, &json_err);
  if (rc != WIF_OK)
    return wif_error_set(err, rc, "the token claims: %s", json_err.msg);
  if (wif_json_root(doc)->type != WIF_JSON_OBJECT) {
    wif_json_free(doc);
    return wif_error_set(err, WIF_E_MALFORMED,
                         "the token claims are not a JSON object");
  }
  *out = doc;
  return WIF_OK;
}

void wif_jwt_free(struct wif_jwt *jwt) {
  struct jwt_block *block;

  if (jwt == NULL)
    return;
  /* jwt is always the first member of its block. */
  block = (struct jwt_block *)(void *)jwt;
  wif_json_free(jwt->header);
  wif_wipe_free(block, block->size);
}
