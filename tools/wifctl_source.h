/* SPDX-License-Identifier: Apache-2.0 */
/* Token options shared by `wifctl token`, `askpass` and `ssh` (private to
 * tools/). */
#ifndef WIFCTL_SOURCE_H
#define WIFCTL_SOURCE_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "log.h"
#include "source.h"

/* How a command uses the client token cache. */
enum cli_cache_mode {
  CLI_CACHE_USE,    /* reuse a fresh entry, else fetch and store */
  CLI_CACHE_BYPASS, /* --no-cache: fetch, neither read nor write */
  CLI_CACHE_REFRESH /* fetch and store (wifctl ssh --no-cache) */
};

/*
 * Token settings from the command line, the WIF_* variables or a
 * WIF_CLIENT_CONFIG file. opts borrows from argv, the environment or
 * `file_buf` (owned, freed by cli_source_args_clear).
 */
struct cli_source_args {
  struct wif_source_opts opts;
  const char *source; /* the SOURCE text as given */
  bool have_source;
  bool no_cache;
  char *file_buf;
  size_t file_len;
};

void cli_source_args_init(struct cli_source_args *a);
void cli_source_args_clear(struct cli_source_args *a);

/* getopt_long table entries of the token options (terminated by a zero
 * entry) and the handler for one of them: 1 handled, 0 not a token option,
 * -1 bad value (message printed). */
extern const struct option cli_source_options[];
int cli_source_option(struct cli_source_args *a, int c, const char *arg);

/* A command's getopt_long table: the token options, then its own from
 * `own` (terminated by a zero entry), then the zero entry. opts holds
 * CLI_SOURCE_OPTIONS_MAX entries. */
#define CLI_SOURCE_OPTIONS_MAX 32
void cli_source_options_with(struct option *opts, const struct option *own);

/* The options' help text. */
void cli_source_options_help(FILE *f);

/* Applies --source (parsing it) and the environment (wif_source_opts_from_env).
 */
wif_rc cli_source_finish(struct cli_source_args *a, struct wif_error *err);

/* Fills a from WIF_CLIENT_CONFIG when set, else from WIF_SOURCE,
 * WIF_AUDIENCE, WIF_CLIENT_ID, WIF_ENDPOINT and the other WIF_* variables
 * that `wifctl ssh` exports; then cli_source_finish. */
wif_rc cli_source_from_env(struct cli_source_args *a, struct wif_error *err);

/* Exports a's settings as the WIF_* variables (for `wifctl ssh`). */
wif_rc cli_source_export(const struct cli_source_args *a,
                         struct wif_error *err);

/* What cli_source_get says about the token it gave. */
struct cli_source_got {
  bool cached;     /* from the cache, not fetched now */
  int64_t exp;     /* its expiry, 0 when unknown */
  char *cache_dir; /* the cache directory used, or NULL (owned: free) */
};

/*
 * Gets the token through the client cache as `mode` says (REFRESH drops
 * the entry before fetching). *out_token is new (wif_source_token_free).
 * A cache that cannot be used safely is skipped with a warning. out_got
 * may be NULL; else its cache_dir must be freed.
 */
wif_rc cli_source_get(const struct cli_source_args *a, enum cli_cache_mode mode,
                      const struct wif_log *log, char **out_token,
                      struct cli_source_got *out_got, struct wif_error *err);

int cli_token(int argc, char **argv, bool debug);
void cli_token_help(FILE *f);

/* `wifctl askpass PROMPT`; and ssh's own call `wifctl PROMPT` when
 * WIF_ASKPASS=1 is set by `wifctl ssh` (cli_askpass_implied says so). */
int cli_askpass(int argc, char **argv, bool debug);
void cli_askpass_help(FILE *f);
bool cli_askpass_implied(int argc, char **argv);
int cli_askpass_prompt(const char *prompt, bool debug);

int cli_ssh(int argc, char **argv, bool debug);

/* For askpass, on a first-part prompt under `wifctl ssh`: which attempt
 * this is (1, 2, ...) counted in the file WIF_SSH_STATE names; 0 when
 * there is none (no retry allowed), -1 when it cannot be read. */
int cli_ssh_attempt(void);
void cli_ssh_help(FILE *f);

#endif
