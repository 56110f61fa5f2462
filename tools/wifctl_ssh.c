/* wifctl ssh: runs ssh with `wifctl askpass` answering pam_wif's prompts. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wifctl.h"
#include "wifctl_source.h"

#define SSH_ARGS_MAX 256

/* execvp takes char *const[]; these are never written. */
static char ssh_default[] = "ssh";
static char ssh_opt[] = "-o";
static char ssh_kbdint[] = "PreferredAuthentications=keyboard-interactive";

void cli_ssh_help(FILE *f) {
  fputs("Usage: wifctl ssh [TOKEN OPTIONS] [--ssh-program PATH] [--]\n"
        "                  SSH-ARGS...\n"
        "\n"
        "Fetches the token once (into the token cache), then runs\n"
        "  ssh -o PreferredAuthentications=keyboard-interactive SSH-ARGS...\n"
        "with SSH_ASKPASS set to this wifctl, SSH_ASKPASS_REQUIRE=force and\n"
        "the token options in WIF_* variables, so that ssh answers pam_wif's\n"
        "token prompts (in parts for long tokens) without a person. With\n"
        "--no-cache the token is fetched anew and the cache entry replaced:\n"
        "use it when the host's provider is one_time (each token logs in\n"
        "once), with a source that mints a new token per request.\n"
        "\n"
        "  --ssh-program PATH  run PATH instead of ssh (found in PATH)\n"
        "\n",
        f);
  cli_source_options_help(f);
  fputs("\n"
        "Exit status: ssh's own; 2 usage error; 3 no token available.\n",
        f);
}

/* Our own absolute path, for SSH_ASKPASS (ssh runs it by path). */
static char *self_path(void) {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

  if (n <= 0 || (size_t)n >= sizeof(buf) - 1)
    return NULL;
  buf[n] = '\0';
  return strdup(buf);
}

int cli_ssh(int argc, char **argv, bool debug) {
  struct cli_source_args a;
  struct wif_log log;
  struct wif_error err;
  char *token = NULL;
  char *self = NULL;
  char *program = ssh_default;
  char *sargv[SSH_ARGS_MAX + 4];
  size_t sn = 0;
  int ret = CLI_EXIT_USAGE;
  int c;
  wif_rc rc;
  struct option opts[32];
  size_t n = 0;

  cli_source_args_init(&a);
  cli_log_init(&log, debug);
  wif_error_clear(&err);
  for (; cli_source_options[n].name != NULL; n++)
    opts[n] = cli_source_options[n];
  opts[n++] = (struct option){"ssh-program", required_argument, NULL, 'S'};
  opts[n++] = (struct option){"help", no_argument, NULL, 'h'};
  opts[n] = (struct option){NULL, 0, NULL, 0};
  opterr = 0;
  /* "+": the first non-option starts ssh's arguments. */
  while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
    if (c == 'h') {
      cli_ssh_help(stdout);
      ret = CLI_EXIT_OK;
      goto out;
    }
    if (c == 'S') {
      program = optarg;
      continue;
    }
    if (c == ':' || c == '?') {
      char name[64];

      cli_err("%s option '%s'", c == ':' ? "missing value for" : "unknown",
              cli_clean(argv[optind - 1], strlen(argv[optind - 1]), name,
                        sizeof(name)));
      goto usage;
    }
    if (cli_source_option(&a, c, optarg) <= 0)
      goto usage;
  }
  if (optind >= argc) {
    cli_err("no ssh arguments (at least the destination)");
    goto usage;
  }
  if ((size_t)(argc - optind) > SSH_ARGS_MAX) {
    cli_err("more than %d ssh arguments", SSH_ARGS_MAX);
    goto usage;
  }
  if (a.have_source) {
    rc = cli_source_finish(&a, &err);
  } else {
    /* No options: askpass will read WIF_CLIENT_CONFIG or WIF_*. */
    rc = cli_source_from_env(&a, &err);
  }
  if (rc != WIF_OK) {
    cli_err("%s", err.msg);
    goto usage;
  }
  /* Fetch now: a failure is reported here, not as a refused login, and
   * the cache entry makes every askpass call answer from one token. */
  rc = cli_source_get(&a, a.no_cache ? CLI_CACHE_REFRESH : CLI_CACHE_USE, &log,
                      &token, &err);
  if (rc != WIF_OK) {
    cli_err("%s", err.msg[0] ? err.msg : wif_rc_describe(rc));
    ret = cli_exit_code(rc);
    goto out;
  }
  wif_source_token_free(token);
  token = NULL;
  if ((self = self_path()) == NULL) {
    cli_err("cannot find the wifctl program itself");
    ret = CLI_EXIT_UNAVAILABLE;
    goto out;
  }
  if ((a.have_source && (rc = cli_source_export(&a, &err)) != WIF_OK) ||
      setenv("SSH_ASKPASS", self, 1) != 0 ||
      setenv("SSH_ASKPASS_REQUIRE", "force", 1) != 0 ||
      setenv("WIF_ASKPASS", "1", 1) != 0) {
    cli_err("cannot set the environment for ssh");
    ret = CLI_EXIT_UNAVAILABLE;
    goto out;
  }
  sargv[sn++] = program;
  sargv[sn++] = ssh_opt;
  sargv[sn++] = ssh_kbdint;
  for (int i = optind; i < argc; i++)
    sargv[sn++] = argv[i];
  sargv[sn] = NULL;
  (void)fflush(NULL);
  execvp(program, sargv);
  cli_err("cannot run %s: %s", program, strerror(errno));
  ret = CLI_EXIT_UNAVAILABLE;
  goto out;
usage:
  fputs("Try 'wifctl ssh --help' for more information.\n", stderr);
  ret = CLI_EXIT_USAGE;
out:
  wif_source_token_free(token);
  free(self);
  cli_source_args_clear(&a);
  return ret;
}
