/* SPDX-License-Identifier: Apache-2.0 */
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

/* Prints each line of what ssh asked, made safe for a terminal. */
static void print_prompt(const char *prompt) {
  const char *p = prompt;

  while (*p != '\0') {
    size_t n = strcspn(p, "\n");
    char clean[160];

    if (n > 0)
      fprintf(stderr, "wifctl:   %s\n", cli_clean(p, n, clean, sizeof(clean)));
    p += n;
    if (*p == '\n')
      p++;
  }
}

/* Says what ssh asked that is not a token prompt and how to fix it. */
static void foreign_prompt(const char *prompt) {
  cli_err("askpass: ssh asked something that is not a workload identity "
          "token prompt:");
  print_prompt(prompt);
  if (strstr(prompt, "continue connecting") != NULL ||
      strstr(prompt, "authenticity of host") != NULL) {
    cli_err("askpass: that is ssh asking whether to trust a host key it "
            "does not know. wifctl answers no: it never accepts a host "
            "key. Get the host's key fingerprint from its administrator, "
            "then add the key to ~/.ssh/known_hosts, for example "
            "`ssh-keyscan -p PORT HOST > key; ssh-keygen -lf key` (compare "
            "the fingerprint) and `cat key >> ~/.ssh/known_hosts`, or "
            "connect once with plain ssh and answer yourself.");
  } else if (strstr(prompt, "passphrase") != NULL) {
    cli_err("askpass: that is ssh asking for a key's passphrase. wifctl "
            "does not answer it: load the key into ssh-agent (ssh-add) "
            "first, or stop ssh from using it (-o IdentitiesOnly=yes, or "
            "no IdentityFile for this host).");
  } else if (strstr(prompt, "assword") != NULL) {
    cli_err("askpass: that is the host asking for a password: for this "
            "account and service pam_wif is not the module that prompts "
            "first (see pam_wif(8) and `wifctl check` on the host).");
  } else {
    cli_err("askpass: wifctl answers only pam_wif's \"Workload identity "
            "token\" prompts.");
  }
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
  enum cli_cache_mode mode = CLI_CACHE_USE;
  wif_rc rc;

  cli_source_args_init(&a);
  cli_log_init(&log, debug);
  wif_error_clear(&err);
  if (part == 0) {
    /* A host key question or a password prompt is not ours to answer:
     * the exit status is ssh's "no". */
    foreign_prompt(prompt);
    goto out;
  }
  if ((rc = cli_source_from_env(&a, &err)) != WIF_OK) {
    cli_err("askpass: %s", err.msg);
    ret = cli_exit_code(rc);
    goto out;
  }
  if (part == 1) {
    int attempt = cli_ssh_attempt();

    if (attempt == 2) {
      /* The host refused the cached token: a new one, once. */
      cli_err("askpass: the host refused the cached token; fetching a new "
              "one and trying once more");
      mode = CLI_CACHE_REFRESH;
    } else if (attempt > 2) {
      cli_err("askpass: the host refused the new token too; not trying "
              "again (see the host's log for the reason)");
      goto out;
    }
  }
  /* Every part reads the same cache entry, so the parts fit together. */
  if ((rc = cli_source_get(&a, mode, &log, &token, NULL, &err)) != WIF_OK) {
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
