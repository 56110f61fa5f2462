/* SPDX-License-Identifier: Apache-2.0 */
/* Pieces shared by the wifctl commands (private to tools/). */
#ifndef WIFCTL_H
#define WIFCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "error.h"
#include "log.h"

/* Exit codes of every command (DESIGN.md, "The CLI: wifctl"). */
#define CLI_EXIT_OK 0
#define CLI_EXIT_INVALID 1
#define CLI_EXIT_USAGE 2
#define CLI_EXIT_UNAVAILABLE 3

/*
 * A token read from argv, stdin or a file. buf is owned and wiped by
 * cli_token_clear; len excludes the one trailing newline that was removed.
 */
struct cli_token {
  char *buf;
  size_t len;
  size_t size; /* bytes allocated, all of them wiped on clear */
  bool from_file;
};

/* Exit code for a core result: OK 0, INVALID 1, CONFIG 2, UNAVAILABLE and
 * SYSTEM 3. */
int cli_exit_code(wif_rc rc);

/* "wifctl: " + message + newline on stderr. */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A stderr log sink; debug lines only when debug is set. */
void cli_log_init(struct wif_log *log, bool debug);

/*
 * Reads the token named by the command line: `file` (--token-file) when not
 * NULL, else `arg` ("-" or NULL for stdin, anything else is the token
 * itself, copied and then wiped from argv). Reads at most WIF_TOKEN_MAX + 2
 * bytes; more gives WIF_E_TOO_LARGE. From stdin or a file exactly one
 * trailing "\n" or "\r\n" is removed (SECURITY-CASES A10), nothing else.
 * Other failures give WIF_E_SYSTEM with err naming the source.
 */
wif_rc cli_token_read(char *arg, const char *file, struct cli_token *out,
                      struct wif_error *err);

void cli_token_clear(struct cli_token *t);

/* Writes `len` bytes of untrusted text as a JSON string literal: control
 * characters, DEL and everything outside ASCII are \u escapes. */
void cli_json_string(FILE *f, const char *s, size_t len);

/* Untrusted text for a terminal (wif_log_sanitize into buf). */
const char *cli_clean(const char *s, size_t len, char *buf, size_t size);

int cli_verify(int argc, char **argv, bool debug);
void cli_verify_help(FILE *f);

int cli_decode(int argc, char **argv, bool debug);
void cli_decode_help(FILE *f);

int cli_check(int argc, char **argv, bool debug);
void cli_check_help(FILE *f);

int cli_provider(int argc, char **argv, bool debug);
void cli_provider_help(FILE *f);

int cli_map(int argc, char **argv, bool debug);
void cli_map_help(FILE *f);

int cli_jwks(int argc, char **argv, bool debug);
void cli_jwks_help(FILE *f);

/* The fetch helper: --helper, else $WIF_HELPER, else WIF_HELPER_PATH. */
const char *cli_helper_path(void);

/* The JWKS cache wifctl uses (tools/wifctl_jwks.c): root gets cfg's
 * cache_dir, written only by the fetch helper (run with config_path), so
 * that root's cache has one writer; any other user their own
 * $XDG_CACHE_HOME/pam_wif (default ~/.cache/pam_wif), or none when that
 * cannot be made, fetched in this process. cfg and log are borrowed and
 * must outlive it; free with wif_jwks_cache_free. NULL on ENOMEM. */
struct wif_config;
struct wif_jwks_cache;
struct wif_jwks_cache *cli_jwks_cache_new(const struct wif_config *cfg,
                                          const char *config_path,
                                          const struct wif_log *log);

/* The key cache directory of a caller that is not root
 * ($XDG_CACHE_HOME/pam_wif or ~/.cache/pam_wif), new (free it); NULL when
 * there is none. */
char *cli_user_cache_dir(const struct wif_log *log);

#endif
