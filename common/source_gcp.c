/* SPDX-License-Identifier: Apache-2.0 */
/* GCP metadata server identity tokens (SECURITY-CASES K4). */
#include <string.h>

#include "source_int.h"

#define GCP_PATH "/computeMetadata/v1/instance/service-accounts/"
#define GCP_IDENTITY "/identity?audience="
#define GCP_ACCOUNT_MAX 254 /* an e-mail address, RFC 5321 */

/* "default" or a service account's e-mail address: one path segment of
 * the characters such addresses use (letters, digits, . _ - + @), so it
 * can neither leave the path nor need encoding. */
static bool account_ok(const char *a) {
  size_t n = strlen(a);
  size_t at = 0;

  if (n == 0 || n > GCP_ACCOUNT_MAX)
    return false;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)a[i];

    if (c == '@')
      at++;
    else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
               c == '+'))
      return false;
  }
  if (strcmp(a, "default") == 0)
    return true;
  return at == 1 && a[0] != '@' && a[n - 1] != '@' && a[0] != '.';
}

wif_rc wif_source_gcp_fetch(const struct wif_source_opts *o,
                            const struct wif_log *log, char **out_token,
                            int64_t *out_exp, struct wif_error *err) {
  static const char *const headers[] = {"Metadata-Flavor: Google", NULL};
  wif_rc rc = WIF_E_INTERNAL;
  struct wif_source_buf url = {NULL, 0, 0};
  struct wif_source_call call;
  struct wif_http_response r;
  const char *base = o->endpoint ? o->endpoint : WIF_SOURCE_GCP_ENDPOINT;
  const char *account =
      o->gcp_service_account ? o->gcp_service_account : "default";

  memset(&r, 0, sizeof(r));
  if (o->audience == NULL || *o->audience == '\0') {
    rc = wif_error_set(err, WIF_E_CONFIG_INVALID,
                       "gcp: an audience is required");
    goto out;
  }
  if (!account_ok(account)) {
    rc = wif_error_set(err, WIF_E_CONFIG_INVALID,
                       "gcp: the service account must be \"default\" or an "
                       "e-mail address (at most %d characters: letters, "
                       "digits, . _ - + and one @)",
                       GCP_ACCOUNT_MAX);
    goto out;
  }
  if ((rc = wif_source_buf_str(&url, base)) != WIF_OK ||
      (rc = wif_source_buf_str(&url, GCP_PATH)) != WIF_OK ||
      (rc = wif_source_buf_enc(&url, account)) != WIF_OK ||
      (rc = wif_source_buf_str(&url, GCP_IDENTITY)) != WIF_OK ||
      (rc = wif_source_buf_enc(&url, o->audience)) != WIF_OK ||
      (o->gcp_format_full &&
       (rc = wif_source_buf_str(&url, "&format=full")) != WIF_OK)) {
    rc = wif_error_set(err, rc, "gcp: cannot build the request URL");
    goto out;
  }
  wif_source_call_init(&call, o, "gcp", 0);
  call.req.url = url.p;
  call.req.headers = headers;
  call.req.allow_http = true;
  call.req.ca_file = o->ca_file;
  /* The answer must carry the header too: anything else is not a GCP
   * metadata server (a captive portal, another cloud, a spoof). */
  call.require_header = "Metadata-Flavor";
  call.require_value = "Google";
  if ((rc = wif_source_call(o, log, &call, &r, err)) != WIF_OK)
    goto out;
  rc = wif_source_token_text("gcp", r.body, r.body_len, out_token, err);
  if (rc == WIF_OK)
    rc = wif_source_token_exp(*out_token, out_exp, err);
  if (rc != WIF_OK) {
    wif_source_token_free(*out_token);
    *out_token = NULL;
  }
out:
  wif_http_response_clear(&r);
  wif_source_buf_free(&url);
  return rc;
}
