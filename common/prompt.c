/* SPDX-License-Identifier: Apache-2.0 */
/* The prompt protocol for long tokens: assembling and splitting parts. */
#include "prompt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jwt.h"
#include "wipe.h"

#define PROMPT_PART_HEAD "Workload identity token (part "
#define PROMPT_PART_TAIL "): "

wif_rc wif_prompt_reader_init(struct wif_prompt_reader *r) {
  memset(r, 0, sizeof(*r));
  r->buf = malloc(WIF_TOKEN_MAX + 1);
  if (r->buf == NULL)
    return WIF_E_NOMEM;
  r->size = WIF_TOKEN_MAX + 1;
  r->buf[0] = '\0';
  return WIF_OK;
}

wif_rc wif_prompt_reader_add(struct wif_prompt_reader *r, const char *answer,
                             struct wif_error *err) {
  size_t n;
  bool more;

  if (r->buf == NULL || r->done || answer == NULL)
    return wif_error_set(err, WIF_E_INTERNAL, "no answer expected");
  /* Bounded: an answer of many megabytes is not walked to its end. */
  n = strnlen(answer, WIF_TOKEN_MAX + 2);
  more = n > 0 && answer[n - 1] == '\\';
  if (more)
    n--;
  if (n > WIF_TOKEN_MAX - r->len)
    return wif_error_set(err, WIF_E_TOO_LARGE,
                         "the token is longer than %d bytes", WIF_TOKEN_MAX);
  if (more && r->parts + 1 >= WIF_PROMPT_PARTS_MAX)
    return wif_error_set(err, WIF_E_TOO_LARGE,
                         "the token has more than %d parts",
                         WIF_PROMPT_PARTS_MAX);
  memcpy(r->buf + r->len, answer, n);
  r->len += n;
  r->buf[r->len] = '\0';
  r->parts++;
  r->done = !more;
  return WIF_OK;
}

void wif_prompt_reader_prompt(const struct wif_prompt_reader *r, char *buf,
                              size_t size) {
  if (r->parts == 0)
    snprintf(buf, size, "%s", WIF_PROMPT_FIRST);
  else
    snprintf(buf, size, PROMPT_PART_HEAD "%u" PROMPT_PART_TAIL, r->parts + 1);
}

void wif_prompt_reader_clear(struct wif_prompt_reader *r) {
  wif_wipe_free(r->buf, r->size);
  memset(r, 0, sizeof(*r));
}

bool wif_prompt_cut_length(size_t len) {
  return len == WIF_PROMPT_SSH_CUT || len == WIF_PROMPT_EXEC_CUT;
}

bool wif_prompt_sshd_refused(const char *answer, size_t len) {
  static const char junk[] = "\b\n\r\177INCORRECT";

  if (answer == NULL || len == 0)
    return false;
  for (size_t i = 0; i < len; i++)
    if (answer[i] != junk[i % (sizeof(junk) - 1)])
      return false;
  return true;
}

bool wif_prompt_looks_like_token(const char *s, size_t len) {
  size_t dots = 0;

  for (size_t i = 0; s != NULL && i < len; i++) {
    unsigned char c = (unsigned char)s[i];

    if (c == '.')
      dots++;
    else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
               (c >= '0' && c <= '9') || c == '-' || c == '_'))
      return false;
  }
  return dots >= 2;
}

static bool only_spaces(const char *s) {
  return s[strspn(s, " ")] == '\0';
}

unsigned wif_prompt_part_number(const char *p) {
  size_t n;
  char *end = NULL;
  unsigned long v;

  if (p == NULL)
    return 0;
  /* ssh prefixes keyboard-interactive prompts with "(user@host) ". */
  if (p[0] == '(') {
    const char *close = strstr(p, ") ");

    if (close == NULL)
      return 0;
    p = close + 2;
  }
  /* The first prompt, with or without its trailing space. */
  n = strlen(WIF_PROMPT_FIRST) - 1;
  if (strncmp(p, WIF_PROMPT_FIRST, n) == 0 && only_spaces(p + n))
    return 1;
  n = strlen(PROMPT_PART_HEAD);
  if (strncmp(p, PROMPT_PART_HEAD, n) != 0 || p[n] < '1' || p[n] > '9')
    return 0;
  errno = 0;
  v = strtoul(p + n, &end, 10);
  if (errno != 0 || v < 2 || v > WIF_PROMPT_PARTS_MAX ||
      strncmp(end, "):", 2) != 0 || !only_spaces(end + 2))
    return 0;
  return (unsigned)v;
}

bool wif_prompt_part_span(size_t token_len, unsigned part, size_t *off,
                          size_t *len, bool *more) {
  size_t parts = (token_len + WIF_PROMPT_PART_MAX - 1) / WIF_PROMPT_PART_MAX;

  if (parts == 0)
    parts = 1; /* an empty token is one empty answer */
  if (part == 0 || parts > WIF_PROMPT_PARTS_MAX || part > parts)
    return false;
  *off = (size_t)(part - 1) * WIF_PROMPT_PART_MAX;
  *len = token_len - *off < WIF_PROMPT_PART_MAX ? token_len - *off
                                                : WIF_PROMPT_PART_MAX;
  *more = part < parts;
  return true;
}
