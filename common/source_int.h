/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the source_*.c files; private to common/. */
#ifndef WIF_SOURCE_INT_H
#define WIF_SOURCE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "http.h"
#include "log.h"
#include "retry.h"
#include "source.h"

/* One fetch function per source file; contracts as wif_source_fetch. */
wif_rc wif_source_azure_fetch(const struct wif_source_opts *o,
                              const struct wif_log *log, char **out_token,
                              int64_t *out_exp, struct wif_error *err);
wif_rc wif_source_gcp_fetch(const struct wif_source_opts *o,
                            const struct wif_log *log, char **out_token,
                            int64_t *out_exp, struct wif_error *err);
wif_rc wif_source_github_fetch(const struct wif_source_opts *o,
                               const struct wif_log *log, char **out_token,
                               int64_t *out_exp, struct wif_error *err);
wif_rc wif_source_exec_fetch(const struct wif_source_opts *o,
                             const struct wif_log *log, char **out_token,
                             int64_t *out_exp, struct wif_error *err);
wif_rc wif_source_client_credentials_fetch(const struct wif_source_opts *o,
                                           const struct wif_log *log,
                                           char **out_token, int64_t *out_exp,
                                           struct wif_error *err);

/* A growing string with a hard cap; p is NUL-terminated (or NULL while
 * empty). Wiped on free because it may hold a secret form body. */
struct wif_source_buf {
  char *p;
  size_t len;
  size_t cap;
};

#define WIF_SOURCE_BUF_MAX (64 * 1024)

wif_rc wif_source_buf_add(struct wif_source_buf *b, const char *s, size_t n);
wif_rc wif_source_buf_str(struct wif_source_buf *b, const char *s);
/* Appends s percent-encoded (everything but RFC 3986 unreserved). */
wif_rc wif_source_buf_enc(struct wif_source_buf *b, const char *s);
void wif_source_buf_free(struct wif_source_buf *b);

/* One HTTP exchange with the source's retry schedule. */
struct wif_source_call {
  const char *what;               /* "azure", ... for messages */
  struct wif_http_request req;    /* url must not carry a secret */
  struct wif_retry_policy policy; /* budget_ms filled by the caller */
  bool retry_404;                 /* Azure: identity not yet assigned */
  const char *require_header;     /* response header name, or NULL */
  const char *require_value;      /* its required value */
};

/*
 * Clears c for one exchange named `what`, with the schedule every source
 * retries on (3 retries, 1 s doubling up to 8 s) within o's budget
 * (default_budget_ms, or the sources' default when that is 0).
 */
void wif_source_call_init(struct wif_source_call *c,
                          const struct wif_source_opts *o, const char *what,
                          int64_t default_budget_ms);

/*
 * Performs c->req, retrying as the policy says, and bounds each attempt by
 * the remaining budget. WIF_OK only with a 2xx response in *out (clear it
 * with wif_http_response_clear). Otherwise the transport's code
 * (WIF_E_UNAVAILABLE, ...) or WIF_E_TOKEN_UNAVAILABLE with err naming the
 * status and the JSON error / error_description fields of the body,
 * sanitized.
 */
wif_rc wif_source_call(const struct wif_source_opts *o,
                       const struct wif_log *log, struct wif_source_call *c,
                       struct wif_http_response *out, struct wif_error *err);

/*
 * Frames a token from text: removes one trailing "\n" (or "\r\n"), then
 * requires 1..WIF_TOKEN_MAX bytes of printable ASCII other than space and
 * `\`. *out_token is new (wif_source_token_free).
 */
wif_rc wif_source_token_text(const char *what, const char *text, size_t len,
                             char **out_token, struct wif_error *err);

/* The token's own exp claim, unverified (only to time the cache), in
 * *out_exp; 0 when the token is not a decodable JWT. WIF_E_NOMEM when that
 * cannot be told for lack of memory, so no failure passes as "unknown". */
wif_rc wif_source_token_exp(const char *token, int64_t *out_exp,
                            struct wif_error *err);

/*
 * Reads an OAuth-style JSON answer: the token at JSON pointer `field`
 * ("/access_token", "/value", "/status/token"), and its expiry from
 * `expires_on` (absolute) or `expires_in` (relative), each a number or a
 * string of digits as Azure sends them, or from an RFC 3339 timestamp at
 * `/status/expirationTimestamp`; else from the token's exp claim.
 */
wif_rc wif_source_json_token(const char *what, const char *body, size_t len,
                             const char *field, char **out_token,
                             int64_t *out_exp, struct wif_error *err);

/* Seconds since the epoch. */
int64_t wif_source_now(void);

/* Per exchange timeout and whole-fetch budget of o, with defaults. */
long wif_source_timeout_ms(const struct wif_source_opts *o);
int64_t wif_source_budget_ms(const struct wif_source_opts *o, int64_t def);

#endif
