/* SPDX-License-Identifier: Apache-2.0 */
/* HTTPS transport (libcurl): the only code that talks to the network.
 * wif_http_perform lives on the network side (pam_wif-helper and
 * wifctl); the PAM module links only the response helpers. */
#ifndef WIF_HTTP_H
#define WIF_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define WIF_HTTP_BODY_MAX (1024 * 1024)
#define WIF_HTTP_HEADERS_MAX 64 /* response header lines kept */

/*
 * One request. Every exchange has peer and host verification on, follows
 * no redirect, ignores proxy variables in the environment, sets
 * CURLOPT_NOSIGNAL, restricts protocols to https (or http too when
 * allow_http is set, for link-local metadata services), and enforces
 * max_body while reading (a larger body aborts the transfer).
 */
struct wif_http_request {
  const char *url;
  const char *method;         /* "GET" (NULL) or "POST" */
  const char *const *headers; /* NULL-terminated "Name: value" lines */
  const char *body;           /* POST body, body_len bytes */
  size_t body_len;
  bool allow_http;     /* plain http allowed (metadata services) */
  const char *ca_file; /* NULL: the system trust store */
  const char *ca_pem;  /* or the anchor itself, ca_pem_len bytes of
                          PEM already read and checked by the caller */
  size_t ca_pem_len;
  const char *proxy;       /* NULL: direct, whatever the environment */
  long timeout_ms;         /* whole exchange; 0: 5000 */
  long connect_timeout_ms; /* 0: min(timeout, 3000) */
  size_t max_body;         /* 0: WIF_HTTP_BODY_MAX */
};

/* A response of any status. Owned strings; free with
 * wif_http_response_clear. */
struct wif_http_response {
  long status;
  char *body; /* NUL-terminated, body_len bytes; wiped on clear */
  size_t body_len;
  char *headers[WIF_HTTP_HEADERS_MAX]; /* "Name: value", in order */
  size_t n_headers;
};

/*
 * Performs the request. WIF_OK when a complete response arrived, whatever
 * its status (the caller judges the status). WIF_E_UNAVAILABLE for
 * connection, TLS, DNS and timeout failures, WIF_E_TOO_LARGE when the body
 * passes max_body, WIF_E_CONFIG_INVALID for a URL whose scheme is not
 * allowed. err names the URL (without its query string) and curl's reason.
 * libcurl is initialised once per process, on the first call only, and
 * never cleaned up.
 */
wif_rc wif_http_perform(const struct wif_http_request *req,
                        struct wif_http_response *out, struct wif_error *err);

/* wif_http_perform in the shape of a key cache transport (jwks_cache.h
 * wif_http_fn); ctx is unused. */
wif_rc wif_http_transport(void *ctx, const struct wif_http_request *req,
                          struct wif_http_response *out, struct wif_error *err);

/* Value of the first header called name (case-insensitive), leading
 * whitespace skipped; NULL when absent. Borrowed from r. */
const char *wif_http_header(const struct wif_http_response *r,
                            const char *name);

void wif_http_response_clear(struct wif_http_response *r);

/* Frees the header lines only. */
void wif_http_headers_clear(struct wif_http_response *r);

/* True once libcurl has been initialised in this process (tests assert
 * that a warm cache never touches the network). */
bool wif_http_initialized(void);

#endif
