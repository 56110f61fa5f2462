/* SPDX-License-Identifier: Apache-2.0 */
/* wifctl verify: validates a token and prints the decision. */
#include "wifctl.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "auth.h"
#include "config.h"
#include "file.h"
#include "http.h"
#include "jwk.h"
#include "jwks_cache.h"
#include "validate.h"

#define CLI_PROVIDER "cli"

void cli_verify_help(FILE *f) {
  fputs(
      "Usage: wifctl verify [-c CONF] [--account NAME] [--json]\n"
      "                     [TOKEN | - | --token-file F]\n"
      "       wifctl verify --issuer ISS --audience AUD [--audience AUD...]\n"
      "                     --jwks FILE [--algorithms LIST] [--clock-skew N]\n"
      "                     [--user-claim C] [--groups-claim C]\n"
      "                     [--max-token-age N] [--json]\n"
      "                     [TOKEN | - | --token-file F]\n"
      "\n"
      "Validates a token as pam_wif does and prints the provider, issuer,\n"
      "subject, groups, expiry, kid, alg and the decision with its reason.\n"
      "\n"
      "The first form reads the providers of a configuration file (default\n"
      "" WIF_CONFIG_PATH "), which must be owned by you or root and not\n"
      "writable by group or others. The second form needs no file: the\n"
      "options make one provider, called '" CLI_PROVIDER "', with the same\n"
      "defaults as a provider section (clock skew 60, algorithms RS256, user\n"
      "claim sub, groups claim groups), and its keys come from the JWKS in\n"
      "--jwks FILE.\n"
      "\n"
      "With --account NAME (first form only) the decision is pam_wif's own:\n"
      "the token must be valid and a line of the mapping file must grant\n"
      "NAME to its subject or one of its groups. The output then names the\n"
      "rule that matched, or says that none did (NO_MAPPING, exit 1).\n"
      "Accounts with uid 0 or gid 0 are always refused. For a one_time\n"
      "provider, a token whose jti was used for a login is REPLAYED; verify\n"
      "itself never uses a token up.\n"
      "\n"
      "The token is TOKEN, standard input for '-' or when none is given, or\n"
      "the content of F; exactly one trailing newline is removed from\n"
      "standard input and files. Prefer '-' or --token-file: a command\n"
      "line is visible to other users.\n"
      "\n"
      "Options:\n"
      "  -c, --config CONF      configuration file\n"
      "  --account NAME         apply the mapping for local account NAME\n"
      "  --issuer ISS           the issuer; must equal the token's iss\n"
      "  --audience AUD         an accepted audience (repeatable)\n"
      "  --jwks FILE            the issuer's keys (a JWKS document)\n"
      "  --algorithms LIST      allowed algorithms, e.g. RS256,ES256\n"
      "  --clock-skew N         seconds of leeway on exp, nbf, iat\n"
      "  --user-claim C         claim naming the subject (JSON pointer ok)\n"
      "  --groups-claim C       claim holding the groups (JSON pointer ok)\n"
      "  --max-token-age N      largest exp - iat, in seconds\n"
      "  --token-file F         read the token from F\n"
      "  --json                 print one JSON object: valid, reason,\n"
      "                         message, provider, issuer, subject, groups,\n"
      "                         exp, kid, alg\n"
      "  --debug                log debugging details to standard error\n"
      "  -h, --help             show this help\n"
      "\n"
      "Exit status:\n"
      "  0  the token is valid\n"
      "  1  the token is invalid (including malformed, empty or too large),\n"
      "     or with --account, no mapping line grants the account\n"
      "  2  usage or configuration error; also an unreadable or unusable\n"
      "     --jwks FILE or token file\n"
      "  3  unavailable: keys cannot be obtained (with -c, a provider's\n"
      "     jwks_file missing or unusable), or a local resource failed\n",
      f);
}

static void verify_usage(void) {
  fputs("Usage: wifctl verify [-c CONF [--account NAME] | --issuer ISS "
        "--audience AUD --jwks FILE ...] [--json] [TOKEN | - | --token-file "
        "F]\n"
        "Try 'wifctl verify --help' for more information.\n",
        stderr);
}

/* A stand-alone option, applied to the config with wif_config_set. */
struct setting {
  const char *option; /* for messages */
  const char *key;
  const char *value;
  bool global;
};

struct verify_args {
  const char *config;
  const char *account;
  bool json;
  bool debug;
  const char *token_file;
  char *token_arg;
  const char *jwks;
  bool have_issuer;
  bool have_audience;
  struct setting *settings; /* argc entries at most */
  size_t n_settings;
};

static const char *err_text(const struct wif_error *err, wif_rc rc) {
  return err->msg[0] != '\0' ? err->msg : wif_rc_describe(rc);
}

/* CLI_EXIT_OK to go on, -1 when help was printed, else a usage error. */
static int parse_args(int argc, char **argv, struct verify_args *a) {
  enum {
    OPT_JSON = 256,
    OPT_TOKEN_FILE,
    OPT_ISSUER,
    OPT_AUDIENCE,
    OPT_JWKS,
    OPT_ALGORITHMS,
    OPT_CLOCK_SKEW,
    OPT_USER_CLAIM,
    OPT_GROUPS_CLAIM,
    OPT_MAX_TOKEN_AGE,
    OPT_DEBUG,
    OPT_ACCOUNT
  };
  static const struct option opts[] = {
      {"config", required_argument, NULL, 'c'},
      {"json", no_argument, NULL, OPT_JSON},
      {"token-file", required_argument, NULL, OPT_TOKEN_FILE},
      {"issuer", required_argument, NULL, OPT_ISSUER},
      {"audience", required_argument, NULL, OPT_AUDIENCE},
      {"jwks", required_argument, NULL, OPT_JWKS},
      {"algorithms", required_argument, NULL, OPT_ALGORITHMS},
      {"clock-skew", required_argument, NULL, OPT_CLOCK_SKEW},
      {"user-claim", required_argument, NULL, OPT_USER_CLAIM},
      {"groups-claim", required_argument, NULL, OPT_GROUPS_CLAIM},
      {"max-token-age", required_argument, NULL, OPT_MAX_TOKEN_AGE},
      {"debug", no_argument, NULL, OPT_DEBUG},
      {"account", required_argument, NULL, OPT_ACCOUNT},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  int c;

  opterr = 0;
  while ((c = getopt_long(argc, argv, ":c:h", opts, NULL)) != -1) {
    struct setting *s = &a->settings[a->n_settings];

    switch (c) {
    case 'h':
      cli_verify_help(stdout);
      return -1;
    case 'c':
      a->config = optarg;
      break;
    case OPT_JSON:
      a->json = true;
      break;
    case OPT_DEBUG:
      a->debug = true;
      break;
    case OPT_ACCOUNT:
      a->account = optarg;
      break;
    case OPT_TOKEN_FILE:
      a->token_file = optarg;
      break;
    case OPT_JWKS:
      a->jwks = optarg;
      break;
    case OPT_ISSUER:
    case OPT_AUDIENCE:
    case OPT_ALGORITHMS:
    case OPT_CLOCK_SKEW:
    case OPT_USER_CLAIM:
    case OPT_GROUPS_CLAIM:
    case OPT_MAX_TOKEN_AGE:
      s->value = optarg;
      s->global = c == OPT_CLOCK_SKEW;
      s->key = c == OPT_ISSUER         ? "issuer"
               : c == OPT_AUDIENCE     ? "audience"
               : c == OPT_ALGORITHMS   ? "algorithms"
               : c == OPT_CLOCK_SKEW   ? "clock_skew"
               : c == OPT_USER_CLAIM   ? "user_claim"
               : c == OPT_GROUPS_CLAIM ? "groups_claim"
                                       : "max_token_age";
      for (size_t i = 0; opts[i].name != NULL; i++)
        if (opts[i].val == c)
          s->option = opts[i].name;
      a->n_settings++;
      if (c == OPT_ISSUER) {
        if (a->have_issuer) {
          cli_err("verify: --issuer given twice");
          return CLI_EXIT_USAGE;
        }
        a->have_issuer = true;
      }
      if (c == OPT_AUDIENCE)
        a->have_audience = true;
      break;
    case ':':
      cli_err("verify: option '%s' needs an argument", argv[optind - 1]);
      return CLI_EXIT_USAGE;
    default:
      if (optopt != 0)
        cli_err("verify: unknown option '-%c'", optopt);
      else
        cli_err("verify: unknown option '%s'", argv[optind - 1]);
      return CLI_EXIT_USAGE;
    }
  }
  if (optind < argc)
    a->token_arg = argv[optind++];
  if (optind < argc) {
    cli_err("verify: more than one token given");
    return CLI_EXIT_USAGE;
  }
  if (a->token_arg != NULL && a->token_file != NULL) {
    cli_err("verify: give either TOKEN or --token-file, not both");
    return CLI_EXIT_USAGE;
  }
  if (a->n_settings > 0 || a->jwks != NULL) {
    if (a->config != NULL) {
      cli_err("verify: -c cannot be combined with --issuer, --audience, "
              "--jwks and the other stand-alone options");
      return CLI_EXIT_USAGE;
    }
    if (a->account != NULL) {
      cli_err("verify: --account needs the mapping file of a configuration "
              "(-c), not stand-alone options");
      return CLI_EXIT_USAGE;
    }
    if (!a->have_issuer) {
      cli_err("verify: --issuer is required without -c");
      return CLI_EXIT_USAGE;
    }
    if (!a->have_audience) {
      cli_err("verify: --audience is required without -c");
      return CLI_EXIT_USAGE;
    }
    if (a->jwks == NULL) {
      cli_err("verify: --jwks is required without -c");
      return CLI_EXIT_USAGE;
    }
  }
  return CLI_EXIT_OK;
}

/* The config from -c (or the default path). */
static int load_config(const struct verify_args *a, struct wif_config **out) {
  const char *path = a->config != NULL ? a->config : WIF_CONFIG_PATH;
  struct wif_error err;
  wif_rc rc;

  wif_error_clear(&err);
  rc = wif_config_load(path, getuid(), out, &err);
  if (rc != WIF_OK) {
    const char *msg = err_text(&err, rc);

    /* The message should name the file; make sure it does. */
    if (strstr(msg, path) != NULL)
      cli_err("%s (%s)", msg, wif_rc_name(rc));
    else
      cli_err("%s: %s (%s)", path, msg, wif_rc_name(rc));
    return rc == WIF_E_NOMEM ? CLI_EXIT_UNAVAILABLE : CLI_EXIT_USAGE;
  }
  return CLI_EXIT_OK;
}

/* A config with the one provider the stand-alone options describe. */
static int build_config(const struct verify_args *a, struct wif_config **out) {
  int ret = CLI_EXIT_USAGE;
  struct wif_config *cfg = NULL;
  struct wif_provider *p = NULL;
  struct wif_error err;
  wif_rc rc;

  wif_error_clear(&err);
  cfg = wif_config_new("command line");
  if (cfg == NULL) {
    cli_err("out of memory");
    ret = CLI_EXIT_UNAVAILABLE;
    goto out;
  }
  rc = wif_config_add_provider(cfg, CLI_PROVIDER, &p, &err);
  if (rc != WIF_OK) {
    cli_err("verify: %s", err_text(&err, rc));
    ret = cli_exit_code(rc);
    goto out;
  }
  for (size_t i = 0; i < a->n_settings; i++) {
    const struct setting *s = &a->settings[i];

    rc = wif_config_set(cfg, s->global ? NULL : p, s->key, s->value, &err);
    if (rc != WIF_OK) {
      cli_err("verify: --%s: %s", s->option, err_text(&err, rc));
      ret = rc == WIF_E_NOMEM ? CLI_EXIT_UNAVAILABLE : CLI_EXIT_USAGE;
      goto out;
    }
  }
  rc = wif_config_finish(cfg, &err);
  if (rc != WIF_OK) {
    cli_err("verify: %s", err_text(&err, rc));
    ret = rc == WIF_E_NOMEM ? CLI_EXIT_UNAVAILABLE : CLI_EXIT_USAGE;
    goto out;
  }
  *out = cfg;
  cfg = NULL;
  ret = CLI_EXIT_OK;
out:
  wif_config_free(cfg);
  return ret;
}

/* Installs --jwks FILE for the stand-alone provider. The file is the
 * user's own choice, so it is read without ownership rules; a file that
 * cannot be read or holds no usable key is a usage error (exit 2). */
static int install_jwks(struct wif_validator *v, const struct wif_config *cfg,
                        const char *path, const struct wif_log *log) {
  int ret = CLI_EXIT_USAGE;
  char *text = NULL;
  size_t len = 0;
  struct wif_jwks *keys = NULL;
  struct wif_error err;
  wif_rc rc;

  wif_error_clear(&err);
  rc = wif_file_read(path, WIF_JWKS_SIZE_MAX, &text, &len, &err);
  if (rc != WIF_OK) {
    cli_err("verify: cannot read --jwks %s: %s (%s)", path, err_text(&err, rc),
            wif_rc_name(rc));
    ret = rc == WIF_E_NOMEM ? CLI_EXIT_UNAVAILABLE : CLI_EXIT_USAGE;
    goto out;
  }
  rc = wif_jwks_parse(text, len, log, &keys, &err);
  if (rc != WIF_OK) {
    cli_err("verify: --jwks %s: %s (%s)", path, err_text(&err, rc),
            wif_rc_name(rc));
    ret = rc == WIF_E_NOMEM ? CLI_EXIT_UNAVAILABLE : CLI_EXIT_USAGE;
    goto out;
  }
  rc = wif_validator_set_keys(v, &cfg->providers[0], keys);
  keys = NULL; /* owned by v now, also on failure */
  if (rc != WIF_OK) {
    cli_err("verify: --jwks %s: %s (%s)", path, wif_rc_describe(rc),
            wif_rc_name(rc));
    ret = cli_exit_code(rc);
    if (ret == CLI_EXIT_INVALID)
      ret = CLI_EXIT_USAGE;
    goto out;
  }
  ret = CLI_EXIT_OK;
out:
  wif_jwks_free(keys);
  wif_file_free_buffer(text, len);
  return ret;
}

/* Everything the output shows, as borrowed text (NULL when unknown). */
struct verdict {
  wif_rc rc;
  const char *message;
  const char *provider;
  const char *issuer;
  const char *subject;
  size_t subject_len;
  const char *const *groups;
  size_t n_groups;
  bool have_exp;
  int64_t exp;
  const char *kid;
  size_t kid_len;
  const char *alg;
  /* With --account: */
  const char *account;
  const char *rule_file; /* NULL: no rule matched */
  unsigned rule_line;
  const char *rule_type;
  const char *rule_identifier;
};

static void fill_verdict(const struct wif_result *r, wif_rc rc,
                         const char *message, struct verdict *out) {
  memset(out, 0, sizeof(*out));
  out->rc = rc;
  out->message = message;
  if (r == NULL)
    return;
  if (r->provider != NULL)
    out->provider = r->provider->name;
  if (r->jwt != NULL) {
    out->kid = r->jwt->kid;
    out->kid_len = r->jwt->kid_len;
    out->alg = r->jwt->alg_known ? wif_alg_name(r->jwt->alg) : r->jwt->alg_name;
  }
  /* Claims are shown only once they are verified. */
  if (rc == WIF_OK) {
    out->issuer = r->identity.issuer;
    out->subject = r->identity.subject;
    out->subject_len = r->identity.subject_len;
    out->groups = r->identity.groups;
    out->n_groups = r->identity.n_groups;
    out->have_exp = true;
    out->exp = r->identity.exp;
  }
}

static const char *decision_word(wif_rc rc) {
  switch (wif_rc_classify(rc)) {
  case WIF_CLASS_OK:
    return "valid";
  case WIF_CLASS_INVALID:
    return "invalid";
  case WIF_CLASS_UNAVAILABLE:
    return "unavailable";
  case WIF_CLASS_CONFIG:
  case WIF_CLASS_SYSTEM:
    break;
  }
  return "error";
}

static void print_line(const char *label, const char *s, size_t len) {
  char buf[1200];

  if (s == NULL)
    return;
  printf("%-9s %s\n", label, cli_clean(s, len, buf, sizeof(buf)));
}

static void print_human(const struct verdict *d, int64_t now) {
  char buf[WIF_ERROR_MSG_MAX + 64];

  print_line("provider:", d->provider, d->provider ? strlen(d->provider) : 0);
  print_line("issuer:", d->issuer, d->issuer ? strlen(d->issuer) : 0);
  print_line("subject:", d->subject, d->subject_len);
  if (d->rc == WIF_OK) {
    printf("%-9s %zu\n", "groups:", d->n_groups);
    for (size_t i = 0; d->groups != NULL && i < d->n_groups; i++)
      printf("  - %s\n",
             cli_clean(d->groups[i], strlen(d->groups[i]), buf, sizeof(buf)));
  }
  if (d->have_exp) {
    struct tm tm;
    time_t t = (time_t)d->exp;
    char iso[64] = "";
    int64_t left = d->exp - now;

    if (gmtime_r(&t, &tm) == NULL ||
        strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
      snprintf(iso, sizeof(iso), "%" PRId64, d->exp);
    if (left >= 0)
      printf("%-9s %s (in %" PRId64 " s)\n", "expires:", iso, left);
    else
      printf("%-9s %s (%" PRId64 " s ago, within the clock skew)\n",
             "expires:", iso, -left);
  }
  print_line("kid:", d->kid, d->kid_len);
  print_line("alg:", d->alg, d->alg ? strlen(d->alg) : 0);
  if (d->account != NULL) {
    print_line("account:", d->account, strlen(d->account));
    if (d->rule_file != NULL) {
      char where[600];

      snprintf(where, sizeof(where), "%s:%u: %s ", d->rule_file, d->rule_line,
               d->rule_type);
      printf("%-9s %s",
             "rule:", cli_clean(where, strlen(where), buf, sizeof(buf)));
      printf("%s\n", cli_clean(d->rule_identifier, strlen(d->rule_identifier),
                               buf, sizeof(buf)));
    } else {
      printf("%-9s none\n", "rule:");
    }
  }
  if (d->rc == WIF_OK)
    printf("decision: valid (OK)\n");
  else
    printf("decision: %s (%s): %s\n", decision_word(d->rc), wif_rc_name(d->rc),
           cli_clean(d->message, strlen(d->message), buf, sizeof(buf)));
}

/* A JSON string of untrusted text; the core hands out valid UTF-8, but
 * should it not, the sanitized form is used instead of failing. */
static json_t *jstr(const char *s, size_t len) {
  char buf[1200];
  json_t *j;

  if (s == NULL)
    return json_null();
  j = json_stringn(s, len);
  if (j == NULL)
    j = json_string(cli_clean(s, len, buf, sizeof(buf)));
  return j;
}

static int print_json(const struct verdict *d) {
  int ret = CLI_EXIT_UNAVAILABLE;
  json_t *groups = json_null();
  json_t *root = NULL;
  char *text = NULL;

  if (d->rc == WIF_OK && d->groups != NULL) {
    json_decref(groups);
    groups = json_array();
    for (size_t i = 0; groups != NULL && i < d->n_groups; i++)
      if (json_array_append_new(
              groups, jstr(d->groups[i], strlen(d->groups[i]))) != 0) {
        json_decref(groups);
        groups = NULL;
      }
  } else if (d->rc == WIF_OK) {
    json_decref(groups);
    groups = json_array();
  }
  if (groups == NULL)
    goto out;
  /* "o" steals each reference, also on failure (jansson >= 2.11). */
  root = json_pack("{s:b, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
                   "valid", d->rc == WIF_OK, "reason", wif_rc_name(d->rc),
                   "message", jstr(d->message, strlen(d->message)), "provider",
                   jstr(d->provider, d->provider ? strlen(d->provider) : 0),
                   "issuer", jstr(d->issuer, d->issuer ? strlen(d->issuer) : 0),
                   "subject", jstr(d->subject, d->subject_len), "groups",
                   groups, "exp",
                   d->have_exp ? json_integer((json_int_t)d->exp) : json_null(),
                   "kid", jstr(d->kid, d->kid_len), "alg",
                   jstr(d->alg, d->alg ? strlen(d->alg) : 0));
  if (root == NULL)
    goto out;
  if (d->account != NULL) {
    json_t *rule = json_null();

    if (d->rule_file != NULL)
      rule = json_pack("{s:o, s:I, s:s, s:o}", "file",
                       jstr(d->rule_file, strlen(d->rule_file)), "line",
                       (json_int_t)d->rule_line, "type", d->rule_type,
                       "identifier",
                       jstr(d->rule_identifier, strlen(d->rule_identifier)));
    if (rule == NULL ||
        json_object_set_new(root, "account",
                            jstr(d->account, strlen(d->account))) != 0 ||
        json_object_set_new(root, "rule", rule) != 0)
      goto out;
  }
  text = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
  if (text == NULL)
    goto out;
  printf("%s\n", text);
  ret = CLI_EXIT_OK;
out:
  if (ret != CLI_EXIT_OK)
    cli_err("verify: cannot format the JSON output");
  free(text);
  json_decref(root);
  return ret;
}

static int print_verdict(const struct verify_args *a, const struct verdict *d,
                         int ret);

static int report(const struct verify_args *a, const struct wif_result *r,
                  wif_rc rc, const char *message) {
  struct verdict d;

  fill_verdict(r, rc, message, &d);
  return print_verdict(a, &d, cli_exit_code(rc));
}

/* The verdict of the decision pam_wif makes (--account). */
static int report_account(const struct verify_args *a,
                          const struct wif_verdict *v) {
  struct verdict d;

  /* As without --account: a configuration that cannot be used is an
   * error on stderr (exit 2), not a verdict. */
  if (wif_rc_classify(v->rc) == WIF_CLASS_CONFIG) {
    cli_err("%s (%s)", v->message, wif_rc_name(v->rc));
    return CLI_EXIT_USAGE;
  }
  memset(&d, 0, sizeof(d));
  d.rc = v->rc;
  d.message = v->message;
  d.provider = v->provider;
  d.kid = v->kid;
  d.kid_len = v->kid != NULL ? strlen(v->kid) : 0;
  d.account = a->account;
  if (v->rc == WIF_OK) {
    d.issuer = v->issuer;
    d.subject = v->subject;
    d.subject_len = v->subject_len;
    d.groups = (const char *const *)v->groups;
    d.n_groups = v->n_groups;
    d.have_exp = true;
    d.exp = v->exp;
    d.rule_file = v->map_file;
    d.rule_line = v->grant_line;
    d.rule_type = wif_authz_name(v->grant_type);
    d.rule_identifier = v->grant_identifier;
  }
  return print_verdict(a, &d, cli_exit_code(v->rc));
}

static int run_account(const struct verify_args *a, const struct wif_log *log,
                       const struct cli_token *token) {
  struct wif_auth_params params;
  struct wif_verdict v;
  char *user_cache = NULL;
  int ret;

  memset(&params, 0, sizeof(params));
  memset(&v, 0, sizeof(v));
  params.config_path = a->config;
  params.owner = getuid();
  params.log = log;
  params.log_decision = a->debug; /* the output says it all otherwise */
  params.service = "verify";
  params.now = (int64_t)time(NULL);
  /* A one-time token is looked up in the replay store, never used up:
   * checking it must not spend the login it is meant for. */
  params.replay_peek = true;
  /* Root shares the module's cache; anyone else keeps their own, or none
   * ("": in memory). */
  if (geteuid() != 0) {
    user_cache = cli_user_cache_dir(log);
    params.cache_dir = user_cache != NULL ? user_cache : "";
    params.http = wif_http_transport;
  } else {
    params.helper = cli_helper_path();
  }
  (void)wif_auth_authenticate(&params, a->account, token->buf, token->len, &v);
  ret = report_account(a, &v);
  wif_verdict_clear(&v);
  free(user_cache);
  return ret;
}

static int print_verdict(const struct verify_args *a, const struct verdict *d,
                         int ret) {
  int out_ret;
  if (a->json) {
    out_ret = print_json(d);
  } else {
    print_human(d, (int64_t)time(NULL));
    out_ret = CLI_EXIT_OK;
  }
  if (fflush(stdout) != 0 && out_ret == CLI_EXIT_OK) {
    cli_err("verify: cannot write the output");
    out_ret = CLI_EXIT_UNAVAILABLE;
  }
  /* A lost verdict must never look like success. */
  if (out_ret != CLI_EXIT_OK && ret == CLI_EXIT_OK)
    ret = out_ret;
  return ret;
}

int cli_verify(int argc, char **argv, bool debug) {
  int ret = CLI_EXIT_USAGE;
  struct verify_args a;
  struct wif_config *cfg = NULL;
  struct wif_validator *v = NULL;
  struct wif_jwks_cache *cache = NULL;
  struct cli_token token = {NULL, 0, 0, false};
  struct wif_result res;
  struct wif_error err;
  struct wif_log log;
  wif_rc rc;

  memset(&a, 0, sizeof(a));
  memset(&res, 0, sizeof(res));
  wif_error_clear(&err);
  a.debug = debug;
  a.settings = calloc((size_t)(argc > 0 ? argc : 1), sizeof(*a.settings));
  if (a.settings == NULL) {
    cli_err("out of memory");
    ret = CLI_EXIT_UNAVAILABLE;
    goto out;
  }
  ret = parse_args(argc, argv, &a);
  if (ret == -1) {
    ret = CLI_EXIT_OK;
    goto out;
  }
  if (ret != CLI_EXIT_OK) {
    verify_usage();
    goto out;
  }
  cli_log_init(&log, a.debug);

  if (a.account != NULL) {
    /* The decision loads the config and map itself, as the module does. */
    rc = cli_token_read(a.token_arg, a.token_file, &token, &err);
    if (rc == WIF_E_TOO_LARGE) {
      ret = report(&a, NULL, rc, err_text(&err, rc));
      goto out;
    }
    if (rc != WIF_OK) {
      cli_err("verify: %s", err_text(&err, rc));
      ret = rc == WIF_E_NOMEM ? CLI_EXIT_UNAVAILABLE : CLI_EXIT_USAGE;
      goto out;
    }
    ret = run_account(&a, &log, &token);
    goto out;
  }
  if (a.jwks != NULL)
    ret = build_config(&a, &cfg);
  else
    ret = load_config(&a, &cfg);
  if (ret != CLI_EXIT_OK)
    goto out;
  v = wif_validator_new(cfg, getuid(), &log);
  if (v == NULL) {
    cli_err("out of memory");
    ret = CLI_EXIT_UNAVAILABLE;
    goto out;
  }
  if (a.jwks != NULL) {
    ret = install_jwks(v, cfg, a.jwks, &log);
    if (ret != CLI_EXIT_OK)
      goto out;
  } else {
    /* Keys from jwks_file or over HTTPS, through the key cache. */
    if ((cache = cli_jwks_cache_new(
             cfg, a.config != NULL ? a.config : WIF_CONFIG_PATH, &log)) ==
        NULL) {
      cli_err("out of memory");
      ret = CLI_EXIT_UNAVAILABLE;
      goto out;
    }
    wif_validator_set_loader(v, wif_jwks_cache_loader, cache);
  }

  if (a.token_arg == NULL && a.token_file == NULL && isatty(STDIN_FILENO) == 1)
    cli_err("reading the token from standard input");
  rc = cli_token_read(a.token_arg, a.token_file, &token, &err);
  if (rc == WIF_E_TOO_LARGE) {
    /* Reported like any other invalid token. */
    ret = report(&a, NULL, rc, err_text(&err, rc));
    goto out;
  }
  if (rc != WIF_OK) {
    cli_err("verify: %s", err_text(&err, rc));
    ret = rc == WIF_E_NOMEM ? CLI_EXIT_UNAVAILABLE : CLI_EXIT_USAGE;
    goto out;
  }

  rc = wif_validate(v, token.buf, token.len, (int64_t)time(NULL), &res, &err);
  wif_log(&log, LOG_DEBUG, "verify: %zu-byte token: %s", token.len,
          wif_rc_name(rc));
  ret = report(&a, &res, rc, err_text(&err, rc));
out:
  wif_result_clear(&res);
  cli_token_clear(&token);
  wif_validator_free(v);
  wif_jwks_cache_free(cache);
  wif_config_free(cfg);
  free(a.settings);
  return ret;
}
