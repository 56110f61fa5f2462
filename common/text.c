/* SPDX-License-Identifier: Apache-2.0 */
/* Small text helpers shared by the line-oriented file parsers, and the
 * hex of hashed file names and tags. */
#include "text.h"

#include <string.h>

void wif_text_hex(const unsigned char *in, size_t n, char *out) {
  static const char digits[] = "0123456789abcdef";

  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 0xf];
  }
  out[2 * n] = '\0';
}

const char *wif_text_skip_prefix(const char *s, const char *prefix) {
  size_t n = strlen(prefix);

  if (s == NULL || strncmp(s, prefix, n) != 0)
    return NULL;
  return s + n;
}

bool wif_text_utf8_valid(const unsigned char *s, size_t n) {
  size_t i = 0;

  while (i < n) {
    unsigned char c = s[i];
    size_t len;
    unsigned cp;

    if (c < 0x80) {
      i++;
      continue;
    }
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07u;
    } else {
      return false;
    }
    if (n - i < len)
      return false;
    for (size_t j = 1; j < len; j++) {
      if ((s[i + j] & 0xC0) != 0x80)
        return false;
      cp = (cp << 6) | (s[i + j] & 0x3Fu);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += len;
  }
  return true;
}

const char *wif_text_quote(const char *s, char *buf, size_t size) {
  size_t n = strlen(s);

  if (n < size && n <= WIF_TEXT_QUOTE_MAX)
    return s;
  n = WIF_TEXT_QUOTE_MAX < size - 4 ? WIF_TEXT_QUOTE_MAX : size - 4;
  while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
    n--;
  memcpy(buf, s, n);
  memcpy(buf + n, "...", 4);
  return buf;
}

wif_rc wif_text_next_line(const char *text, size_t len, size_t *pos, size_t max,
                          char *line, struct wif_error *err) {
  const char *start = text + *pos;
  const char *nl = memchr(start, '\n', len - *pos);
  size_t n = nl != NULL ? (size_t)(nl - start) : len - *pos;

  *pos += n + (nl != NULL ? 1 : 0);
  if (n > max)
    return wif_error_set(err, WIF_E_CONFIG_INVALID,
                         "line is longer than %zu bytes", max);
  if (memchr(start, '\0', n) != NULL)
    return wif_error_set(err, WIF_E_CONFIG_INVALID, "NUL byte in line");
  if (n > 0 && start[n - 1] == '\r')
    n--;
  if (!wif_text_utf8_valid((const unsigned char *)start, n))
    return wif_error_set(err, WIF_E_CONFIG_INVALID, "invalid UTF-8");
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)start[i];

    if ((c < 0x20 && c != '\t') || c == 0x7f)
      return wif_error_set(err, WIF_E_CONFIG_INVALID,
                           "control character in line");
  }
  memcpy(line, start, n);
  line[n] = '\0';
  return WIF_OK;
}

void wif_text_prefix_error(struct wif_error *err, const char *name,
                           unsigned line) {
  char msg[WIF_ERROR_MSG_MAX];

  if (err == NULL || name == NULL)
    return;
  memcpy(msg, err->msg, sizeof(msg));
  msg[sizeof(msg) - 1] = '\0';
  if (line > 0)
    (void)wif_error_set(err, err->rc, "%s:%u: %s", name, line, msg);
  else
    (void)wif_error_set(err, err->rc, "%s: %s", name, msg);
}

static unsigned char ascii_lower(unsigned char c) {
  return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

int wif_text_ncasecmp(const char *a, const char *b, size_t n) {
  for (size_t i = 0; i < n; i++) {
    unsigned char x = ascii_lower((unsigned char)a[i]);
    unsigned char y = ascii_lower((unsigned char)b[i]);

    if (x != y || x == '\0')
      return (int)x - (int)y;
  }
  return 0;
}
