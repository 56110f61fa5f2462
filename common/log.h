/* SPDX-License-Identifier: Apache-2.0 */
/* The injected log sink: syslog in the module, stderr in the CLI. */
#ifndef WIF_LOG_H
#define WIF_LOG_H

#include <stdbool.h>
#include <stddef.h>

/*
 * `priority` is a syslog level (LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG).
 * `msg` is a complete line without a trailing newline, borrowed for the
 * duration of the call.
 */
typedef void (*wif_log_fn)(void *ctx, int priority, const char *msg);

struct wif_log {
  wif_log_fn fn; /* NULL: discard everything */
  void *ctx;
  bool debug; /* LOG_DEBUG lines are dropped unless set */
};

/* Formats and hands one line to the sink. log may be NULL. */
void wif_log(const struct wif_log *log, int priority, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Copies untrusted text (a claim, a kid) into out for logging: printable
 * ASCII is kept, everything else becomes \xHH, and the result is cut with
 * "..." to fit. out is always NUL-terminated when out_size > 0.
 */
void wif_log_sanitize(const char *in, size_t in_len, char *out,
                      size_t out_size);

/* wif_log_sanitize that also turns `"` into \x22, for the value in a
 * key="value" field: a claim cannot end the value early. */
void wif_log_sanitize_value(const char *in, size_t in_len, char *out,
                            size_t out_size);

#endif
