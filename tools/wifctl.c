/* SPDX-License-Identifier: Apache-2.0 */
/* wifctl: command dispatch, help, and the helpers every command shares. */
#include "wifctl.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "file.h"
#include "helper.h"
#include "jwt.h"
#include "wifctl_source.h"

#ifndef WIF_VERSION
#define WIF_VERSION "unknown"
#endif

/* One byte more than the largest token plus "\r\n", so that a larger input
 * is noticed without reading all of it. */
#define CLI_TOKEN_READ_MAX (WIF_TOKEN_MAX + 2)

static void main_help(FILE *f) {
  fputs("Usage: wifctl [--debug] [--helper PATH] COMMAND [OPTIONS] [ARGS]\n"
        "       wifctl --help | --version | help [COMMAND]\n"
        "\n"
        "Validates workload identity tokens (OAuth 2.0 / OIDC JWTs) as the\n"
        "pam_wif module does.\n"
        "\n"
        "Commands:\n"
        "  verify   validate a token against pam_wif.conf or stand-alone\n"
        "           options, and print the decision with its reason\n"
        "  decode   print a token's header and claims, UNVERIFIED\n"
        "  check    lint pam_wif.conf, pam_wif.map, their drop-in files,\n"
        "           sshd and the PAM stacks (exit 0 clean, 1 warnings,\n"
        "           2 errors)\n"
        "  provider add a provider as a drop-in file, from a preset\n"
        "  map      add a checked rule to the drop-in map\n"
        "  jwks     fetch, show or revoke the cached provider keys\n"
        "  token    obtain this workload's own token (azure, gcp, k8s,\n"
        "           github, file:, exec:, client-credentials) and print it\n"
        "  askpass  SSH_ASKPASS helper: answer pam_wif's token prompts\n"
        "  ssh      run ssh with the token delivered through askpass\n"
        "  help     show help for a command\n"
        "\n"
        "Options:\n"
        "  --debug      log debugging details to standard error\n"
        "  --helper PATH  the fetch helper that fetches keys into root's\n"
        "               cache (default $WIF_HELPER, else " WIF_HELPER_PATH ")\n"
        "  -h, --help   show this help\n"
        "  --version    show the version\n"
        "\n"
        "Exit status:\n"
        "  0  success: the token is valid\n"
        "  1  invalid or denied: the token is malformed, empty, too large,\n"
        "     badly signed, expired, for another audience, ...\n"
        "  2  usage or configuration error: unknown command or option, a\n"
        "     missing option, an unreadable token file or --jwks file, an\n"
        "     invalid or insecure configuration\n"
        "  3  unavailable: the issuer's keys cannot be obtained (including a\n"
        "     configured jwks_file that is missing or unusable), or a local\n"
        "     resource failed (out of memory, a failed system call)\n",
        f);
}

static const char *helper_option;

const char *cli_helper_path(void) {
  const char *env = secure_getenv("WIF_HELPER");

  if (helper_option != NULL)
    return helper_option;
  return env != NULL && env[0] != '\0' ? env : WIF_HELPER_PATH;
}

static void main_usage(void) {
  fputs("Usage: wifctl [--debug] "
        "{verify|decode|check|provider|map|jwks|token|askpass|ssh|help} "
        "[OPTIONS] [ARGS]\n"
        "Try 'wifctl --help' for more information.\n",
        stderr);
}

int cli_exit_code(wif_rc rc) {
  switch (wif_rc_classify(rc)) {
  case WIF_CLASS_OK:
    return CLI_EXIT_OK;
  case WIF_CLASS_INVALID:
    return CLI_EXIT_INVALID;
  case WIF_CLASS_CONFIG:
    return CLI_EXIT_USAGE;
  case WIF_CLASS_UNAVAILABLE:
  case WIF_CLASS_SYSTEM:
    return CLI_EXIT_UNAVAILABLE;
  }
  return CLI_EXIT_UNAVAILABLE;
}

void cli_err(const char *fmt, ...) {
  va_list ap;

  fputs("wifctl: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

static void log_stderr(void *ctx, int priority, const char *msg) {
  const char *level = "";

  (void)ctx;
  if (priority <= LOG_ERR)
    level = "error: ";
  else if (priority == LOG_WARNING)
    level = "warning: ";
  else if (priority == LOG_DEBUG)
    level = "debug: ";
  fprintf(stderr, "wifctl: %s%s\n", level, msg);
}

void cli_log_init(struct wif_log *log, bool debug) {
  log->fn = log_stderr;
  log->ctx = NULL;
  log->debug = debug;
}

const char *cli_clean(const char *s, size_t len, char *buf, size_t size) {
  wif_log_sanitize(s, len, buf, size);
  return buf;
}

/* Decodes one UTF-8 sequence at s (n bytes left); 0 when invalid. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp) {
  size_t need;
  uint32_t c = s[0];

  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  if (c >= 0xc2 && c <= 0xdf) {
    need = 2;
    c &= 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    need = 3;
    c &= 0x0f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    need = 4;
    c &= 0x07;
  } else {
    return 0;
  }
  if (need > n)
    return 0;
  for (size_t i = 1; i < need; i++) {
    if ((s[i] & 0xc0) != 0x80)
      return 0;
    c = (c << 6) | (s[i] & 0x3fu);
  }
  if ((need == 3 && c < 0x800) || (need == 4 && c < 0x10000) || c > 0x10ffff ||
      (c >= 0xd800 && c <= 0xdfff))
    return 0;
  *cp = c;
  return need;
}

void cli_json_string(FILE *f, const char *s, size_t len) {
  const unsigned char *u = (const unsigned char *)s;
  size_t i = 0;

  fputc('"', f);
  while (i < len) {
    uint32_t cp = 0;
    size_t n = utf8_decode(u + i, len - i, &cp);

    if (n == 0) {
      /* The core's parser only hands out valid UTF-8; never trust it. */
      fputs("\\ufffd", f);
      i++;
      continue;
    }
    i += n;
    if (cp == '"' || cp == '\\') {
      fputc('\\', f);
      fputc((int)cp, f);
    } else if (cp == '\n') {
      fputs("\\n", f);
    } else if (cp == '\t') {
      fputs("\\t", f);
    } else if (cp == '\r') {
      fputs("\\r", f);
    } else if (cp >= 0x20 && cp < 0x7f) {
      fputc((int)cp, f);
    } else if (cp < 0x10000) {
      fprintf(f, "\\u%04x", (unsigned)cp);
    } else {
      cp -= 0x10000;
      fprintf(f, "\\u%04x\\u%04x", (unsigned)(0xd800 + (cp >> 10)),
              (unsigned)(0xdc00 + (cp & 0x3ff)));
    }
  }
  fputc('"', f);
}

static void strip_newline(struct cli_token *t) {
  if (t->len > 0 && t->buf[t->len - 1] == '\n') {
    t->len--;
    if (t->len > 0 && t->buf[t->len - 1] == '\r')
      t->len--;
  }
}

static wif_rc read_stdin(struct cli_token *t, struct wif_error *err) {
  wif_rc rc = WIF_E_SYSTEM;
  size_t size = CLI_TOKEN_READ_MAX + 1;
  char *buf = malloc(size);
  size_t len = 0;

  if (buf == NULL) {
    rc = wif_error_set(err, WIF_E_NOMEM, "out of memory");
    goto out;
  }
  while (len < size) {
    ssize_t n = read(STDIN_FILENO, buf + len, size - len);

    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      rc = wif_error_set(err, WIF_E_SYSTEM, "cannot read standard input: %s",
                         strerror(errno));
      goto out;
    }
    if (n == 0)
      break;
    len += (size_t)n;
  }
  if (len > CLI_TOKEN_READ_MAX) {
    rc = wif_error_set(err, WIF_E_TOO_LARGE,
                       "the token is longer than %d bytes", WIF_TOKEN_MAX);
    goto out;
  }
  t->buf = buf;
  t->size = size;
  t->len = len;
  buf = NULL;
  rc = WIF_OK;
out:
  if (buf != NULL) {
    OPENSSL_cleanse(buf, size);
    free(buf);
  }
  return rc;
}

wif_rc cli_token_read(char *arg, const char *file, struct cli_token *out,
                      struct wif_error *err) {
  wif_rc rc = WIF_E_SYSTEM;
  struct cli_token t = {NULL, 0, 0, false};

  memset(out, 0, sizeof(*out));
  if (file != NULL) {
    struct wif_error ferr;

    wif_error_clear(&ferr);
    rc = wif_file_read(file, CLI_TOKEN_READ_MAX, &t.buf, &t.len, &ferr);
    if (rc == WIF_E_TOO_LARGE) {
      rc = wif_error_set(err, rc, "the token in %s is longer than %d bytes",
                         file, WIF_TOKEN_MAX);
      goto out;
    }
    if (rc != WIF_OK) {
      rc = wif_error_set(err, rc, "cannot read the token file: %s",
                         ferr.msg[0] ? ferr.msg : wif_rc_describe(rc));
      goto out;
    }
    t.size = t.len;
    t.from_file = true;
    strip_newline(&t);
  } else if (arg == NULL || strcmp(arg, "-") == 0) {
    rc = read_stdin(&t, err);
    if (rc != WIF_OK)
      goto out;
    strip_newline(&t);
  } else {
    size_t len = strlen(arg);

    /* A token on the command line is visible in ps; shorten that window. */
    t.buf = malloc(len + 1);
    if (t.buf == NULL) {
      rc = wif_error_set(err, WIF_E_NOMEM, "out of memory");
      goto out;
    }
    memcpy(t.buf, arg, len + 1);
    t.len = len;
    t.size = len + 1;
    OPENSSL_cleanse(arg, len);
  }
  *out = t;
  t.buf = NULL;
  rc = WIF_OK;
out:
  cli_token_clear(&t);
  return rc;
}

void cli_token_clear(struct cli_token *t) {
  if (t == NULL || t->buf == NULL)
    return;
  if (t->from_file) {
    wif_file_free_buffer(t->buf, t->size);
  } else {
    OPENSSL_cleanse(t->buf, t->size);
    free(t->buf);
  }
  memset(t, 0, sizeof(*t));
}

/* Every command: its name, what runs it and its help. */
struct command {
  const char *name;
  int (*run)(int argc, char **argv, bool debug);
  void (*help)(FILE *f);
};

static const struct command commands[] = {
    {"verify", cli_verify, cli_verify_help},
    {"decode", cli_decode, cli_decode_help},
    {"check", cli_check, cli_check_help},
    {"provider", cli_provider, cli_provider_help},
    {"map", cli_map, cli_map_help},
    {"jwks", cli_jwks, cli_jwks_help},
    {"token", cli_token, cli_token_help},
    {"askpass", cli_askpass, cli_askpass_help},
    {"ssh", cli_ssh, cli_ssh_help},
};

static const struct command *find_command(const char *name) {
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
    if (strcmp(commands[i].name, name) == 0)
      return &commands[i];
  return NULL;
}

static int unknown_command(const char *cmd) {
  char name[64];

  cli_err("unknown command '%s'",
          cli_clean(cmd, strlen(cmd), name, sizeof(name)));
  main_usage();
  return CLI_EXIT_USAGE;
}

static int run_help(int argc, char **argv) {
  const struct command *c;

  if (argc > 2) {
    main_usage();
    return CLI_EXIT_USAGE;
  }
  if (argc < 2 || strcmp(argv[1], "help") == 0) {
    main_help(stdout);
    return CLI_EXIT_OK;
  }
  if ((c = find_command(argv[1])) == NULL)
    return unknown_command(argv[1]);
  c->help(stdout);
  return CLI_EXIT_OK;
}

int main(int argc, char **argv) {
  static const struct option opts[] = {{"help", no_argument, NULL, 'h'},
                                       {"version", no_argument, NULL, 'V'},
                                       {"debug", no_argument, NULL, 'd'},
                                       {"helper", required_argument, NULL, 'H'},
                                       {NULL, 0, NULL, 0}};
  bool debug = false;
  const struct command *c;
  const char *cmd;
  int opt;

  opterr = 0;
  /* "+": stop at the command; its own options are parsed by the command. */
  while ((opt = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
    switch (opt) {
    case 'h':
      main_help(stdout);
      return CLI_EXIT_OK;
    case 'V':
      printf("wifctl (pam_wif) %s\n", WIF_VERSION);
      return CLI_EXIT_OK;
    case 'd':
      debug = true;
      break;
    case 'H':
      helper_option = optarg;
      break;
    default: {
      char name[64];
      const char *bad = argv[optind - 1];

      if (optopt != 0)
        cli_err("unknown option '-%c'", optopt);
      else
        cli_err("unknown option '%s'",
                cli_clean(bad, strlen(bad), name, sizeof(name)));
      main_usage();
      return CLI_EXIT_USAGE;
    }
    }
  }
  if (optind >= argc) {
    cli_err("no command given");
    main_usage();
    return CLI_EXIT_USAGE;
  }
  cmd = argv[optind];
  argc -= optind;
  argv += optind;
  /* glibc: 0 restarts getopt from scratch for the command's arguments. */
  optind = 0;
  if ((c = find_command(cmd)) != NULL)
    return c->run(argc, argv, debug);
  if (strcmp(cmd, "help") == 0)
    return run_help(argc, argv);
  /* `wifctl ssh` makes ssh run us as SSH_ASKPASS: argv[1] is a prompt. */
  if (cli_askpass_implied(argc, argv))
    return cli_askpass_prompt(cmd, debug);
  return unknown_command(cmd);
}
