/* SPDX-License-Identifier: Apache-2.0 */
/* wifctl decode: shows a token's header and claims without checking them. */
#include "wifctl.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "json.h"
#include "jwt.h"

#define DECODE_WARNING                                                         \
  "UNVERIFIED: the signature and claims of this token have NOT been checked"

void cli_decode_help(FILE *f) {
  fputs("Usage: wifctl decode [--json] [TOKEN | - | --token-file FILE]\n"
        "\n"
        "Prints the header and the claims of a token. Nothing is verified:\n"
        "anyone can write a token that decodes to anything. Use\n"
        "'wifctl verify' to validate it.\n"
        "\n"
        "The token is TOKEN, standard input for '-' or when none is given,\n"
        "or the content of FILE; one trailing newline is removed from\n"
        "standard input and files.\n"
        "\n"
        "Options:\n"
        "  --json              one JSON object with warning, header, claims\n"
        "                      and signature_bytes\n"
        "  --token-file FILE   read the token from FILE\n"
        "  --debug             log debugging details to standard error\n"
        "  -h, --help          show this help\n"
        "\n"
        "Exit status: 0 decoded, 1 malformed token, 2 usage error.\n",
        f);
}

static void indent(FILE *f, unsigned depth) {
  for (unsigned i = 0; i < depth; i++)
    fputs("  ", f);
}

/*
 * Prints a value of a document made by the core's strict parser. Depth is
 * bounded by the parser (WIF_JWT_CLAIMS_DEPTH), so recursion is too.
 * Number literals passed its RFC 8259 grammar check and are printed as
 * they came, so large integers keep every digit.
 */
static void put_value(FILE *f, const struct wif_json_doc *doc,
                      const struct wif_json *v, unsigned depth, bool pretty) {
  const struct wif_json *c;
  bool first = true;

  switch (v->type) {
  case WIF_JSON_NULL:
    fputs("null", f);
    return;
  case WIF_JSON_TRUE:
    fputs("true", f);
    return;
  case WIF_JSON_FALSE:
    fputs("false", f);
    return;
  case WIF_JSON_NUMBER:
    fwrite(v->str, 1, v->len, f);
    return;
  case WIF_JSON_STRING:
    cli_json_string(f, v->str, v->len);
    return;
  case WIF_JSON_ARRAY:
  case WIF_JSON_OBJECT:
    break;
  }
  fputc(v->type == WIF_JSON_ARRAY ? '[' : '{', f);
  for (c = wif_json_first(doc, v); c != NULL; c = wif_json_next(doc, v, c)) {
    if (!first)
      fputc(',', f);
    first = false;
    if (pretty) {
      fputc('\n', f);
      indent(f, depth + 1);
    }
    if (v->type == WIF_JSON_OBJECT) {
      const struct wif_json *name = c;

      c = wif_json_next(doc, v, name);
      if (c == NULL)
        break;
      cli_json_string(f, name->str, name->len);
      fputs(pretty ? ": " : ":", f);
    }
    put_value(f, doc, c, depth + 1, pretty);
  }
  if (pretty && !first) {
    fputc('\n', f);
    indent(f, depth);
  }
  fputc(v->type == WIF_JSON_ARRAY ? ']' : '}', f);
}

static void print_human(const struct wif_jwt *jwt,
                        const struct wif_json_doc *claims) {
  printf("%s\n", DECODE_WARNING);
  fputs("header:\n", stdout);
  put_value(stdout, jwt->header, wif_json_root(jwt->header), 0, true);
  fputs("\nclaims:\n", stdout);
  put_value(stdout, claims, wif_json_root(claims), 0, true);
  printf("\nsignature: %zu bytes\n", jwt->signature_len);
}

static void print_json(const struct wif_jwt *jwt,
                       const struct wif_json_doc *claims) {
  /* Keys in sorted order, like verify --json. */
  fputs("{\"claims\":", stdout);
  put_value(stdout, claims, wif_json_root(claims), 0, false);
  fputs(",\"header\":", stdout);
  put_value(stdout, jwt->header, wif_json_root(jwt->header), 0, false);
  printf(",\"signature_bytes\":%zu,\"warning\":", jwt->signature_len);
  cli_json_string(stdout, DECODE_WARNING, strlen(DECODE_WARNING));
  fputs("}\n", stdout);
}

int cli_decode(int argc, char **argv, bool debug) {
  enum { OPT_JSON = 256, OPT_TOKEN_FILE, OPT_DEBUG };
  static const struct option opts[] = {
      {"json", no_argument, NULL, OPT_JSON},
      {"token-file", required_argument, NULL, OPT_TOKEN_FILE},
      {"debug", no_argument, NULL, OPT_DEBUG},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  int ret = CLI_EXIT_USAGE;
  bool json = false;
  const char *token_file = NULL;
  char *token_arg = NULL;
  struct cli_token token = {NULL, 0, 0, false};
  struct wif_jwt *jwt = NULL;
  struct wif_json_doc *claims = NULL;
  struct wif_error err;
  struct wif_log log;
  wif_rc rc;
  int c;

  wif_error_clear(&err);
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
    switch (c) {
    case 'h':
      cli_decode_help(stdout);
      ret = CLI_EXIT_OK;
      goto out;
    case OPT_JSON:
      json = true;
      break;
    case OPT_TOKEN_FILE:
      token_file = optarg;
      break;
    case OPT_DEBUG:
      debug = true;
      break;
    case ':':
      cli_err("decode: option '%s' needs an argument", argv[optind - 1]);
      goto usage;
    default:
      if (optopt != 0)
        cli_err("decode: unknown option '-%c'", optopt);
      else
        cli_err("decode: unknown option '%s'", argv[optind - 1]);
      goto usage;
    }
  }
  if (optind < argc)
    token_arg = argv[optind++];
  if (optind < argc) {
    cli_err("decode: more than one token given");
    goto usage;
  }
  if (token_arg != NULL && token_file != NULL) {
    cli_err("decode: give either TOKEN or --token-file, not both");
    goto usage;
  }
  cli_log_init(&log, debug);

  rc = cli_token_read(token_arg, token_file, &token, &err);
  if (rc == WIF_E_TOO_LARGE) {
    cli_err("decode: %s (TOO_LARGE)", err.msg);
    ret = CLI_EXIT_INVALID;
    goto out;
  }
  if (rc != WIF_OK) {
    cli_err("decode: %s", err.msg);
    ret = rc == WIF_E_NOMEM ? CLI_EXIT_UNAVAILABLE : CLI_EXIT_USAGE;
    goto out;
  }
  rc = wif_jwt_parse(token.buf, token.len, &jwt, &err);
  if (rc == WIF_OK)
    rc = wif_jwt_claims(jwt, &claims, &err);
  if (rc != WIF_OK) {
    char msg[WIF_ERROR_MSG_MAX];
    const char *why = err.msg[0] ? err.msg : wif_rc_describe(rc);

    cli_err("decode: cannot decode the token (%s): %s", wif_rc_name(rc),
            cli_clean(why, strlen(why), msg, sizeof(msg)));
    ret = cli_exit_code(rc);
    goto out;
  }
  wif_log(&log, LOG_DEBUG, "decode: %zu-byte token", token.len);
  if (json)
    print_json(jwt, claims);
  else
    print_human(jwt, claims);
  if (fflush(stdout) != 0) {
    cli_err("decode: cannot write the output");
    ret = CLI_EXIT_UNAVAILABLE;
    goto out;
  }
  ret = CLI_EXIT_OK;
  goto out;
usage:
  fputs("Usage: wifctl decode [--json] [TOKEN | - | --token-file FILE]\n",
        stderr);
  ret = CLI_EXIT_USAGE;
out:
  wif_json_free(claims);
  wif_jwt_free(jwt);
  cli_token_clear(&token);
  return ret;
}
