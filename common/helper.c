/* SPDX-License-Identifier: Apache-2.0 */
/* The fetch helper (pam_wif-helper): how it is started, what it answers. */
#include "helper.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "jwt.h"
#include "subprocess.h"
#include "wipe.h"

#define ARGV_MAX 16

/* ---- the answer ---- */

static bool printable(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
      return false;
  return true;
}

/* Decimal digits only (no sign, no locale), at most 18 of them. */
static bool parse_num(const char *s, size_t n, int64_t *out) {
  int64_t v = 0;

  if (n == 0 || n > 18)
    return false;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

void wif_helper_answer_clear(struct wif_helper_answer *a) {
  if (a == NULL)
    return;
  wif_helper_free(a->payload, a->payload_len);
  memset(a, 0, sizeof(*a));
}

/* "WORD rest": the first word and what follows the space after it. */
static bool split_word(const char *s, size_t n, const char **word, size_t *wlen,
                       const char **rest, size_t *rlen) {
  const char *sp = memchr(s, ' ', n);

  if (sp == NULL || sp == s)
    return false;
  *word = s;
  *wlen = (size_t)(sp - s);
  *rest = sp + 1;
  *rlen = n - *wlen - 1;
  return true;
}

static wif_rc parse_ok(const char *line, size_t n, const char *body,
                       size_t body_len, struct wif_helper_answer *out,
                       struct wif_error *err) {
  const char *w, *rest;
  size_t wlen, rlen;
  int64_t exp, plen;

  if (!split_word(line, n, &w, &wlen, &rest, &rlen) ||
      !parse_num(w, wlen, &exp) || !parse_num(rest, rlen, &plen))
    return wif_error_set(err, WIF_E_MALFORMED, "a bad \"ok\" line");
  if ((uint64_t)plen != body_len)
    return wif_error_set(err, WIF_E_MALFORMED,
                         "the payload is %zu bytes, not %lld", body_len,
                         (long long)plen);
  if ((out->payload = malloc(body_len + 1)) == NULL)
    return wif_error_set(err, WIF_E_NOMEM, "out of memory");
  memcpy(out->payload, body, body_len);
  out->payload[body_len] = '\0';
  out->payload_len = body_len;
  out->exp = exp;
  out->rc = WIF_OK;
  return WIF_OK;
}

static wif_rc parse_error(const char *line, size_t n,
                          struct wif_helper_answer *out,
                          struct wif_error *err) {
  const char *w, *rest;
  size_t wlen, rlen;
  wif_rc rc;

  if (!split_word(line, n, &w, &wlen, &rest, &rlen) ||
      !wif_rc_from_name(w, wlen, &rc) || rc == WIF_OK)
    return wif_error_set(err, WIF_E_MALFORMED, "a bad \"error\" line");
  out->rc = rc;
  (void)snprintf(
      out->message, sizeof(out->message), "%.*s",
      (int)(rlen < sizeof(out->message) ? rlen : sizeof(out->message) - 1),
      rest);
  return WIF_OK;
}

wif_rc wif_helper_answer_parse(const char *text, size_t len,
                               const struct wif_log *log,
                               struct wif_helper_answer *out,
                               struct wif_error *err) {
  size_t off = 0;
  unsigned logs = 0;
  wif_rc rc = WIF_E_MALFORMED;

  if (out != NULL)
    memset(out, 0, sizeof(*out));
  if (text == NULL || out == NULL)
    return wif_error_set(err, WIF_E_INTERNAL,
                         "wif_helper_answer_parse: bad call");
  if (len > WIF_HELPER_ANSWER_MAX)
    return wif_error_set(err, WIF_E_MALFORMED, "the answer is too long");
  for (;;) {
    const char *line = text + off;
    const char *nl = memchr(line, '\n', len - off);
    size_t n;

    if (nl == NULL)
      return wif_error_set(err, WIF_E_MALFORMED, "the answer ends early");
    n = (size_t)(nl - line);
    if (n + 1 > WIF_HELPER_LINE_MAX && strncmp(line, "ok ", 3) != 0)
      return wif_error_set(err, WIF_E_MALFORMED, "a line is too long");
    if (!printable(line, n))
      return wif_error_set(err, WIF_E_MALFORMED, "a line holds control bytes");
    off += n + 1;
    if (n > 6 && memcmp(line, "log ", 4) == 0 && line[4] >= '0' &&
        line[4] <= '7' && line[5] == ' ') {
      char msg[WIF_HELPER_LINE_MAX];

      if (++logs > WIF_HELPER_LOG_LINES)
        return wif_error_set(err, WIF_E_MALFORMED, "too many log lines");
      (void)snprintf(msg, sizeof(msg), "%.*s", (int)(n - 6), line + 6);
      wif_log(log, line[4] - '0' < LOG_ERR ? LOG_ERR : line[4] - '0', "%s",
              msg);
      continue;
    }
    if (n > 3 && memcmp(line, "ok ", 3) == 0) {
      rc = parse_ok(line + 3, n - 3, text + off, len - off, out, err);
      break;
    }
    if (n > 6 && memcmp(line, "error ", 6) == 0) {
      rc = parse_error(line + 6, n - 6, out, err);
      if (rc == WIF_OK && off != len)
        rc = wif_error_set(err, WIF_E_MALFORMED, "data after the answer");
      break;
    }
    return wif_error_set(err, WIF_E_MALFORMED, "an unknown line");
  }
  if (rc != WIF_OK)
    wif_helper_answer_clear(out);
  return rc;
}

/* ---- the helper's side ---- */

static bool write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);

    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return false;
    p += w;
    n -= (size_t)w;
  }
  return true;
}

/* head, then text with control characters made '?', then a newline. */
static bool write_line(int fd, const char *head, const char *text) {
  char line[WIF_HELPER_LINE_MAX];
  size_t n = (size_t)snprintf(line, sizeof(line), "%s", head);

  for (const char *t = text; *t != '\0' && n < sizeof(line) - 1; t++) {
    unsigned char c = (unsigned char)*t;

    line[n++] = (char)(c < 0x20 || c > 0x7e ? '?' : c);
  }
  line[n++] = '\n';
  return write_all(fd, line, n);
}

bool wif_helper_write_log(int fd, int priority, const char *text) {
  char head[8];

  if (priority < 0 || priority > 7)
    priority = LOG_ERR;
  (void)snprintf(head, sizeof(head), "log %d ", priority);
  return write_line(fd, head, text);
}

bool wif_helper_write_ok(int fd, int64_t exp, const char *payload, size_t len) {
  char head[64];
  int n = snprintf(head, sizeof(head), "ok %lld %zu\n", (long long)exp, len);

  return n > 0 && write_all(fd, head, (size_t)n) && write_all(fd, payload, len);
}

bool wif_helper_write_error(int fd, wif_rc rc, const char *text) {
  char head[64];

  (void)snprintf(head, sizeof(head), "error %s ", wif_rc_name(rc));
  return write_line(fd, head, text);
}

/* ---- the module's side ---- */

void wif_helper_free(char *buf, size_t len) {
  if (buf == NULL)
    return;
  wif_wipe_free(buf, len);
}

/*
 * Runs the helper with argv and parses its answer. A helper that could
 * not give one is `unavailable` with the reason in err.
 */
static wif_rc run(const char *helper, const char *const argv[], long timeout_ms,
                  wif_rc unavailable, const struct wif_log *log,
                  struct wif_helper_answer *answer, struct wif_error *err) {
  static const char *const envp[] = WIF_HELPER_ENV;
  struct wif_subprocess s;
  struct wif_subprocess_result r;
  struct wif_error serr;
  wif_rc rc;

  memset(&s, 0, sizeof(s));
  memset(answer, 0, sizeof(*answer));
  wif_error_clear(&serr);
  s.path = helper != NULL ? helper : WIF_HELPER_PATH;
  s.argv = argv;
  s.envp = envp;
  s.trusted = true;
  s.owner = geteuid();
  s.clean = true;
  s.timeout_ms = timeout_ms;
  s.out_max = WIF_HELPER_ANSWER_MAX;
  rc = wif_subprocess_run(&s, &r, &serr);
  if (rc == WIF_OK)
    rc = wif_helper_answer_parse(r.out, r.out_len, log, answer, &serr);
  if (rc == WIF_OK || rc == WIF_E_NOMEM) {
    if (rc == WIF_OK && answer->rc != WIF_OK)
      rc = wif_error_set(err, answer->rc, "%s", answer->message);
    else if (rc == WIF_E_NOMEM)
      wif_error_set(err, rc, "out of memory");
    goto out;
  }
  if (rc != WIF_E_CONFIG_INSECURE)
    rc = unavailable;
  if (r.err_line[0] != '\0')
    wif_error_set(err, rc, "fetch helper %s: %s (it said: %s)", s.path,
                  serr.msg, r.err_line);
  else
    wif_error_set(err, rc, "fetch helper %s: %s", s.path, serr.msg);
out:
  wif_subprocess_result_clear(&r);
  return rc;
}

wif_rc wif_helper_keys(const char *helper, const char *config,
                       const char *provider, enum wif_helper_keys_mode mode,
                       long timeout_ms, const struct wif_log *log, char **out,
                       size_t *out_len, struct wif_error *err) {
  struct wif_helper_answer a;
  const char *argv[ARGV_MAX];
  size_t n = 0;
  wif_rc rc;

  *out = NULL;
  *out_len = 0;
  argv[n++] = "pam_wif-helper";
  argv[n++] = "keys";
  argv[n++] = "--config";
  argv[n++] = config;
  argv[n++] = "--provider";
  argv[n++] = provider;
  static const char *const flags[] = {[WIF_HELPER_KEYS_LOAD] = NULL,
                                      [WIF_HELPER_KEYS_REFRESH] = "--refresh",
                                      [WIF_HELPER_KEYS_FETCH] = "--fetch",
                                      [WIF_HELPER_KEYS_REVOKE] = "--revoke"};

  if (flags[mode] != NULL)
    argv[n++] = flags[mode];
  argv[n] = NULL;
  rc = run(helper, argv, timeout_ms, WIF_E_JWKS_UNAVAILABLE, log, &a, err);
  if (rc == WIF_OK) {
    *out = a.payload;
    *out_len = a.payload_len;
    a.payload = NULL;
  }
  wif_helper_answer_clear(&a);
  return rc;
}

wif_rc wif_helper_token(const char *helper,
                        const struct wif_helper_token_request *req,
                        long timeout_ms, const struct wif_log *log,
                        char **out_token, int64_t *out_exp,
                        struct wif_error *err) {
  struct wif_helper_answer a;
  const char *argv[ARGV_MAX];
  size_t n = 0;
  wif_rc rc;

  *out_token = NULL;
  *out_exp = 0;
  argv[n++] = "pam_wif-helper";
  argv[n++] = "token";
  argv[n++] = "--source";
  argv[n++] = req->source;
  if (req->audience != NULL) {
    argv[n++] = "--audience";
    argv[n++] = req->audience;
  }
  if (req->client_id != NULL) {
    argv[n++] = "--client-id";
    argv[n++] = req->client_id;
  }
  if (req->endpoint != NULL) {
    argv[n++] = "--endpoint";
    argv[n++] = req->endpoint;
  }
  argv[n] = NULL;
  rc = run(helper, argv, timeout_ms, WIF_E_TOKEN_UNAVAILABLE, log, &a, err);
  if (rc == WIF_OK) {
    if (a.payload_len == 0 || a.payload_len > WIF_TOKEN_MAX ||
        strlen(a.payload) != a.payload_len) {
      rc = wif_error_set(err, WIF_E_TOKEN_UNAVAILABLE,
                         "the fetch helper handed over no usable token");
    } else {
      *out_token = a.payload;
      *out_exp = a.exp;
      a.payload = NULL;
    }
  }
  wif_helper_answer_clear(&a);
  return rc;
}
