/* SPDX-License-Identifier: Apache-2.0 */
/* Azure managed identity tokens: IMDS (SECURITY-CASES K1-K3) and the local
 * identity endpoint of App Service, Functions and Container Apps. */
#include <string.h>
#include <strings.h>

#include "source_int.h"

#define AZURE_PATH "/metadata/identity/oauth2/token?api-version=2018-02-01"
#define APPSVC_API "api-version=2019-08-01"
#define APPSVC_HEADER "X-IDENTITY-HEADER: "
#define APPSVC_HEADER_MAX 1024
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

/*
 * The App Service endpoint gets a secret header over plain http: only to
 * this machine (the platform runs it on loopback), or over https. The
 * host is read from "http://HOST[:PORT]/..." without userinfo.
 */
static bool appsvc_url_ok(const char *url) {
  static const char *const local[] = {"127.0.0.1", "localhost", "[::1]"};
  const char *h;
  size_t n;

  if (strncasecmp(url, "https://", 8) == 0)
    return url[8] != '\0';
  if (strncasecmp(url, "http://", 7) != 0)
    return false;
  h = url + 7;
  n = strcspn(h, ":/?#");
  if (h[0] == '[')
    n = strcspn(h, "]") + 1;
  if (memchr(h, '@', strcspn(h, "/?#")) != NULL)
    return false;
  if (h[n] != '\0' && h[n] != ':' && h[n] != '/' && h[n] != '?')
    return false;
  for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++)
    if (strlen(local[i]) == n && strncasecmp(h, local[i], n) == 0)
      return true;
  return false;
}

static bool header_value_ok(const char *v) {
  size_t n = strlen(v);

  if (n == 0 || n > APPSVC_HEADER_MAX)
    return false;
  /* Printable ASCII: a CR or LF would forge another header line. */
  for (; *v != '\0'; v++)
    if ((unsigned char)*v < 0x20 || (unsigned char)*v >= 0x7f)
      return false;
  return true;
}

wif_rc wif_source_azure_fetch(const struct wif_source_opts *o,
                              const struct wif_log *log, char **out_token,
                              int64_t *out_exp, struct wif_error *err) {
  static const char *const imds_headers[] = {"Metadata: true",
                                             "Accept: application/json", NULL};
  const char *appsvc_headers[3] = {"Accept: application/json", NULL, NULL};
  wif_rc rc = WIF_E_INTERNAL;
  struct wif_source_buf url = {NULL, 0, 0};
  struct wif_source_buf hdr = {NULL, 0, 0};
  struct wif_source_call call;
  struct wif_http_response r;
  const char *base = o->endpoint ? o->endpoint : WIF_SOURCE_AZURE_ENDPOINT;
  bool appsvc = o->endpoint == NULL && o->identity_endpoint != NULL;
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
  if (appsvc && o->identity_header == NULL) {
    /* Azure Arc sets IDENTITY_ENDPOINT alone and answers with a challenge
     * file only root and himds may read: not supported. */
    rc = wif_error_set(err, WIF_E_CONFIG_INVALID,
                       "azure: IDENTITY_ENDPOINT is set without "
                       "IDENTITY_HEADER (Azure Arc?): Azure Arc's managed "
                       "identity is not supported; use --source exec: with "
                       "a program that gets the token, or --endpoint for "
                       "IMDS");
    goto out;
  }
  if (appsvc && !appsvc_url_ok(o->identity_endpoint)) {
    rc = wif_error_set(err, WIF_E_CONFIG_INVALID,
                       "azure: IDENTITY_ENDPOINT must be http on this "
                       "machine (127.0.0.1, localhost, [::1]) or https: the "
                       "request carries IDENTITY_HEADER");
    goto out;
  }
  if (appsvc && !header_value_ok(o->identity_header)) {
    rc = wif_error_set(err, WIF_E_CONFIG_INVALID,
                       "azure: IDENTITY_HEADER must be 1..%d printable "
                       "characters",
                       APPSVC_HEADER_MAX);
    goto out;
  }
  if (appsvc) {
    /* App Service's 2019-08-01 names the selectors principal_id and
     * mi_res_id. */
    if ((rc = wif_source_buf_str(&url, o->identity_endpoint)) != WIF_OK ||
        (rc = wif_source_buf_str(
             &url, strchr(o->identity_endpoint, '?') ? "&" : "?")) != WIF_OK ||
        (rc = wif_source_buf_str(&url, APPSVC_API)) != WIF_OK ||
        (rc = add_param(&url, "resource", o->audience)) != WIF_OK ||
        (rc = add_param(&url, "client_id", o->client_id)) != WIF_OK ||
        (rc = add_param(&url, "principal_id", o->object_id)) != WIF_OK ||
        (rc = add_param(&url, "mi_res_id", o->msi_res_id)) != WIF_OK ||
        (rc = wif_source_buf_str(&hdr, APPSVC_HEADER)) != WIF_OK ||
        (rc = wif_source_buf_str(&hdr, o->identity_header)) != WIF_OK) {
      rc = wif_error_set(err, rc, "azure: cannot build the request");
      goto out;
    }
    appsvc_headers[1] = hdr.p;
  } else if ((rc = wif_source_buf_str(&url, base)) != WIF_OK ||
             (rc = wif_source_buf_str(&url, AZURE_PATH)) != WIF_OK ||
             (rc = add_param(&url, "resource", o->audience)) != WIF_OK ||
             (rc = add_param(&url, "client_id", o->client_id)) != WIF_OK ||
             (rc = add_param(&url, "object_id", o->object_id)) != WIF_OK ||
             (rc = add_param(&url, "msi_res_id", o->msi_res_id)) != WIF_OK) {
    rc = wif_error_set(err, rc, "azure: cannot build the request URL");
    goto out;
  }
  wif_source_call_init(&call, o, appsvc ? "azure (App Service)" : "azure",
                       appsvc ? 0
                              : AZURE_GONE_WINDOW_MS + WIF_SOURCE_TIMEOUT_MS);
  call.req.url = url.p;
  call.req.headers = appsvc ? appsvc_headers : imds_headers;
  /* IMDS is plain http on a link-local address, never proxied (K3):
   * req.proxy stays NULL and the default endpoint is an IP literal. The
   * App Service endpoint is http on loopback (checked above). */
  call.req.allow_http = true;
  call.req.ca_file = o->ca_file;
  call.retry_404 = true;
  if (!appsvc) {
    call.policy.gone_delay_ms = AZURE_GONE_DELAY_MS;
    call.policy.gone_window_ms = AZURE_GONE_WINDOW_MS;
  }
  if ((rc = wif_source_call(o, log, &call, &r, err)) != WIF_OK)
    goto out;
  rc = wif_source_json_token(call.what, r.body, r.body_len, "/access_token",
                             out_token, out_exp, err);
out:
  wif_http_response_clear(&r);
  wif_source_buf_free(&hdr);
  wif_source_buf_free(&url);
  return rc;
}
