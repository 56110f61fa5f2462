/* SPDX-License-Identifier: Apache-2.0 */
/* wifctl ssh: runs ssh with `wifctl askpass` answering pam_wif's prompts. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "wifctl.h"
#include "wifctl_source.h"

#define SSH_ARGS_MAX 256
#define SSH_STATE_PREFIX "ssh-"
#define SSH_EXPIRY_WARN_S 60

/* execvp takes char *const[]; these are never written. */
static char ssh_default[] = "ssh";
static char ssh_opt[] = "-o";
static char ssh_kbdint[] = "PreferredAuthentications=keyboard-interactive";
/* One keyboard-interactive attempt per token, so a refusal is one
 * decision line on the host; two when the first token came from the cache
 * and may be refused (then askpass fetches a new one for the second). */
static char ssh_prompts_1[] = "NumberOfPasswordPrompts=1";
static char ssh_prompts_2[] = "NumberOfPasswordPrompts=2";

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
        "ssh makes one keyboard-interactive attempt per token\n"
        "(NumberOfPasswordPrompts=1). When the token came from the cache and\n"
        "the host refuses it, the entry is dropped, a new token fetched and\n"
        "tried once more (NumberOfPasswordPrompts=2), never more. Questions\n"
        "that are not token prompts (an unknown host key, a passphrase) are\n"
        "answered no and named on standard error with the way to fix them;\n"
        "host key checking is never weakened.\n"
        "\n"
        "  --ssh-program PATH  run PATH instead of ssh (found in PATH)\n"
        "\n",
        f);
  cli_source_options_help(f);
  fputs("\n"
        "Exit status: ssh's own; 2 usage error; 3 no token available.\n",
        f);
}

/* Removes the attempt files of `wifctl ssh` runs that have ended (ssh
 * replaced us, so nobody else removes them). */
static void sweep_states(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;

  if (d == NULL)
    return;
  while ((e = readdir(d)) != NULL) {
    char *end = NULL;
    long pid;

    if (strncmp(e->d_name, SSH_STATE_PREFIX, 4) != 0)
      continue;
    errno = 0;
    pid = strtol(e->d_name + 4, &end, 10);
    if (errno != 0 || end == e->d_name + 4 || *end != '\0' || pid <= 0 ||
        pid > INT_MAX)
      continue;
    if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
      continue;
    (void)unlinkat(dirfd(d), e->d_name, 0);
  }
  (void)closedir(d);
}

/* A new, empty attempt file for this process (which becomes ssh) in the
 * private cache directory; its path in *out (new). */
static bool make_state(const char *dir, char **out) {
  char name[PATH_MAX];
  int fd;
  int n = snprintf(name, sizeof(name), "%s/" SSH_STATE_PREFIX "%ld", dir,
                   (long)getpid());

  *out = NULL;
  if (n < 0 || (size_t)n >= sizeof(name))
    return false;
  (void)unlink(name);
  fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return false;
  (void)close(fd);
  if ((*out = strdup(name)) == NULL) {
    (void)unlink(name);
    return false;
  }
  return true;
}

int cli_ssh_attempt(void) {
  const char *path = secure_getenv("WIF_SSH_STATE");
  int fd;
  struct stat st;
  char c = '0';
  int attempt = 0;

  if (path == NULL || *path != '/')
    return 0;
  fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return -1;
  /* Parallel askpass runs are not expected, but the count must not be
   * lost to one. */
  if (flock(fd, LOCK_EX) != 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
      st.st_uid != getuid() || st.st_size > 1)
    goto out;
  if (st.st_size == 1 && (pread(fd, &c, 1, 0) != 1 || c < '0' || c > '8'))
    goto out;
  attempt = c - '0' + 1;
  c = (char)('0' + attempt);
  if (pwrite(fd, &c, 1, 0) != 1)
    attempt = -1;
out:
  (void)close(fd);
  return attempt > 0 ? attempt : -1;
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
  static const struct option own[] = {
      {"ssh-program", required_argument, NULL, 'S'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  struct cli_source_args a;
  struct wif_log log;
  struct wif_error err;
  struct cli_source_got got;
  char *token = NULL;
  char *self = NULL;
  char *state = NULL;
  bool retry = false;
  char *program = ssh_default;
  char *sargv[SSH_ARGS_MAX + 6];
  size_t sn = 0;
  int ret = CLI_EXIT_USAGE;
  int c;
  wif_rc rc;
  struct option opts[CLI_SOURCE_OPTIONS_MAX];

  cli_source_args_init(&a);
  cli_log_init(&log, debug);
  wif_error_clear(&err);
  memset(&got, 0, sizeof(got));
  cli_source_options_with(opts, own);
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
                      &token, &got, &err);
  if (rc != WIF_OK) {
    cli_err("%s", err.msg[0] ? err.msg : wif_rc_describe(rc));
    ret = cli_exit_code(rc);
    goto out;
  }
  wif_source_token_free(token);
  token = NULL;
  if (got.exp > 0) {
    int64_t left = got.exp - (int64_t)time(NULL);

    /* A file: or k8s token nobody renewed, or a service that hands out
     * old tokens: the host will refuse it, so say why first. */
    if (left <= 0)
      cli_err("warning: the token expired %lld s ago: the host will refuse it",
              (long long)-left);
    else if (left < SSH_EXPIRY_WARN_S)
      cli_err("warning: the token expires in %lld s: the login may fail",
              (long long)left);
  }
  if (got.cached && got.cache_dir != NULL) {
    sweep_states(got.cache_dir);
    retry = make_state(got.cache_dir, &state);
    if (!retry)
      wif_log(&log, LOG_DEBUG, "no attempt file: no retry with a new token");
  }
  if ((self = self_path()) == NULL) {
    cli_err("cannot find the wifctl program itself");
    ret = CLI_EXIT_UNAVAILABLE;
    goto out;
  }
  if ((a.have_source && (rc = cli_source_export(&a, &err)) != WIF_OK) ||
      (retry ? setenv("WIF_SSH_STATE", state, 1) : unsetenv("WIF_SSH_STATE")) !=
          0 ||
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
  sargv[sn++] = ssh_opt;
  sargv[sn++] = retry ? ssh_prompts_2 : ssh_prompts_1;
  for (int i = optind; i < argc; i++)
    sargv[sn++] = argv[i];
  sargv[sn] = NULL;
  (void)fflush(NULL);
  execvp(program, sargv);
  cli_err("cannot run %s: %s", program, strerror(errno));
  if (state != NULL)
    (void)unlink(state);
  ret = CLI_EXIT_UNAVAILABLE;
  goto out;
usage:
  fputs("Try 'wifctl ssh --help' for more information.\n", stderr);
  ret = CLI_EXIT_USAGE;
out:
  wif_source_token_free(token);
  free(got.cache_dir);
  free(state);
  free(self);
  cli_source_args_clear(&a);
  return ret;
}
