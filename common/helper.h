/* SPDX-License-Identifier: Apache-2.0 */
/* The fetch helper (pam_wif-helper): how it is started, what it answers. */
#ifndef WIF_HELPER_H
#define WIF_HELPER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "jwks_store.h"
#include "log.h"

/*
 * Network code never runs in the PAM process. When keys must be fetched,
 * or a host-identity token comes from a metadata service or an exec:
 * program, the module runs this program instead: opened once and
 * executed by descriptor after the trusted-file checks, with the clean
 * start of subprocess.h and an environment of WIF_HELPER_ENV alone.
 *
 *   pam_wif-helper keys --config PATH --provider NAME
 * [--refresh|--fetch|--revoke] pam_wif-helper token --source SPEC [--audience
 * A] [--client-id ID]
 *                        [--endpoint URL]
 *
 * Its answer on stdout, parsed by wif_helper_answer_parse:
 *
 *   log <0-7> <text>\n          any number, up to WIF_HELPER_LOG_LINES
 *   ok <exp> <n>\n<n bytes>     the payload: a cache file (keys) or a
 *                               token with its expiry (token)
 *   error <REASON> <text>\n     REASON a wif_rc name
 *
 * and nothing after it. Its exit status only confirms: a host that reaps
 * its own children may take it first.
 */
#ifndef WIF_HELPER_PATH
#define WIF_HELPER_PATH "/usr/libexec/pam_wif/pam_wif-helper"
#endif
#define WIF_HELPER_ENV                                                         \
  { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL }
#define WIF_HELPER_ANSWER_MAX (WIF_JWKS_STORE_FILE_MAX + 64 * 1024)
#define WIF_HELPER_LOG_LINES 64
#define WIF_HELPER_LINE_MAX 1024 /* a log or error line, newline included */
/* A host-identity fetch, retries included; the module waits this plus
 * WIF_HELPER_START_MS for the helper. */
#define WIF_HELPER_TOKEN_BUDGET_MS 20000L
#define WIF_HELPER_START_MS 2000L

/* A parsed answer. payload is owned (wiped by wif_helper_answer_clear). */
struct wif_helper_answer {
  wif_rc rc; /* WIF_OK, or the failure the helper reported */
  char message[WIF_ERROR_MSG_MAX];
  int64_t exp; /* token: its expiry (0 unknown); keys: 0 */
  char *payload;
  size_t payload_len;
};

/*
 * Parses the helper's stdout (len bytes). Log lines go to log as they
 * come, at their priority (LOG_ERR at most urgent). WIF_OK when the
 * answer is well formed, whatever it reports (see out->rc);
 * WIF_E_MALFORMED (err says where) otherwise, or WIF_E_NOMEM. *out is
 * cleared first.
 */
wif_rc wif_helper_answer_parse(const char *text, size_t len,
                               const struct wif_log *log,
                               struct wif_helper_answer *out,
                               struct wif_error *err);

void wif_helper_answer_clear(struct wif_helper_answer *a);

/* The helper's side: one line or the final answer written to fd, with
 * control characters of text replaced. false when the write failed. */
bool wif_helper_write_log(int fd, int priority, const char *text);
bool wif_helper_write_ok(int fd, int64_t exp, const char *payload, size_t len);
bool wif_helper_write_error(int fd, wif_rc rc, const char *text);

/* What `helper keys` is asked to do. */
enum wif_helper_keys_mode {
  WIF_HELPER_KEYS_LOAD,    /* usable keys, by the cache's policy */
  WIF_HELPER_KEYS_REFRESH, /* a token's kid is not in the disk's set */
  WIF_HELPER_KEYS_FETCH,   /* fetch now (wifctl jwks fetch) */
  WIF_HELPER_KEYS_REVOKE   /* drop and fetch anew (wifctl jwks revoke) */
};

/*
 * The module's side. Runs `helper keys` for provider and returns the payload, a
 * cache file to parse with wif_jwks_store_decode, in *out (free with
 * wif_helper_free). The helper's failure is returned with its reason and
 * message; a helper that cannot be started, times out after timeout_ms,
 * dies or answers garbage is WIF_E_JWKS_UNAVAILABLE (or
 * WIF_E_CONFIG_INSECURE when the program is not trusted).
 */
wif_rc wif_helper_keys(const char *helper, const char *config,
                       const char *provider, enum wif_helper_keys_mode mode,
                       long timeout_ms, const struct wif_log *log, char **out,
                       size_t *out_len, struct wif_error *err);

/* What `helper token` is asked for; borrowed strings, NULL when unset. */
struct wif_helper_token_request {
  const char *source; /* azure, gcp, exec:PATH ... */
  const char *audience;
  const char *client_id;
  const char *endpoint;
};

/*
 * Runs `helper token`: a new NUL-terminated token in *out_token (free with
 * wif_helper_free(tok, strlen(tok))) and its expiry in *out_exp. A helper
 * that cannot deliver is WIF_E_TOKEN_UNAVAILABLE (or what it reported).
 */
wif_rc wif_helper_token(const char *helper,
                        const struct wif_helper_token_request *r,
                        long timeout_ms, const struct wif_log *log,
                        char **out_token, int64_t *out_exp,
                        struct wif_error *err);

/* Wipes and frees a payload; NULL does nothing. */
void wif_helper_free(char *buf, size_t len);

#endif
