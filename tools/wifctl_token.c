/* SPDX-License-Identifier: Apache-2.0 */
/* wifctl token: obtain this workload's own token and print it. */
#include <stdlib.h>
#include <string.h>

#include "wifctl.h"
#include "wifctl_source.h"

void cli_token_help(FILE *f) {
  fputs(
      "Usage: wifctl token --source SOURCE [--audience AUD] [--client-id ID]\n"
      "                    [--endpoint URL] [--no-cache] [--token-endpoint "
      "URL]\n"
      "                    [--client-secret-file F | --client-cert F\n"
      "                     --client-key F] [--ca-file F] [OPTIONS]\n"
      "\n"
      "Obtains this workload's token from SOURCE and prints it, alone, on\n"
      "standard output. Errors go to standard error with the HTTP status\n"
      "and the service's error field.\n"
      "\n",
      f);
  cli_source_options_help(f);
  fputs("\n"
        "Exit status: 0 token printed; 2 usage or configuration error;\n"
        "3 the source is unavailable or answered with an error.\n",
        f);
}

int cli_token(int argc, char **argv, bool debug) {
  static const struct option own[] = {{"help", no_argument, NULL, 'h'},
                                      {NULL, 0, NULL, 0}};
  struct cli_source_args a;
  struct wif_log log;
  struct wif_error err;
  char *token = NULL;
  int ret = CLI_EXIT_USAGE;
  int c;
  wif_rc rc;
  struct option opts[CLI_SOURCE_OPTIONS_MAX];

  cli_source_args_init(&a);
  cli_log_init(&log, debug);
  wif_error_clear(&err);
  cli_source_options_with(opts, own);
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
    int r;

    if (c == 'h') {
      cli_token_help(stdout);
      ret = CLI_EXIT_OK;
      goto out;
    }
    if (c == ':') {
      cli_err("option '%s' needs a value", argv[optind - 1]);
      goto usage;
    }
    if (c == '?') {
      char name[64];

      cli_err("unknown option '%s'",
              cli_clean(argv[optind - 1], strlen(argv[optind - 1]), name,
                        sizeof(name)));
      goto usage;
    }
    if ((r = cli_source_option(&a, c, optarg)) <= 0)
      goto usage;
  }
  if (optind != argc) {
    cli_err("unexpected argument; the token command takes options only");
    goto usage;
  }
  if ((rc = cli_source_finish(&a, &err)) != WIF_OK) {
    cli_err("%s", err.msg);
    goto usage;
  }
  rc = cli_source_get(&a, a.no_cache ? CLI_CACHE_BYPASS : CLI_CACHE_USE, &log,
                      &token, NULL, &err);
  if (rc != WIF_OK) {
    cli_err("%s", err.msg[0] ? err.msg : wif_rc_describe(rc));
    ret = cli_exit_code(rc);
    goto out;
  }
  if (puts(token) == EOF || fflush(stdout) != 0) {
    cli_err("cannot write the token to standard output");
    ret = CLI_EXIT_UNAVAILABLE;
    goto out;
  }
  ret = CLI_EXIT_OK;
  goto out;
usage:
  fputs("Try 'wifctl token --help' for more information.\n", stderr);
  ret = CLI_EXIT_USAGE;
out:
  wif_source_token_free(token);
  cli_source_args_clear(&a);
  return ret;
}
