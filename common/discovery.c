/* SPDX-License-Identifier: Apache-2.0 */
/* OpenID Connect discovery: builds the URL and checks the document. */
#include "discovery.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "log.h"

/* The document is a flat object, but providers add nested metadata
 * (mtls_endpoint_aliases, ...): a little depth is allowed. */
#define DISCOVERY_DEPTH 4

bool wif_discovery_https_url(const char *s, size_t len) {
  static const char scheme[] = "https://";
  size_t n = sizeof(scheme) - 1;

  if (s == NULL || len <= n || len > WIF_URL_MAX || memcmp(s, scheme, n) != 0)
    return false;
  if (s[n] == '/' || s[n] == '?' || s[n] == '#')
    return false;
  for (size_t i = 0; i < len; i++)
    if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] == 0x7f)
      return false;
  return true;
}

wif_rc wif_discovery_url(const char *issuer, char **out,
                         struct wif_error *err) {
  size_t len;
  size_t total;
  char *url;

  if (out != NULL)
    *out = NULL;
  if (issuer == NULL || out == NULL)
    return wif_error_set(err, WIF_E_INTERNAL, "wif_discovery_url: bad call");
  len = strlen(issuer);
  if (!wif_discovery_https_url(issuer, len))
    return wif_error_set(err, WIF_E_CONFIG_INVALID,
                         "the issuer is not an https:// URL");
  if (issuer[len - 1] == '/')
    len--;
  total = len + sizeof(WIF_DISCOVERY_PATH);
  if (total > WIF_URL_MAX + 1)
    return wif_error_set(err, WIF_E_CONFIG_INVALID,
                         "the issuer is too long for discovery");
  if ((url = malloc(total)) == NULL)
    return wif_error_set(err, WIF_E_NOMEM, "out of memory");
  memcpy(url, issuer, len);
  memcpy(url + len, WIF_DISCOVERY_PATH, sizeof(WIF_DISCOVERY_PATH));
  *out = url;
  return WIF_OK;
}

wif_rc wif_discovery_parse(const char *text, size_t len, const char *issuer,
                           char **out_jwks_uri, struct wif_error *err) {
  wif_rc rc = WIF_E_JWKS_INVALID;
  struct wif_json_doc *doc = NULL;
  struct wif_error perr;
  const struct wif_json *root;
  const struct wif_json *v;
  const char *s;
  size_t slen;
  char shown[160];
  char *uri;

  if (out_jwks_uri != NULL)
    *out_jwks_uri = NULL;
  if (text == NULL || issuer == NULL || out_jwks_uri == NULL) {
    rc = wif_error_set(err, WIF_E_INTERNAL, "wif_discovery_parse: bad call");
    goto out;
  }
  wif_error_clear(&perr);
  rc = wif_json_parse(text, len, DISCOVERY_DEPTH, &doc, &perr);
  if (rc != WIF_OK) {
    rc =
        wif_error_set(err, rc == WIF_E_NOMEM ? rc : WIF_E_JWKS_INVALID,
                      "the discovery document is not valid JSON: %s", perr.msg);
    goto out;
  }
  rc = WIF_E_JWKS_INVALID;
  root = wif_json_root(doc);
  if (root->type != WIF_JSON_OBJECT) {
    wif_error_set(err, rc, "the discovery document is not a JSON object");
    goto out;
  }
  v = wif_json_get(doc, root, "issuer");
  if (v == NULL || !wif_json_string(v, &s, &slen)) {
    wif_error_set(err, rc, "the discovery document has no issuer string");
    goto out;
  }
  /* Exact, like the token's iss: no case folding, no slash games. */
  if (slen != strlen(issuer) || memcmp(s, issuer, slen) != 0) {
    wif_log_sanitize(s, slen, shown, sizeof(shown));
    wif_error_set(err, rc,
                  "the discovery document names issuer \"%s\", not the "
                  "configured one",
                  shown);
    goto out;
  }
  v = wif_json_get(doc, root, "jwks_uri");
  if (v == NULL || !wif_json_string(v, &s, &slen)) {
    wif_error_set(err, rc, "the discovery document has no jwks_uri string");
    goto out;
  }
  if (!wif_discovery_https_url(s, slen)) {
    wif_log_sanitize(s, slen, shown, sizeof(shown));
    wif_error_set(err, rc,
                  "the discovery document's jwks_uri \"%s\" is not an "
                  "https:// URL",
                  shown);
    goto out;
  }
  if ((uri = malloc(slen + 1)) == NULL) {
    rc = wif_error_set(err, WIF_E_NOMEM, "out of memory");
    goto out;
  }
  memcpy(uri, s, slen);
  uri[slen] = '\0';
  *out_jwks_uri = uri;
  rc = WIF_OK;
out:
  wif_json_free(doc);
  return rc;
}
