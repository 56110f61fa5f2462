/* SPDX-License-Identifier: Apache-2.0 */
/* libcurl transport: the only code that talks to the network. */
#include "http.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "dynbuf.h"
#include "log.h"

#define DEFAULT_TIMEOUT_MS 5000L
#define CONNECT_TIMEOUT_MAX_MS 3000L
#define HEADER_LINE_MAX 8192 /* longer response header lines are dropped */
#define URL_SHOWN_MAX 256

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static CURLcode init_result = CURLE_FAILED_INIT;
static bool initialized;

/* Once per process, never cleaned up. Only the helper and
 * wifctl link this file: the PAM module holds no network code. */
static void global_init(void) {
  init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
  initialized = init_result == CURLE_OK;
}

bool wif_http_initialized(void) {
  return initialized;
}

/* What the callbacks fill while the transfer runs. The body is a
 * secret's buffer: a token endpoint's answer holds a token. */
struct xfer {
  struct wif_http_response *r;
  struct wif_dynbuf body;
  size_t max_body;
  bool nomem; /* a header line could not be kept */
};

/*
 * The cap is enforced here because CURLOPT_MAXFILESIZE does not cover a
 * chunked body on libcurl before 8.4.0 (Debian 12 ships 7.88).
 * Returning short aborts the transfer with CURLE_WRITE_ERROR; the buffer
 * remembers why.
 */
static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx) {
  struct xfer *x = ctx;
  size_t n = size * nmemb;

  if (size != 0 && n / size != nmemb)
    return 0;
  if (wif_dynbuf_add(&x->body, data, n) != WIF_OK)
    return 0;
  return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ctx) {
  struct xfer *x = ctx;
  struct wif_http_response *r = x->r;
  size_t n = size * nmemb;
  size_t len = n;
  char *line;

  if (size != 0 && n / size != nmemb)
    return 0;
  while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
    len--;
  /* A status line starts a new response (after 100 Continue, or a
   * proxy's CONNECT answer): only the last response's headers count. */
  if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
    wif_http_headers_clear(r);
    return n;
  }
  if (len == 0 || len > HEADER_LINE_MAX ||
      r->n_headers >= WIF_HTTP_HEADERS_MAX || memchr(data, ':', len) == NULL)
    return n;
  line = malloc(len + 1);
  if (line == NULL) {
    x->nomem = true;
    return 0;
  }
  memcpy(line, data, len);
  line[len] = '\0';
  r->headers[r->n_headers++] = line;
  return n;
}

/* The URL for messages: no query string or fragment (they may carry an
 * audience or a secret), no user info, untrusted bytes escaped. */
static void shown_url(const char *url, char *out, size_t size) {
  char tmp[URL_SHOWN_MAX];
  size_t len = strcspn(url, "?#");
  const char *host = strstr(url, "://");
  const char *at;

  if (host != NULL) {
    host += 3;
    at = memchr(host, '@', (size_t)(url + len - host));
    if (at != NULL && (size_t)(at - host) < strcspn(host, "/")) {
      size_t scheme = (size_t)(host - url);

      if (scheme + len - (size_t)(at + 1 - url) < sizeof(tmp)) {
        memcpy(tmp, url, scheme);
        memcpy(tmp + scheme, at + 1, len - (size_t)(at + 1 - url));
        wif_log_sanitize(tmp, scheme + len - (size_t)(at + 1 - url), out, size);
        return;
      }
    }
  }
  wif_log_sanitize(url, len, out, size);
}

static bool has_scheme(const char *url, const char *scheme) {
  size_t n = strlen(scheme);

  return strncasecmp(url, scheme, n) == 0 && url[n] != '\0';
}

static bool header_ok(const char *h) {
  return h[0] != '\0' && strchr(h, ':') != NULL && strpbrk(h, "\r\n") == NULL;
}

/* Applies every option; a failure here is a bug or an old libcurl. */
static CURLcode configure(CURL *curl, const struct wif_http_request *req,
                          struct xfer *x, struct curl_slist *headers,
                          char *errbuf) {
  const char *protocols = req->allow_http ? "http,https" : "https";
  long timeout = req->timeout_ms > 0 ? req->timeout_ms : DEFAULT_TIMEOUT_MS;
  long connect = req->connect_timeout_ms > 0        ? req->connect_timeout_ms
                 : timeout < CONNECT_TIMEOUT_MAX_MS ? timeout
                                                    : CONNECT_TIMEOUT_MAX_MS;
  CURLcode c = CURLE_OK;

#define SET(opt, val)                                                          \
  do {                                                                         \
    if ((c = curl_easy_setopt(curl, opt, val)) != CURLE_OK)                    \
      return c;                                                                \
  } while (0)
  SET(CURLOPT_ERRORBUFFER, errbuf);
  SET(CURLOPT_URL, req->url);
  SET(CURLOPT_PROTOCOLS_STR, protocols);
  SET(CURLOPT_REDIR_PROTOCOLS_STR, protocols);
  SET(CURLOPT_FOLLOWLOCATION, 0L);
  SET(CURLOPT_MAXREDIRS, 0L);
  SET(CURLOPT_SSL_VERIFYPEER, 1L);
  SET(CURLOPT_SSL_VERIFYHOST, 2L);
  SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
  if (req->ca_pem != NULL) {
    /* The anchor as read and checked by the caller: no second open of a
     * path that may have changed since. */
    struct curl_blob blob = {(void *)(uintptr_t)req->ca_pem, req->ca_pem_len,
                             CURL_BLOB_COPY};

    SET(CURLOPT_CAINFO_BLOB, &blob);
    SET(CURLOPT_CAPATH, (const char *)NULL);
  } else if (req->ca_file != NULL) {
    /* The anchor alone: the system directory is not added. */
    SET(CURLOPT_CAINFO, req->ca_file);
    SET(CURLOPT_CAPATH, (const char *)NULL);
  }
  /* "" disables proxies, including http_proxy and friends from the
   * environment of sshd, su or sudo. */
  SET(CURLOPT_PROXY, req->proxy != NULL ? req->proxy : "");
  SET(CURLOPT_NOPROXY, "");
  SET(CURLOPT_NOSIGNAL, 1L);
  SET(CURLOPT_TIMEOUT_MS, timeout);
  SET(CURLOPT_CONNECTTIMEOUT_MS, connect < timeout ? connect : timeout);
  /* The answer is taken as sent: no gzip bomb can inflate. */
  SET(CURLOPT_ACCEPT_ENCODING, (const char *)NULL);
  SET(CURLOPT_HTTP_CONTENT_DECODING, 0L);
  SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->max_body);
  SET(CURLOPT_WRITEFUNCTION, on_body);
  SET(CURLOPT_WRITEDATA, x);
  SET(CURLOPT_HEADERFUNCTION, on_header);
  SET(CURLOPT_HEADERDATA, x);
  SET(CURLOPT_USERAGENT, "pam_wif");
  if (headers != NULL)
    SET(CURLOPT_HTTPHEADER, headers);
  if (req->method != NULL && strcmp(req->method, "POST") == 0) {
    SET(CURLOPT_POST, 1L);
    SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    SET(CURLOPT_POSTFIELDS, req->body != NULL ? req->body : "");
  } else {
    SET(CURLOPT_HTTPGET, 1L);
  }
#undef SET
  return c;
}

static wif_rc transfer_failed(CURLcode c, const struct xfer *x, const char *url,
                              long timeout, const char *errbuf,
                              struct wif_error *err) {
  const char *why = errbuf[0] ? errbuf : curl_easy_strerror(c);
  char reason[CURL_ERROR_SIZE];

  if (x->nomem || x->body.failed == WIF_E_NOMEM || c == CURLE_OUT_OF_MEMORY)
    return wif_error_set(err, WIF_E_NOMEM, "%s: out of memory", url);
  if (x->body.failed == WIF_E_TOO_LARGE || c == CURLE_FILESIZE_EXCEEDED)
    return wif_error_set(err, WIF_E_TOO_LARGE,
                         "%s: the response is larger than %zu bytes", url,
                         x->max_body);
  if (c == CURLE_OPERATION_TIMEDOUT)
    return wif_error_set(err, WIF_E_UNAVAILABLE, "%s: no answer within %ld ms",
                         url, timeout);
  wif_log_sanitize(why, strlen(why), reason, sizeof(reason));
  return wif_error_set(err, WIF_E_UNAVAILABLE, "%s: %s", url, reason);
}

wif_rc wif_http_perform(const struct wif_http_request *req,
                        struct wif_http_response *out, struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;
  struct wif_http_response resp;
  struct xfer x;
  struct curl_slist *headers = NULL;
  char errbuf[CURL_ERROR_SIZE];
  char url[URL_SHOWN_MAX];
  CURL *curl = NULL;
  CURLcode c;

  memset(&resp, 0, sizeof(resp));
  memset(&x, 0, sizeof(x));
  errbuf[0] = '\0';
  if (out != NULL)
    memset(out, 0, sizeof(*out));
  if (req == NULL || req->url == NULL || out == NULL ||
      (req->body == NULL && req->body_len > 0)) {
    rc = wif_error_set(err, WIF_E_INTERNAL, "wif_http_perform: bad call");
    goto out;
  }
  shown_url(req->url, url, sizeof(url));
  if (!has_scheme(req->url, "https://") &&
      !(req->allow_http && has_scheme(req->url, "http://"))) {
    rc = wif_error_set(err, WIF_E_CONFIG_INVALID,
                       "%s: only https:// URLs are allowed", url);
    goto out;
  }
  if (req->method != NULL && strcmp(req->method, "GET") != 0 &&
      strcmp(req->method, "POST") != 0) {
    rc = wif_error_set(err, WIF_E_INTERNAL, "%s: method not supported", url);
    goto out;
  }
  x.r = &resp;
  x.max_body = req->max_body > 0 ? req->max_body : WIF_HTTP_BODY_MAX;
  if (x.max_body >= SIZE_MAX / 2) {
    rc = wif_error_set(err, WIF_E_INTERNAL, "wif_http_perform: bad call");
    goto out;
  }
  wif_dynbuf_init(&x.body, x.max_body, true);
  if (pthread_once(&init_once, global_init) != 0 || init_result != CURLE_OK) {
    rc = wif_error_set(err, WIF_E_SYSTEM, "libcurl cannot be initialised");
    goto out;
  }
  for (size_t i = 0; req->headers != NULL && req->headers[i] != NULL; i++) {
    struct curl_slist *n;

    if (!header_ok(req->headers[i])) {
      rc = wif_error_set(err, WIF_E_INTERNAL, "%s: malformed request header",
                         url);
      goto out;
    }
    if ((n = curl_slist_append(headers, req->headers[i])) == NULL) {
      rc = wif_error_set(err, WIF_E_NOMEM, "%s: out of memory", url);
      goto out;
    }
    headers = n;
  }

  if ((curl = curl_easy_init()) == NULL) {
    rc = wif_error_set(err, WIF_E_NOMEM, "%s: cannot create a transfer", url);
    goto out;
  }
  if ((c = configure(curl, req, &x, headers, errbuf)) != CURLE_OK) {
    rc = wif_error_set(err, WIF_E_INTERNAL, "%s: libcurl refused an option: %s",
                       url, curl_easy_strerror(c));
    goto out;
  }
  c = curl_easy_perform(curl);
  if (c != CURLE_OK) {
    rc = transfer_failed(
        c, &x, url, req->timeout_ms > 0 ? req->timeout_ms : DEFAULT_TIMEOUT_MS,
        errbuf, err);
    goto out;
  }
  if (curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp.status) !=
      CURLE_OK) {
    rc = wif_error_set(err, WIF_E_INTERNAL, "%s: no status code", url);
    goto out;
  }
  /* An empty body is still a NUL-terminated string for the caller. */
  if (wif_dynbuf_take(&x.body, &resp.body, &resp.body_len) != WIF_OK) {
    rc = wif_error_set(err, WIF_E_NOMEM, "%s: out of memory", url);
    goto out;
  }
  *out = resp;
  memset(&resp, 0, sizeof(resp));
  rc = WIF_OK;
out:
  wif_dynbuf_free(&x.body);
  wif_http_response_clear(&resp);
  if (curl != NULL)
    curl_easy_cleanup(curl);
  if (headers != NULL)
    curl_slist_free_all(headers);
  return rc;
}

wif_rc wif_http_transport(void *ctx, const struct wif_http_request *req,
                          struct wif_http_response *out,
                          struct wif_error *err) {
  (void)ctx;
  return wif_http_perform(req, out, err);
}
