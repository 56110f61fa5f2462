/* Azure IMDS managed identity tokens (SECURITY-CASES K1-K3). */
#include <string.h>

#include "source_int.h"

#define AZURE_PATH "/metadata/identity/oauth2/token?api-version=2018-02-01"
/* Azure documents that IMDS comes back within 70 seconds of a 410 (K1);
 * MSAL retries every 10 s, 7 times. */
#define AZURE_GONE_DELAY_MS INT64_C(10000)
#define AZURE_GONE_WINDOW_MS INT64_C(70000)

static wif_rc add_param(struct wif_source_buf *b, const char *name,
                        const char *value) {
  wif_rc rc;

  if (value == NULL)
    return WIF_OK;
  if ((rc = wif_source_buf_str(b, "&")) != WIF_OK ||
      (rc = wif_source_buf_str(b, name)) != WIF_OK ||
      (rc = wif_source_buf_str(b, "=")) != WIF_OK)
    return rc;
  return wif_source_buf_enc(b, value);
}

wif_rc wif_source_azure_fetch(const struct wif_source_opts *o,
                              const struct wif_log *log, char **out_token,
                              int64_t *out_exp, struct wif_error *err) {
  static const char *const headers[] = {"Metadata: true", NULL};
  wif_rc rc = WIF_E_INTERNAL;
  struct wif_source_buf url = {NULL, 0, 0};
  struct wif_source_call call;
  struct wif_http_response r;
  const char *base = o->endpoint ? o->endpoint : WIF_SOURCE_AZURE_ENDPOINT;
  int selectors =
      (o->client_id != NULL) + (o->object_id != NULL) + (o->msi_res_id != NULL);

  memset(&r, 0, sizeof(r));
  if (o->audience == NULL || *o->audience == '\0') {
    rc = wif_error_set(err, WIF_E_CONFIG_INVALID,
                       "azure: an audience (the resource) is required");
    goto out;
  }
  if (selectors > 1) {
    rc = wif_error_set(err, WIF_E_CONFIG_INVALID,
                       "azure: give at most one of client id, object id and "
                       "msi_res_id");
    goto out;
  }
  if ((rc = wif_source_buf_str(&url, base)) != WIF_OK ||
      (rc = wif_source_buf_str(&url, AZURE_PATH)) != WIF_OK ||
      (rc = add_param(&url, "resource", o->audience)) != WIF_OK ||
      (rc = add_param(&url, "client_id", o->client_id)) != WIF_OK ||
      (rc = add_param(&url, "object_id", o->object_id)) != WIF_OK ||
      (rc = add_param(&url, "msi_res_id", o->msi_res_id)) != WIF_OK) {
    rc = wif_error_set(err, rc, "azure: cannot build the request URL");
    goto out;
  }
  memset(&call, 0, sizeof(call));
  call.what = "azure";
  call.req.url = url.p;
  call.req.headers = headers;
  /* IMDS is plain http on a link-local address, never proxied (K3):
   * req.proxy stays NULL and the default endpoint is an IP literal. */
  call.req.allow_http = true;
  call.req.ca_file = o->ca_file;
  call.retry_404 = true;
  call.policy.max_retries = 3;
  call.policy.base_ms = 1000;
  call.policy.max_delay_ms = 8000;
  call.policy.gone_delay_ms = AZURE_GONE_DELAY_MS;
  call.policy.gone_window_ms = AZURE_GONE_WINDOW_MS;
  call.policy.budget_ms =
      wif_source_budget_ms(o, AZURE_GONE_WINDOW_MS + WIF_SOURCE_TIMEOUT_MS);
  if ((rc = wif_source_call(o, log, &call, &r, err)) != WIF_OK)
    goto out;
  rc = wif_source_json_token("azure", r.body, r.body_len, "/access_token",
                             out_token, out_exp, err);
out:
  wif_http_response_clear(&r);
  wif_source_buf_free(&url);
  return rc;
}
