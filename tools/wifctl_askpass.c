/* wifctl askpass: the SSH_ASKPASS side of the prompt protocol (DESIGN.md,
 * "The prompt protocol"): answers part N of the token. */
#include <stdlib.h>
#include <string.h>

#include "prompt.h"
#include "wifctl.h"
#include "wifctl_source.h"

void cli_askpass_help(FILE *f) {
  fputs("Usage: wifctl askpass PROMPT\n"
        "\n"
        "An SSH_ASKPASS program for pam_wif's prompt protocol. ssh runs it\n"
        "once per prompt; for \"Workload identity token: \" it prints the\n"
        "first part of the token, for \"Workload identity token (part N): \"\n"
        "part N (an optional \"(user@host) \" prefix is allowed). Parts are\n"
        "at most 1000 bytes; every part but the last ends with `\\`. All\n"
        "parts come from the same cached token.\n"
        "\n"
        "Settings come from the file named by WIF_CLIENT_CONFIG (lines\n"
        "\"key = value\": source, audience, client_id, endpoint, object_id,\n"
        "msi_res_id, token_endpoint, scope, client_secret_file, client_cert,\n"
        "client_key, ca_file, timeout, format_full, client_assertion_file,\n"
        "resource, token_audience, service_account), else from WIF_SOURCE,\n"
        "WIF_AUDIENCE, WIF_CLIENT_ID, WIF_ENDPOINT (and WIF_OBJECT_ID,\n"
        "WIF_MSI_RES_ID, WIF_TOKEN_ENDPOINT, WIF_SCOPE,\n"
        "WIF_CLIENT_SECRET_FILE, WIF_CLIENT_CERT, WIF_CLIENT_KEY,\n"
        "WIF_CA_FILE, WIF_TIMEOUT, WIF_FORMAT_FULL,\n"
        "WIF_CLIENT_ASSERTION_FILE, WIF_RESOURCE, WIF_TOKEN_AUDIENCE,\n"
        "WIF_SERVICE_ACCOUNT).\n"
        "\n"
        "Exit status: 0 part printed; 1 not a token prompt, or no such part;\n"
        "2 bad settings; 3 no token available.\n",
        f);
}

int cli_askpass_prompt(const char *prompt, bool debug) {
  struct cli_source_args a;
  struct wif_log log;
  struct wif_error err;
  char *token = NULL;
  unsigned part = wif_prompt_part_number(prompt);
  size_t off;
  size_t n;
  bool more;
  int ret = CLI_EXIT_INVALID;
  wif_rc rc;

  cli_source_args_init(&a);
  cli_log_init(&log, debug);
  wif_error_clear(&err);
  if (part == 0) {
    char clean[128];

    /* A host key question or a password prompt is not ours to answer. */
    cli_err("askpass: not a workload identity token prompt: \"%s\"",
            cli_clean(prompt, strlen(prompt), clean, sizeof(clean)));
    goto out;
  }
  if ((rc = cli_source_from_env(&a, &err)) != WIF_OK) {
    cli_err("askpass: %s", err.msg);
    ret = cli_exit_code(rc);
    goto out;
  }
  /* Every part reads the same cache entry, so the parts fit together. */
  if ((rc = cli_source_get(&a, CLI_CACHE_USE, &log, &token, &err)) != WIF_OK) {
    cli_err("askpass: %s", err.msg[0] ? err.msg : wif_rc_describe(rc));
    ret = cli_exit_code(rc);
    goto out;
  }
  if (!wif_prompt_part_span(strlen(token), part, &off, &n, &more)) {
    cli_err("askpass: the %zu-byte token has no part %u (at most %d parts "
            "of %d bytes)",
            strlen(token), part, WIF_PROMPT_PARTS_MAX, WIF_PROMPT_PART_MAX);
    goto out;
  }
  if (fwrite(token + off, 1, n, stdout) != n ||
      (more && fputc('\\', stdout) == EOF) || fputc('\n', stdout) == EOF ||
      fflush(stdout) != 0) {
    cli_err("askpass: cannot write the answer");
    ret = CLI_EXIT_UNAVAILABLE;
    goto out;
  }
  ret = CLI_EXIT_OK;
out:
  wif_source_token_free(token);
  cli_source_args_clear(&a);
  return ret;
}

int cli_askpass(int argc, char **argv, bool debug) {
  if (argc == 2 &&
      (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
    cli_askpass_help(stdout);
    return CLI_EXIT_OK;
  }
  if (argc != 2) {
    cli_err("askpass takes exactly one argument, the prompt");
    fputs("Try 'wifctl askpass --help' for more information.\n", stderr);
    return CLI_EXIT_USAGE;
  }
  return cli_askpass_prompt(argv[1], debug);
}

bool cli_askpass_implied(int argc, char **argv) {
  const char *v = secure_getenv("WIF_ASKPASS");

  (void)argv;
  return argc == 1 && v != NULL && strcmp(v, "1") == 0;
}
