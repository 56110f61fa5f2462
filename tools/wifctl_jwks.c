/* SPDX-License-Identifier: Apache-2.0 */
/* wifctl jwks: fetch, show and revoke the cached provider keys. */
#include "wifctl.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "http.h"
#include "jwk.h"
#include "jwks_cache.h"

void cli_jwks_help(FILE *f) {
  fputs(
      "Usage: wifctl jwks fetch  [-c CONF] [PROVIDER]\n"
      "       wifctl jwks show   [-c CONF] [PROVIDER]\n"
      "       wifctl jwks revoke [-c CONF] PROVIDER\n"
      "\n"
      "Manages the cache of the providers' signing keys (JWKS), the one\n"
      "pam_wif itself uses. Without PROVIDER, fetch and show act on every\n"
      "provider of the configuration.\n"
      "\n"
      "  fetch   fetch the keys now over HTTPS (through the issuer's\n"
      "          discovery document unless jwks_uri is set), whether or\n"
      "          not the cached ones are still fresh, and store them; for\n"
      "          a provider with jwks_file, check that file\n"
      "  show    print what is cached: source URL, when it was fetched,\n"
      "          until when it is fresh, and each key's kid, type, size\n"
      "          and algorithm; never uses the network\n"
      "  revoke  drop the provider's cached keys and fetch them anew at\n"
      "          once: after the issuer removes a leaked key, tokens\n"
      "          signed by it are refused from now on instead of until the\n"
      "          cache expires. Logged to syslog (authpriv.notice). If the\n"
      "          fetch fails the cache stays empty and logins through this\n"
      "          provider are unavailable until a fetch succeeds.\n"
      "\n"
      "Run as root, the cache is cache_dir from the configuration (default\n"
      "" WIF_CACHE_DIR "). Run as another user, it is that user's own\n"
      "$XDG_CACHE_HOME/pam_wif (default ~/.cache/pam_wif), never root's.\n"
      "\n"
      "Options:\n"
      "  -c, --config CONF   configuration file (default\n"
      "                      " WIF_CONFIG_PATH ")\n"
      "  -h, --help          show this help\n"
      "\n"
      "Exit status:\n"
      "  0  done\n"
      "  2  usage or configuration error, unknown provider\n"
      "  3  unavailable: a fetch failed, or (show) nothing usable is cached\n",
      f);
}

static void jwks_usage(void) {
  fputs("Usage: wifctl jwks {fetch|show|revoke} [-c CONF] [PROVIDER]\n"
        "Try 'wifctl jwks --help' for more information.\n",
        stderr);
}

/* mkdir that accepts an existing directory. */
static bool ensure_dir(const char *path) {
  return mkdir(path, 0700) == 0 || errno == EEXIST;
}

/*
 * The per-user cache directory for a non-root caller, new (free); NULL
 * when there is none (the cache then lives in memory only).
 */
char *cli_user_cache_dir(const struct wif_log *log) {
  const char *xdg = secure_getenv("XDG_CACHE_HOME");
  const char *home = NULL;
  char *base = NULL;
  char *dir = NULL;
  size_t n;

  if (xdg != NULL && xdg[0] == '/') {
    base = strdup(xdg);
  } else {
    struct passwd *pw;

    home = secure_getenv("HOME");
    if ((home == NULL || home[0] != '/') && (pw = getpwuid(geteuid())) != NULL)
      home = pw->pw_dir;
    if (home == NULL || home[0] != '/') {
      wif_log(log, LOG_WARNING,
              "jwks cache: no home directory; keys are not cached");
      return NULL;
    }
    n = strlen(home) + sizeof("/.cache");
    if ((base = malloc(n)) != NULL)
      (void)snprintf(base, n, "%s/.cache", home);
    /* ~/.cache may not exist yet: it is the user's, make it private. */
    if (base != NULL && !ensure_dir(base)) {
      wif_log(log, LOG_WARNING, "jwks cache: cannot create %s: %s", base,
              strerror(errno));
      free(base);
      return NULL;
    }
  }
  if (base == NULL)
    return NULL;
  n = strlen(base) + sizeof("/pam_wif");
  if ((dir = malloc(n)) != NULL)
    (void)snprintf(dir, n, "%s/pam_wif", base);
  free(base);
  return dir;
}

struct wif_jwks_cache *cli_jwks_cache_new(const struct wif_config *cfg,
                                          const char *config_path,
                                          const struct wif_log *log) {
  struct wif_jwks_cache *c;
  char *dir;

  /* Only root may read or write root's cache; anyone else gets their own,
   * so that a user can never plant keys for the module. */
  if (geteuid() == 0) {
    c = wif_jwks_cache_new(cfg, cfg->cache_dir, 0, log);
    if (c != NULL && wif_jwks_cache_set_helper(c, cli_helper_path(),
                                               config_path) != WIF_OK) {
      wif_jwks_cache_free(c);
      c = NULL;
    }
    return c;
  }
  dir = cli_user_cache_dir(log);
  c = wif_jwks_cache_new(cfg, dir, geteuid(), log);
  free(dir);
  if (c != NULL)
    wif_jwks_cache_set_transport(c, wif_http_transport, NULL);
  return c;
}

static void print_time(const char *label, int64_t t, int64_t now,
                       const char *note) {
  struct tm tm;
  time_t tt = (time_t)t;
  char iso[64] = "?";

  if (gmtime_r(&tt, &tm) != NULL)
    (void)strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (t <= now)
    printf("  %-12s %s (%" PRId64 " s ago)%s\n", label, iso, now - t, note);
  else
    printf("  %-12s %s (in %" PRId64 " s)%s\n", label, iso, t - now, note);
}

static const char *kty_name(enum wif_kty kty) {
  switch (kty) {
  case WIF_KTY_RSA:
    return "RSA";
  case WIF_KTY_EC:
    return "EC";
  case WIF_KTY_OKP:
    return "OKP";
  }
  return "?";
}

static void print_keys(const struct wif_jwks *keys) {
  size_t n = wif_jwks_count(keys);

  printf("  %-12s %zu\n", "keys:", n);
  for (size_t i = 0; i < n; i++) {
    struct wif_jwk *k = wif_jwks_at(keys, i);
    const char *kid = wif_jwk_kid(k);
    enum wif_alg alg;
    char buf[160];

    printf("    kid %-24s %-3s %5u bits  alg %s\n",
           kid != NULL ? cli_clean(kid, strlen(kid), buf, sizeof(buf))
                       : "(none)",
           kty_name(wif_jwk_kty(k)), wif_jwk_bits(k),
           wif_jwk_alg(k, &alg) ? wif_alg_name(alg) : "(any allowed)");
  }
}

static void print_entry(const struct wif_provider *p,
                        const struct wif_jwks_cache_entry *e) {
  int64_t now = (int64_t)time(NULL);
  char buf[600];

  printf("provider %s\n", p->name);
  printf("  %-12s %s\n",
         "issuer:", cli_clean(p->issuer, strlen(p->issuer), buf, sizeof(buf)));
  if (p->jwks_file != NULL) {
    printf("  %-12s %s (jwks_file: pinned, no network)\n", "source:",
           cli_clean(e->source, strlen(e->source), buf, sizeof(buf)));
  } else {
    const char *state = " [fresh]";

    if (e->fetched_at > now || now >= e->fresh_until)
      state = now - e->fresh_until < WIF_JWKS_STALE_MAX && e->fetched_at <= now
                  ? " [stale: served only while the issuer is unreachable]"
                  : " [expired: beyond the stale limit, not used]";
    printf("  %-12s %s\n", "source:",
           cli_clean(e->source, strlen(e->source), buf, sizeof(buf)));
    if (e->path != NULL)
      printf("  %-12s %s\n", "cache file:", e->path);
    print_time("fetched:", e->fetched_at, now, "");
    print_time("fresh until:", e->fresh_until, now, state);
  }
  print_keys(e->keys);
}

enum jwks_op { OP_FETCH, OP_SHOW, OP_REVOKE };

static int run_one(enum jwks_op op, struct wif_jwks_cache *c,
                   const struct wif_provider *p) {
  struct wif_jwks_cache_entry e;
  struct wif_error err;
  wif_rc rc = WIF_OK;
  bool fetched = false;

  memset(&e, 0, sizeof(e));
  wif_error_clear(&err);
  if (op == OP_REVOKE) {
    /* Logged before the attempt: the intent matters even if it fails. */
    openlog("wifctl", LOG_PID, LOG_AUTHPRIV);
    syslog(LOG_NOTICE,
           "jwks revoke: provider %s: cached keys dropped by uid "
           "%lu",
           p->name, (unsigned long)getuid());
    closelog();
    rc = wif_jwks_cache_revoke(c, p, &err);
  } else if (op == OP_FETCH) {
    rc = wif_jwks_cache_fetch(c, p, &err);
  }
  if (rc == WIF_OK) {
    fetched = op != OP_SHOW;
    rc = wif_jwks_cache_read(c, p, &e, &err);
  }
  if (rc != WIF_OK) {
    char buf[WIF_ERROR_MSG_MAX];

    if (fetched)
      /* The fetch worked; the cache directory could not keep the keys
       * (the warning above says why). */
      cli_err("jwks: provider %s: keys fetched but not stored", p->name);
    else
      cli_err("jwks: %s (%s)",
              cli_clean(err.msg, strlen(err.msg), buf, sizeof(buf)),
              wif_rc_name(rc));
    return cli_exit_code(rc);
  }
  if (op == OP_REVOKE)
    printf("provider %s: cached keys revoked and fetched anew\n", p->name);
  print_entry(p, &e);
  wif_jwks_cache_entry_clear(&e);
  return CLI_EXIT_OK;
}

/* -c and -h, before the action (optstring "+..." stops at it) or after
 * it. -1 to go on, else the exit code: help printed, or a usage error. */
static int parse_opts(int argc, char **argv, const char *optstring,
                      const char **config) {
  static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  int c;

  while ((c = getopt_long(argc, argv, optstring, opts, NULL)) != -1) {
    switch (c) {
    case 'c':
      *config = optarg;
      break;
    case 'h':
      cli_jwks_help(stdout);
      return CLI_EXIT_OK;
    default:
      cli_err("jwks: unknown option or missing argument");
      jwks_usage();
      return CLI_EXIT_USAGE;
    }
  }
  return -1;
}

int cli_jwks(int argc, char **argv, bool debug) {
  const char *config = WIF_CONFIG_PATH;
  const char *name = NULL;
  struct wif_config *cfg = NULL;
  struct wif_jwks_cache *cache = NULL;
  struct wif_error err;
  struct wif_log log;
  enum jwks_op op;
  int ret = CLI_EXIT_USAGE;
  int stop;
  wif_rc rc;

  wif_error_clear(&err);
  opterr = 0;
  if ((stop = parse_opts(argc, argv, "+:c:h", &config)) >= 0)
    return stop;
  if (optind >= argc) {
    cli_err("jwks: no action given (fetch, show or revoke)");
    jwks_usage();
    return CLI_EXIT_USAGE;
  }
  if (strcmp(argv[optind], "fetch") == 0) {
    op = OP_FETCH;
  } else if (strcmp(argv[optind], "show") == 0) {
    op = OP_SHOW;
  } else if (strcmp(argv[optind], "revoke") == 0) {
    op = OP_REVOKE;
  } else {
    char buf[64];

    cli_err("jwks: unknown action '%s'",
            cli_clean(argv[optind], strlen(argv[optind]), buf, sizeof(buf)));
    jwks_usage();
    return CLI_EXIT_USAGE;
  }
  optind++;
  /* Options may also follow the action: wifctl jwks show -c CONF. */
  if ((stop = parse_opts(argc, argv, ":c:h", &config)) >= 0)
    return stop;
  if (optind < argc)
    name = argv[optind++];
  if (optind < argc) {
    cli_err("jwks: too many arguments");
    jwks_usage();
    return CLI_EXIT_USAGE;
  }
  if (op == OP_REVOKE && name == NULL) {
    cli_err("jwks: revoke needs a PROVIDER");
    jwks_usage();
    return CLI_EXIT_USAGE;
  }

  cli_log_init(&log, debug);
  rc = wif_config_load(config, getuid(), &cfg, &err);
  if (rc != WIF_OK) {
    cli_err("%s (%s)", err.msg[0] ? err.msg : wif_rc_describe(rc),
            wif_rc_name(rc));
    ret = rc == WIF_E_NOMEM ? CLI_EXIT_UNAVAILABLE : CLI_EXIT_USAGE;
    goto out;
  }
  if ((cache = cli_jwks_cache_new(cfg, config, &log)) == NULL) {
    cli_err("out of memory");
    ret = CLI_EXIT_UNAVAILABLE;
    goto out;
  }
  if (name != NULL) {
    const struct wif_provider *p = wif_config_provider_by_name(cfg, name);

    if (p == NULL) {
      char buf[80];

      cli_err("jwks: no provider '%s' in %s",
              cli_clean(name, strlen(name), buf, sizeof(buf)), config);
      ret = CLI_EXIT_USAGE;
      goto out;
    }
    ret = run_one(op, cache, p);
    goto out;
  }
  ret = CLI_EXIT_OK;
  for (size_t i = 0; i < cfg->n_providers; i++) {
    int r = run_one(op, cache, &cfg->providers[i]);

    if (r != CLI_EXIT_OK && ret == CLI_EXIT_OK)
      ret = r;
  }
out:
  if (fflush(stdout) != 0 && ret == CLI_EXIT_OK) {
    cli_err("jwks: cannot write the output");
    ret = CLI_EXIT_UNAVAILABLE;
  }
  wif_jwks_cache_free(cache);
  wif_config_free(cfg);
  return ret;
}
