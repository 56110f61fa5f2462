/* SPDX-License-Identifier: Apache-2.0 */
/* Token sources: option parsing and the helpers they share (no network). */
#include "source.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

#include <openssl/crypto.h>

#include "json.h"
#include "jwt.h"
#include "source_int.h"

#define SOURCE_DEFAULT_BUDGET_MS INT64_C(20000)

void wif_source_opts_init(struct wif_source_opts *o) {
  memset(o, 0, sizeof(*o));
  o->kind = WIF_SOURCE_AZURE;
}

static const struct {
  enum wif_source_kind kind;
  const char *name;
} kinds[] = {
    {WIF_SOURCE_AZURE, "azure"},
    {WIF_SOURCE_GCP, "gcp"},
    {WIF_SOURCE_K8S, "k8s"},
    {WIF_SOURCE_GITHUB, "github"},
    {WIF_SOURCE_FILE, "file"},
    {WIF_SOURCE_EXEC, "exec"},
    {WIF_SOURCE_CLIENT_CREDENTIALS, "client-credentials"},
};

const char *wif_source_kind_name(enum wif_source_kind kind) {
  for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
    if (kinds[i].kind == kind)
      return kinds[i].name;
  return "unknown";
}

wif_rc wif_source_parse(const char *spec, struct wif_source_opts *o,
                        struct wif_error *err) {
  if (spec == NULL || *spec == '\0')
    return wif_error_set(err, WIF_E_CONFIG_INVALID, "no token source given");
  if (strncmp(spec, "file:", 5) == 0) {
    if (spec[5] == '\0')
      return wif_error_set(err, WIF_E_CONFIG_INVALID,
                           "source file: needs a path (file:PATH)");
    o->kind = WIF_SOURCE_FILE;
    o->path = spec + 5;
    return WIF_OK;
  }
  if (strncmp(spec, "exec:", 5) == 0) {
    if (spec[5] == '\0')
      return wif_error_set(err, WIF_E_CONFIG_INVALID,
                           "source exec: needs a command (exec:COMMAND)");
    o->kind = WIF_SOURCE_EXEC;
    o->command = spec + 5;
    return WIF_OK;
  }
  for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
    if (kinds[i].kind == WIF_SOURCE_FILE || kinds[i].kind == WIF_SOURCE_EXEC)
      continue;
    if (strcmp(spec, kinds[i].name) == 0) {
      o->kind = kinds[i].kind;
      return WIF_OK;
    }
  }
  {
    char clean[64];

    wif_log_sanitize(spec, strlen(spec), clean, sizeof(clean));
    return wif_error_set(err, WIF_E_CONFIG_INVALID,
                         "unknown token source \"%s\" (expected azure, gcp, "
                         "k8s, github, file:PATH, exec:COMMAND or "
                         "client-credentials)",
                         clean);
  }
}

static const char *env_nonempty(const char *name) {
  const char *v = secure_getenv(name);

  return v != NULL && *v != '\0' ? v : NULL;
}

void wif_source_opts_from_env(struct wif_source_opts *o) {
  switch (o->kind) {
  case WIF_SOURCE_AZURE:
    /* An endpoint given on the command line means IMDS there; else App
     * Service's variables win, as in Azure's own SDKs. */
    if (o->endpoint == NULL && o->identity_endpoint == NULL) {
      o->identity_endpoint = env_nonempty("IDENTITY_ENDPOINT");
      o->identity_header = env_nonempty("IDENTITY_HEADER");
    }
    if (o->endpoint == NULL && o->identity_endpoint == NULL)
      o->endpoint = env_nonempty("WIF_AZURE_IMDS_ENDPOINT");
    break;
  case WIF_SOURCE_GCP:
    if (o->endpoint == NULL)
      o->endpoint = env_nonempty("WIF_GCP_METADATA_ENDPOINT");
    break;
  case WIF_SOURCE_GITHUB:
    if (o->github_url == NULL)
      o->github_url = env_nonempty("ACTIONS_ID_TOKEN_REQUEST_URL");
    if (o->github_token == NULL)
      o->github_token = env_nonempty("ACTIONS_ID_TOKEN_REQUEST_TOKEN");
    break;
  case WIF_SOURCE_K8S:
    if (o->path == NULL)
      o->path = env_nonempty("AZURE_FEDERATED_TOKEN_FILE");
    if (o->path == NULL)
      o->path = env_nonempty("AWS_WEB_IDENTITY_TOKEN_FILE");
    break;
  case WIF_SOURCE_FILE:
  case WIF_SOURCE_EXEC:
  case WIF_SOURCE_CLIENT_CREDENTIALS:
    break;
  }
}

bool wif_source_is_entra(const char *url) {
  /* Entra ID's public, government and China clouds (and the older
   * aliases of the public one). */
  static const char *const hosts[] = {
      "login.microsoftonline.com", "login.microsoftonline.us",
      "login.chinacloudapi.cn",    "login.partner.microsoftonline.cn",
      "login.microsoftonline.de",  "login.windows.net",
      "login.microsoft.com"};
  const char *h;
  size_t n;

  if (url == NULL || strncasecmp(url, "https://", 8) != 0)
    return false;
  h = url + 8;
  n = strcspn(h, ":/?#");
  if (memchr(h, '@', n) != NULL)
    return false;
  for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++)
    if (strlen(hosts[i]) == n && strncasecmp(h, hosts[i], n) == 0)
      return true;
  /* Entra's v2 path on other hosts (B2C, External ID, a test fake). */
  n = strcspn(h, "?#");
  return n >= 18 && strncmp(h + n - 18, "/oauth2/v2.0/token", 18) == 0;
}

void wif_source_token_free(char *token) {
  if (token == NULL)
    return;
  OPENSSL_cleanse(token, strlen(token));
  free(token);
}

static wif_rc key_field(struct wif_source_buf *b, const char *name,
                        const char *value) {
  wif_rc rc;

  /* Percent-encoding keeps a value from forging a field separator. */
  if ((rc = wif_source_buf_str(b, name)) != WIF_OK ||
      (rc = wif_source_buf_str(b, "=")) != WIF_OK ||
      (rc = wif_source_buf_enc(b, value != NULL ? value : "")) != WIF_OK ||
      (rc = wif_source_buf_str(b, "\n")) != WIF_OK)
    return rc;
  return WIF_OK;
}

wif_rc wif_source_cache_key(const struct wif_source_opts *o, char **out_key,
                            struct wif_error *err) {
  wif_rc rc = WIF_E_NOMEM;
  struct wif_source_buf b = {NULL, 0, 0};

  *out_key = NULL;
  if (o->kind == WIF_SOURCE_FILE || o->kind == WIF_SOURCE_K8S)
    return WIF_OK;
  if ((rc = key_field(&b, "source", wif_source_kind_name(o->kind))) != WIF_OK ||
      (rc = key_field(&b, "audience", o->audience)) != WIF_OK ||
      (rc = key_field(&b, "client_id", o->client_id)) != WIF_OK ||
      (rc = key_field(&b, "object_id", o->object_id)) != WIF_OK ||
      (rc = key_field(&b, "msi_res_id", o->msi_res_id)) != WIF_OK ||
      (rc = key_field(&b, "endpoint", o->endpoint)) != WIF_OK ||
      (rc = key_field(&b, "identity_endpoint", o->identity_endpoint)) !=
          WIF_OK ||
      (rc = key_field(&b, "format", o->gcp_format_full ? "full" : "")) !=
          WIF_OK ||
      (rc = key_field(&b, "service_account", o->gcp_service_account)) !=
          WIF_OK ||
      (rc = key_field(&b, "command", o->command)) != WIF_OK ||
      (rc = key_field(&b, "github_url", o->github_url)) != WIF_OK ||
      (rc = key_field(&b, "token_endpoint", o->token_endpoint)) != WIF_OK ||
      (rc = key_field(&b, "scope", o->scope)) != WIF_OK ||
      (rc = key_field(&b, "resource", o->resource)) != WIF_OK ||
      (rc = key_field(&b, "token_audience", o->token_audience)) != WIF_OK ||
      (rc = key_field(&b, "assertion", o->assertion_file)) != WIF_OK ||
      (rc = key_field(&b, "cert", o->cert_file)) != WIF_OK) {
    wif_source_buf_free(&b);
    return wif_error_set(err, rc, "cannot build the cache key");
  }
  *out_key = b.p;
  return WIF_OK;
}

/* ---- helpers shared by the sources ---- */

wif_rc wif_source_buf_add(struct wif_source_buf *b, const char *s, size_t n) {
  if (n > WIF_SOURCE_BUF_MAX - b->len)
    return WIF_E_TOO_LARGE;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    char *p;

    while (cap < b->len + n + 1)
      cap *= 2;
    /* No realloc: the old buffer may hold a secret and must be wiped. */
    if ((p = malloc(cap)) == NULL)
      return WIF_E_NOMEM;
    if (b->p != NULL) {
      memcpy(p, b->p, b->len);
      OPENSSL_cleanse(b->p, b->cap);
      free(b->p);
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
  return WIF_OK;
}

wif_rc wif_source_buf_str(struct wif_source_buf *b, const char *s) {
  return wif_source_buf_add(b, s, strlen(s));
}

wif_rc wif_source_buf_enc(struct wif_source_buf *b, const char *s) {
  static const char hex[] = "0123456789ABCDEF";
  wif_rc rc = WIF_OK;

  for (; *s != '\0' && rc == WIF_OK; s++) {
    unsigned char c = (unsigned char)*s;

    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
        (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
        c == '~') {
      rc = wif_source_buf_add(b, (const char *)&c, 1);
    } else {
      char e[3] = {'%', hex[c >> 4], hex[c & 0xf]};

      rc = wif_source_buf_add(b, e, 3);
    }
  }
  /* An empty value still needs a buffer to point at. */
  if (rc == WIF_OK && b->p == NULL)
    rc = wif_source_buf_add(b, "", 0);
  return rc;
}

void wif_source_buf_free(struct wif_source_buf *b) {
  if (b->p != NULL) {
    OPENSSL_cleanse(b->p, b->cap);
    free(b->p);
  }
  b->p = NULL;
  b->len = b->cap = 0;
}

int64_t wif_source_now(void) {
  return (int64_t)time(NULL);
}

long wif_source_timeout_ms(const struct wif_source_opts *o) {
  return o->timeout_ms > 0 ? o->timeout_ms : WIF_SOURCE_TIMEOUT_MS;
}

int64_t wif_source_budget_ms(const struct wif_source_opts *o, int64_t def) {
  if (o->budget_ms > 0)
    return o->budget_ms;
  return def > 0 ? def : SOURCE_DEFAULT_BUDGET_MS;
}

/* The URL without its query string, for messages. */
wif_rc wif_source_token_text(const char *what, const char *text, size_t len,
                             char **out_token, struct wif_error *err) {
  char *t;

  *out_token = NULL;
  if (len > 0 && text[len - 1] == '\n') {
    len--;
    if (len > 0 && text[len - 1] == '\r')
      len--;
  }
  if (len == 0)
    return wif_error_set(err, WIF_E_TOKEN_UNAVAILABLE, "%s: empty token", what);
  if (len > WIF_TOKEN_MAX)
    return wif_error_set(err, WIF_E_TOKEN_UNAVAILABLE,
                         "%s: the token is longer than %d bytes", what,
                         WIF_TOKEN_MAX);
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)text[i];

    /* `\` would also break the prompt protocol's part marker. */
    if (c <= 0x20 || c >= 0x7f || c == '\\')
      return wif_error_set(err, WIF_E_TOKEN_UNAVAILABLE,
                           "%s: the token holds a byte that cannot be in a "
                           "token (0x%02x at offset %zu)",
                           what, c, i);
  }
  if ((t = malloc(len + 1)) == NULL)
    return wif_error_set(err, WIF_E_NOMEM, "out of memory");
  memcpy(t, text, len);
  t[len] = '\0';
  *out_token = t;
  return WIF_OK;
}

wif_rc wif_source_token_exp(const char *token, int64_t *out_exp,
                            struct wif_error *err) {
  struct wif_jwt *jwt = NULL;
  struct wif_json_doc *claims = NULL;
  int64_t exp = 0;
  wif_rc rc = WIF_OK;

  *out_exp = 0;
  if (token == NULL)
    return WIF_OK;
  rc = wif_jwt_parse(token, strlen(token), &jwt, NULL);
  if (rc == WIF_OK)
    rc = wif_jwt_claims(jwt, &claims, NULL);
  if (rc == WIF_OK) {
    const struct wif_json *v =
        wif_json_get(claims, wif_json_root(claims), "exp");

    if (v != NULL && wif_json_numeric_date(v, false, &exp) && exp > 0)
      *out_exp = exp;
  }
  wif_json_free(claims);
  wif_jwt_free(jwt);
  if (rc == WIF_E_NOMEM)
    return wif_error_set(err, rc, "out of memory reading the token's exp");
  return WIF_OK;
}

/* A whole number of seconds, as a JSON number or a string of digits. */
static bool json_seconds(const struct wif_json *v, int64_t *out) {
  const char *s;
  size_t len;
  char *end = NULL;
  long long n;

  if (v == NULL)
    return false;
  if (wif_json_int64(v, out))
    return *out >= 0;
  if (!wif_json_string(v, &s, &len) || len == 0 || len > 19 || *s < '0' ||
      *s > '9')
    return false;
  errno = 0;
  n = strtoll(s, &end, 10);
  if (errno != 0 || end != s + len || n < 0)
    return false;
  *out = (int64_t)n;
  return true;
}

static bool digits(const char *s, size_t n, int *out) {
  int v = 0;

  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

/* RFC 3339 "2026-01-01T00:00:00[.frac](Z|+hh:mm|-hh:mm)". */
static bool rfc3339(const char *s, size_t len, int64_t *out) {
  struct tm tm;
  int y, mo, d, h, mi, sec, oh = 0, om = 0;
  size_t i = 19;
  time_t t;
  int64_t off = 0;

  memset(&tm, 0, sizeof(tm));
  if (len < 20 || s[4] != '-' || s[7] != '-' ||
      (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':' ||
      !digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) ||
      !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) ||
      !digits(s + 17, 2, &sec))
    return false;
  if (s[i] == '.') {
    for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
      ;
  }
  if (i < len && (s[i] == 'Z' || s[i] == 'z') && i + 1 == len) {
    off = 0;
  } else if (i + 6 == len && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':' &&
             digits(s + i + 1, 2, &oh) && digits(s + i + 4, 2, &om) &&
             oh < 24 && om < 60) {
    off = (int64_t)(oh * 3600 + om * 60) * (s[i] == '+' ? 1 : -1);
  } else {
    return false;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
    return false;
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  if ((t = timegm(&tm)) == (time_t)-1)
    return false;
  *out = (int64_t)t - off;
  return true;
}

wif_rc wif_source_json_token(const char *what, const char *body, size_t len,
                             const char *field, char **out_token,
                             int64_t *out_exp, struct wif_error *err) {
  wif_rc rc = WIF_E_TOKEN_UNAVAILABLE;
  struct wif_json_doc *doc = NULL;
  const struct wif_json *root;
  const struct wif_json *v;
  const char *s = NULL;
  size_t slen = 0;
  int64_t n = 0;
  int64_t exp = 0;
  char *token = NULL;

  *out_token = NULL;
  *out_exp = 0;
  if (wif_json_parse(body, len, 8, &doc, NULL) != WIF_OK) {
    rc = wif_error_set(err, WIF_E_TOKEN_UNAVAILABLE,
                       "%s: the answer is not valid JSON", what);
    goto out;
  }
  root = wif_json_root(doc);
  v = wif_json_pointer(doc, root, field);
  if (v == NULL || !wif_json_string(v, &s, &slen)) {
    rc = wif_error_set(err, WIF_E_TOKEN_UNAVAILABLE,
                       "%s: the answer has no string \"%s\"", what, field + 1);
    goto out;
  }
  if ((rc = wif_source_token_text(what, s, slen, &token, err)) != WIF_OK)
    goto out;
  /* Absolute first (expires_on, ExecCredential's timestamp), then
   * relative, then the token's own claim. */
  v = wif_json_pointer(doc, root, "/status/expirationTimestamp");
  if ((json_seconds(wif_json_get(doc, root, "expires_on"), &n) && n > 0) ||
      (v != NULL && wif_json_string(v, &s, &slen) && rfc3339(s, slen, &n)))
    exp = n;
  else if (json_seconds(wif_json_get(doc, root, "expires_in"), &n))
    exp = wif_source_now() + n;
  else if ((rc = wif_source_token_exp(token, &exp, err)) != WIF_OK)
    goto out;
  *out_token = token;
  *out_exp = exp;
  token = NULL;
  rc = WIF_OK;
out:
  wif_source_token_free(token);
  wif_json_free(doc);
  return rc;
}
