/* SPDX-License-Identifier: Apache-2.0 */
/* GitHub Actions OIDC tokens: ACTIONS_ID_TOKEN_REQUEST_URL + audience. */
#include <string.h>

#include "source_int.h"

wif_rc wif_source_github_fetch(const struct wif_source_opts *o,
                               const struct wif_log *log, char **out_token,
                               int64_t *out_exp, struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;
  struct wif_source_buf url = {NULL, 0, 0};
  struct wif_source_buf auth = {NULL, 0, 0};
  const char *headers[3] = {"Accept: application/json", NULL, NULL};
  struct wif_source_call call;
  struct wif_http_response r;

  memset(&r, 0, sizeof(r));
  if (o->github_url == NULL || o->github_token == NULL) {
    rc = wif_error_set(err, WIF_E_CONFIG_INVALID,
                       "github: ACTIONS_ID_TOKEN_REQUEST_URL and "
                       "ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set (does the "
                       "job have \"permissions: id-token: write\"?)");
    goto out;
  }
  if ((rc = wif_source_buf_str(&url, o->github_url)) != WIF_OK ||
      (o->audience != NULL &&
       ((rc = wif_source_buf_str(
             &url, strchr(o->github_url, '?') ? "&audience=" : "?audience=")) !=
            WIF_OK ||
        (rc = wif_source_buf_enc(&url, o->audience)) != WIF_OK)) ||
      (rc = wif_source_buf_str(&auth, "Authorization: bearer ")) != WIF_OK ||
      (rc = wif_source_buf_str(&auth, o->github_token)) != WIF_OK) {
    rc = wif_error_set(err, rc, "github: cannot build the request");
    goto out;
  }
  headers[1] = auth.p;
  wif_source_call_init(&call, o, "github", 0);
  call.req.url = url.p;
  call.req.headers = headers;
  call.req.ca_file = o->ca_file; /* https only: the request carries a secret */
  if ((rc = wif_source_call(o, log, &call, &r, err)) != WIF_OK)
    goto out;
  rc = wif_source_json_token("github", r.body, r.body_len, "/value", out_token,
                             out_exp, err);
out:
  wif_http_response_clear(&r);
  wif_source_buf_free(&auth);
  wif_source_buf_free(&url);
  return rc;
}
