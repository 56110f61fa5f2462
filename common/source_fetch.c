/* SPDX-License-Identifier: Apache-2.0 */
/* Token sources: the dispatch, and one HTTP exchange with retries. Part of
 * the network side: linked into pam_wif-helper and wifctl, never into the
 * PAM module. */
#include "source.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "json.h"
#include "source_int.h"

#define SOURCE_MSG_FIELD_MAX 200

wif_rc wif_source_fetch(const struct wif_source_opts *o,
                        const struct wif_log *log, char **out_token,
                        int64_t *out_exp, struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;
  char *token = NULL;
  int64_t exp = 0;

  if (out_token != NULL)
    *out_token = NULL;
  if (out_exp != NULL)
    *out_exp = 0;
  if (o == NULL || out_token == NULL || out_exp == NULL)
    return wif_error_set(err, WIF_E_INTERNAL, "wif_source_fetch: bad call");
  switch (o->kind) {
  case WIF_SOURCE_AZURE:
    rc = wif_source_azure_fetch(o, log, &token, &exp, err);
    break;
  case WIF_SOURCE_GCP:
    rc = wif_source_gcp_fetch(o, log, &token, &exp, err);
    break;
  case WIF_SOURCE_GITHUB:
    rc = wif_source_github_fetch(o, log, &token, &exp, err);
    break;
  case WIF_SOURCE_K8S:
  case WIF_SOURCE_FILE:
    rc = wif_source_file_fetch(o, log, &token, &exp, err);
    break;
  case WIF_SOURCE_EXEC:
    rc = wif_source_exec_fetch(o, log, &token, &exp, err);
    break;
  case WIF_SOURCE_CLIENT_CREDENTIALS:
    rc = wif_source_client_credentials_fetch(o, log, &token, &exp, err);
    break;
  default:
    rc = wif_error_set(err, WIF_E_INTERNAL, "unknown source kind");
    break;
  }
  if (rc != WIF_OK) {
    wif_source_token_free(token);
    return rc;
  }
  wif_log(log, LOG_DEBUG, "%s: obtained a token of %zu bytes, exp %lld",
          wif_source_kind_name(o->kind), strlen(token), (long long)exp);
  *out_token = token;
  *out_exp = exp;
  return WIF_OK;
}

static void url_for_message(const char *url, char *out, size_t size) {
  size_t n = strcspn(url, "?#");

  wif_log_sanitize(url, n, out, size);
}

/* "error: description" from an OAuth / Azure / GitHub error body. */
static void error_fields(const struct wif_http_response *r, char *out,
                         size_t size) {
  struct wif_json_doc *doc = NULL;
  static const char *const names[] = {"error", "error_description", "message"};
  size_t o = 0;

  out[0] = '\0';
  if (r->body == NULL || r->body_len == 0 ||
      wif_json_parse(r->body, r->body_len, 4, &doc, NULL) != WIF_OK)
    return;
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    const struct wif_json *v = wif_json_get(doc, wif_json_root(doc), names[i]);
    const char *s;
    size_t len;
    char clean[SOURCE_MSG_FIELD_MAX];

    if (v == NULL || !wif_json_string(v, &s, &len) || len == 0)
      continue;
    wif_log_sanitize(s, len, clean, sizeof(clean));
    if (o + 3 + strlen(clean) >= size)
      break;
    if (o > 0) {
      memcpy(out + o, ": ", 2);
      o += 2;
    }
    memcpy(out + o, clean, strlen(clean));
    o += strlen(clean);
    out[o] = '\0';
  }
  wif_json_free(doc);
}

static bool header_is(const struct wif_http_response *r, const char *name,
                      const char *value) {
  const char *v = wif_http_header(r, name);
  size_t n = strlen(value);

  if (v == NULL || strncmp(v, value, n) != 0)
    return false;
  /* Trailing whitespace (or the CR of the header line) is not content. */
  for (v += n; *v != '\0'; v++)
    if (*v != ' ' && *v != '\t' && *v != '\r' && *v != '\n')
      return false;
  return true;
}

void wif_source_call_init(struct wif_source_call *c,
                          const struct wif_source_opts *o, const char *what,
                          int64_t default_budget_ms) {
  memset(c, 0, sizeof(*c));
  c->what = what;
  c->policy.max_retries = 3;
  c->policy.base_ms = 1000;
  c->policy.max_delay_ms = 8000;
  c->policy.budget_ms = wif_source_budget_ms(o, default_budget_ms);
}

wif_rc wif_source_call(const struct wif_source_opts *o,
                       const struct wif_log *log, struct wif_source_call *c,
                       struct wif_http_response *out, struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;
  struct wif_retry retry;
  struct wif_http_response r;
  char where[160];

  memset(out, 0, sizeof(*out));
  memset(&r, 0, sizeof(r));
  url_for_message(c->req.url, where, sizeof(where));
  wif_retry_start(&retry, &c->policy, o->clock);
  for (;;) {
    int64_t left = wif_retry_remaining_ms(&retry);
    long timeout = wif_source_timeout_ms(o);
    enum wif_retry_kind kind = WIF_RETRY_BACKOFF;
    int64_t after = -1;
    int64_t delay = 0;
    char detail[2 * SOURCE_MSG_FIELD_MAX + 8];

    if (left <= 0) {
      rc = wif_error_set(err, WIF_E_UNAVAILABLE,
                         "%s: no answer from %s within %lld ms", c->what, where,
                         (long long)c->policy.budget_ms);
      goto out;
    }
    if ((int64_t)timeout > left)
      timeout = (long)left;
    c->req.timeout_ms = timeout;
    wif_http_response_clear(&r);
    rc = wif_http_perform(&c->req, &r, err);
    if (rc != WIF_OK) {
      /* A host that does not answer is not retried (K7): off the cloud
       * every retry would cost another full timeout. */
      if (err != NULL) {
        char msg[WIF_ERROR_MSG_MAX];

        memcpy(msg, err->msg, sizeof(msg));
        (void)wif_error_set(err, rc, "%s: %s", c->what, msg);
      }
      goto out;
    }
    if (c->require_header != NULL &&
        !header_is(&r, c->require_header, c->require_value)) {
      rc = wif_error_set(err, WIF_E_TOKEN_UNAVAILABLE,
                         "%s: HTTP %ld from %s without \"%s: %s\": not a "
                         "metadata server",
                         c->what, r.status, where, c->require_header,
                         c->require_value);
      goto out;
    }
    if (r.status >= 200 && r.status < 300) {
      *out = r;
      memset(&r, 0, sizeof(r));
      rc = WIF_OK;
      goto out;
    }
    error_fields(&r, detail, sizeof(detail));
    if (r.status == 410 && c->policy.gone_delay_ms > 0) {
      kind = WIF_RETRY_GONE;
    } else if (r.status == 429 || r.status >= 500 ||
               (r.status == 404 && c->retry_404)) {
      kind = WIF_RETRY_BACKOFF;
      if (r.status == 429 || r.status == 503)
        (void)wif_retry_parse_after(wif_http_header(&r, "Retry-After"), &after);
    } else {
      rc = wif_error_set(err, WIF_E_TOKEN_UNAVAILABLE,
                         "%s: HTTP %ld from %s%s%s", c->what, r.status, where,
                         detail[0] ? ": " : "", detail);
      goto out;
    }
    if (!wif_retry_wait(&retry, kind, after, &delay)) {
      rc = wif_error_set(
          err, WIF_E_TOKEN_UNAVAILABLE,
          "%s: HTTP %ld from %s%s%s (gave up after %u "
          "retries, %lld ms)",
          c->what, r.status, where, detail[0] ? ": " : "", detail,
          retry.retries,
          (long long)(c->policy.budget_ms - wif_retry_remaining_ms(&retry)));
      goto out;
    }
    wif_log(log, LOG_DEBUG, "%s: HTTP %ld from %s, retried after %lld ms",
            c->what, r.status, where, (long long)delay);
  }
out:
  wif_http_response_clear(&r);
  return rc;
}
