/* SPDX-License-Identifier: Apache-2.0 */
/* Formatting for the injected log sink. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

void wif_log(const struct wif_log *log, int priority, const char *fmt, ...) {
  char line[1024];
  va_list ap;

  if (log == NULL || log->fn == NULL)
    return;
  if (priority == LOG_DEBUG && !log->debug)
    return;
  va_start(ap, fmt);
  (void)vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  log->fn(log->ctx, priority, line);
}

/* quote: `"` is escaped too, for a value inside key="...". */
static void sanitize(const char *in, size_t in_len, char *out, size_t out_size,
                     bool quote) {
  static const char hex[] = "0123456789abcdef";
  size_t o = 0;

  if (out_size == 0)
    return;
  for (size_t i = 0; in != NULL && i < in_len; i++) {
    unsigned char c = (unsigned char)in[i];
    bool plain = c >= 0x20 && c < 0x7f && c != '\\' && !(quote && c == '"');
    size_t need = plain ? 1 : 4;

    /* Keep room for "..." and the NUL when cutting. */
    if (o + need + 4 > out_size) {
      if (o + 4 <= out_size) {
        out[o++] = '.';
        out[o++] = '.';
        out[o++] = '.';
      }
      break;
    }
    if (need == 1) {
      out[o++] = (char)c;
    } else {
      out[o++] = '\\';
      out[o++] = 'x';
      out[o++] = hex[c >> 4];
      out[o++] = hex[c & 0xf];
    }
  }
  out[o] = '\0';
}

void wif_log_sanitize(const char *in, size_t in_len, char *out,
                      size_t out_size) {
  sanitize(in, in_len, out, out_size, false);
}

void wif_log_sanitize_value(const char *in, size_t in_len, char *out,
                            size_t out_size) {
  sanitize(in, in_len, out, out_size, true);
}
