/* wifctl check: lints pam_wif.conf and pam_wif.map as the module reads
 * them. */
#include "wifctl.h"

#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "file.h"
#include "jwk.h"
#include "jwks_cache.h"
#include "map.h"
#include "replay.h"

#define CHECK_EXIT_WARNINGS 1
#define CHECK_EXIT_ERRORS 2

void cli_check_help(FILE *f) {
  fputs("Usage: wifctl check [-c CONF] [--quiet]\n"
        "\n"
        "Checks the configuration (default " WIF_CONFIG_PATH ") and the\n"
        "mapping file it names, as pam_wif reads them:\n"
        "  - syntax and meaning, with file:line messages;\n"
        "  - ownership and modes of each file and every directory above it\n"
        "    (owned by root, or by the user running wifctl, and not writable\n"
        "    by group or others; run it as root to see exactly what sshd, su\n"
        "    and sudo see);\n"
        "  - every mapping line's provider exists and its type agrees with\n"
        "    the provider's authorization;\n"
        "  - mapped accounts exist on this host (a warning when not: the\n"
        "    map may be shared by several hosts), and none has uid 0 or gid 0\n"
        "    (an error: pam_wif refuses to log anyone in as root);\n"
        "  - each provider's jwks_file is readable under the same rules and\n"
        "    holds usable keys; the keys of every other provider can be\n"
        "    obtained (from the cache, or by discovery and a JWKS fetch:\n"
        "    an error when they cannot, since logins would then fail);\n"
        "  - providers that no mapping line names (a warning);\n"
        "  - one_time providers are named, and run as root, their replay\n"
        "    store is read (an error when it is damaged or unsafe: their\n"
        "    one-time logins are refused until it is removed).\n"
        "\n"
        "Options:\n"
        "  -c, --config CONF   configuration file\n"
        "  -q, --quiet         print errors and warnings only\n"
        "  -h, --help          show this help\n"
        "\n"
        "Exit status:\n"
        "  0  no errors and no warnings\n"
        "  1  warnings only: pam_wif works, but something looks wrong\n"
        "  2  errors: pam_wif would refuse to run (PAM_SERVICE_ERR) or a\n"
        "     mapping can never be used; also usage errors\n",
        f);
}

struct check {
  unsigned errors;
  unsigned warnings;
  bool quiet;
};

static void report(struct check *c, bool error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void report(struct check *c, bool error, const char *fmt, ...) {
  va_list ap;

  if (error)
    c->errors++;
  else
    c->warnings++;
  fputs(error ? "error: " : "warning: ", stdout);
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  fputc('\n', stdout);
}

static void note(const struct check *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void note(const struct check *c, const char *fmt, ...) {
  va_list ap;

  if (c->quiet)
    return;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  fputc('\n', stdout);
}

/* 1 found (uid and gid set), 0 not found, -1 lookup failure. */
static int lookup(const char *name, uid_t *uid, gid_t *gid) {
  struct passwd pw, *found = NULL;
  size_t size = 16384;
  char *buf = NULL;
  int e = ENOMEM;
  int ret = -1;

  for (;;) {
    if ((buf = malloc(size)) == NULL)
      goto out;
    e = getpwnam_r(name, &pw, buf, size, &found);
    if (e != ERANGE || size >= 1024 * 1024)
      break;
    free(buf);
    buf = NULL;
    size *= 2;
  }
  if (e != 0 && e != ENOENT && e != ESRCH)
    goto out;
  ret = 0;
  if (found != NULL) {
    *uid = pw.pw_uid;
    *gid = pw.pw_gid;
    ret = 1;
  }
out:
  free(buf);
  return ret;
}

static void check_accounts(struct check *c, const struct wif_map *map) {
  for (size_t i = 0; i < map->n_rules; i++) {
    const struct wif_map_rule *r = &map->rules[i];

    for (size_t j = 0; j < r->n_accounts; j++) {
      uid_t uid = 0;
      gid_t gid = 0;
      int found = lookup(r->accounts[j], &uid, &gid);

      if (found < 0)
        report(c, false, "%s:%u: cannot look up account \"%s\"", map->name,
               r->line, r->accounts[j]);
      else if (found == 0)
        report(c, false, "%s:%u: account \"%s\" does not exist on this host",
               map->name, r->line, r->accounts[j]);
      else if (uid == 0 || gid == 0)
        report(c, true,
               "%s:%u: account \"%s\" has uid %lu and gid %lu: pam_wif "
               "never grants uid 0 or gid 0",
               map->name, r->line, r->accounts[j], (unsigned long)uid,
               (unsigned long)gid);
    }
  }
}

static void check_unused(struct check *c, const struct wif_config *cfg,
                         const struct wif_map *map) {
  for (size_t i = 0; i < cfg->n_providers; i++) {
    bool used = false;

    for (size_t j = 0; !used && j < map->n_rules; j++)
      used = strcmp(map->rules[j].provider, cfg->providers[i].name) == 0;
    if (!used)
      report(c, false, "provider \"%s\" has no line in %s: it grants nothing",
             cfg->providers[i].name, map->name);
  }
}

/* Keys over HTTPS: what a login would get, through the same cache (root's,
 * or a per-user one when not run as root). */
static void check_remote_keys(struct check *c, struct wif_jwks_cache *cache,
                              const struct wif_provider *p) {
  struct wif_jwks *keys = NULL;
  struct wif_error err;
  wif_rc rc;

  wif_error_clear(&err);
  rc = cache != NULL ? wif_jwks_cache_loader(cache, p, false, &keys, &err)
                     : WIF_E_NOMEM;
  if (rc != WIF_OK)
    report(c, true, "provider \"%s\": keys cannot be obtained: %s (%s)",
           p->name, err.msg[0] != '\0' ? err.msg : wif_rc_describe(rc),
           wif_rc_name(rc));
  else
    note(c, "provider \"%s\": %zu usable key(s) from %s", p->name,
         wif_jwks_count(keys), p->jwks_uri != NULL ? p->jwks_uri : p->issuer);
}

static void check_keys(struct check *c, const struct wif_config *cfg,
                       const char *config_path, uid_t owner,
                       const struct wif_log *log) {
  struct wif_jwks_cache *cache = NULL;

  for (size_t i = 0; i < cfg->n_providers; i++) {
    const struct wif_provider *p = &cfg->providers[i];
    struct wif_jwks *keys = NULL;
    struct wif_error err;
    char *text = NULL;
    size_t len = 0;
    wif_rc rc;

    if (p->jwks_file == NULL) {
      if (cache == NULL)
        cache = cli_jwks_cache_new(cfg, config_path, log);
      check_remote_keys(c, cache, p);
      continue;
    }
    wif_error_clear(&err);
    rc = wif_file_read_trusted(p->jwks_file, owner, WIF_JWKS_SIZE_MAX, &text,
                               &len, &err);
    if (rc == WIF_OK)
      rc = wif_jwks_parse(text, len, log, &keys, &err);
    if (rc != WIF_OK)
      report(c, true, "provider \"%s\": jwks_file: %s (%s)", p->name,
             err.msg[0] != '\0' ? err.msg : wif_rc_describe(rc),
             wif_rc_name(rc));
    else
      note(c, "provider \"%s\": %zu usable key(s) in %s", p->name,
           wif_jwks_count(keys), p->jwks_file);
    wif_jwks_free(keys);
    wif_file_free_buffer(text, len);
  }
  wif_jwks_cache_free(cache);
}

/*
 * one_time providers: say so, and as root (whose store the module uses)
 * look at the store: a damaged one refuses every one-time login.
 */
static void check_one_time(struct check *c, const struct wif_config *cfg) {
  for (size_t i = 0; i < cfg->n_providers; i++) {
    const struct wif_provider *p = &cfg->providers[i];
    struct wif_error err;
    size_t live = 0;
    wif_rc rc;

    if (!p->one_time)
      continue;
    if (geteuid() != 0) {
      note(c,
           "provider \"%s\": one_time: a token's jti is accepted once; "
           "the replay store in %s is root's",
           p->name, cfg->cache_dir);
      continue;
    }
    wif_error_clear(&err);
    rc = wif_replay_count(cfg->cache_dir, 0, p, (int64_t)time(NULL), &live,
                          &err);
    if (rc != WIF_OK)
      report(c, true, "provider \"%s\": one_time: replay store: %s (%s)",
             p->name, err.msg[0] != '\0' ? err.msg : wif_rc_describe(rc),
             wif_rc_name(rc));
    else
      note(c,
           "provider \"%s\": one_time: a token's jti is accepted once; "
           "%zu of %d replay store entries in use",
           p->name, live, WIF_REPLAY_ENTRIES_MAX);
  }
}

static int parse_args(int argc, char **argv, const char **config, bool *quiet) {
  static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                       {"quiet", no_argument, NULL, 'q'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  int ch;

  opterr = 0;
  while ((ch = getopt_long(argc, argv, ":c:qh", opts, NULL)) != -1) {
    switch (ch) {
    case 'c':
      *config = optarg;
      break;
    case 'q':
      *quiet = true;
      break;
    case 'h':
      cli_check_help(stdout);
      return -1;
    case ':':
      cli_err("check: option '%s' needs an argument", argv[optind - 1]);
      return CLI_EXIT_USAGE;
    default:
      cli_err("check: unknown option '%s'", argv[optind - 1]);
      return CLI_EXIT_USAGE;
    }
  }
  if (optind < argc) {
    cli_err("check: unexpected argument '%s'", argv[optind]);
    return CLI_EXIT_USAGE;
  }
  return CLI_EXIT_OK;
}

int cli_check(int argc, char **argv, bool debug) {
  struct check c = {0, 0, false};
  const char *path = WIF_CONFIG_PATH;
  struct wif_config *cfg = NULL;
  struct wif_map *map = NULL;
  struct wif_error err;
  struct wif_log log;
  uid_t owner = geteuid();
  int ret;
  wif_rc rc;

  ret = parse_args(argc, argv, &path, &c.quiet);
  if (ret != CLI_EXIT_OK) {
    if (ret != -1)
      fputs("Usage: wifctl check [-c CONF] [--quiet]\n", stderr);
    return ret == -1 ? CLI_EXIT_OK : ret;
  }
  cli_log_init(&log, debug);
  wif_error_clear(&err);
  rc = wif_config_load(path, owner, &cfg, &err);
  if (rc != WIF_OK) {
    report(&c, true, "%s (%s)", err.msg[0] != '\0' ? err.msg : path,
           wif_rc_name(rc));
    goto out;
  }
  note(&c, "%s: %zu provider(s)", path, cfg->n_providers);
  rc = wif_map_load(cfg->map_file, owner, cfg, &map, &err);
  if (rc != WIF_OK) {
    report(&c, true, "%s (%s)", err.msg[0] != '\0' ? err.msg : cfg->map_file,
           wif_rc_name(rc));
  } else {
    note(&c, "%s: %zu rule(s)", cfg->map_file, map->n_rules);
    check_accounts(&c, map);
    check_unused(&c, cfg, map);
  }
  check_keys(&c, cfg, path, owner, &log);
  check_one_time(&c, cfg);
out:
  if (!c.quiet || c.errors + c.warnings > 0)
    printf("%u error(s), %u warning(s)\n", c.errors, c.warnings);
  wif_map_free(map);
  wif_config_free(cfg);
  if (fflush(stdout) != 0)
    return CHECK_EXIT_ERRORS;
  if (c.errors > 0)
    return CHECK_EXIT_ERRORS;
  return c.warnings > 0 ? CHECK_EXIT_WARNINGS : CLI_EXIT_OK;
}
