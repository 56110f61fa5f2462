/* SPDX-License-Identifier: Apache-2.0 */
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
#include "wifctl_check.h"
#include "jwk.h"
#include "jwks_cache.h"
#include "map.h"
#include "replay.h"

#define SSHD_PATH "/usr/sbin/sshd"
#define PAM_DIR "/etc/pam.d"

#define CHECK_USAGE                                                            \
  "Usage: wifctl check [-c CONF] [--map MAP] [--json] [--quiet]\n"             \
  "                    [--service NAME] [--match user=U,host=H,addr=A]\n"      \
  "                    [--sshd-config FILE] [--pam-dir DIR] [--no-system]\n"

void cli_check_help(FILE *f) {
  fputs(CHECK_USAGE
        "\n"
        "Checks the configuration (default " WIF_CONFIG_PATH "), its\n"
        "drop-in files (pam_wif.d/NAME.conf beside it) and the mapping files\n"
        "(map_file and pam_wif.d/NAME.map), as pam_wif reads them:\n"
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
        "  - issuers: an Entra {tenantid} placeholder or the common,\n"
        "    organizations or consumers endpoints are errors; known\n"
        "    pitfalls are warnings (a GitHub Actions provider that does not\n"
        "    require repository_owner_id or repository_id, a Kubernetes\n"
        "    audience that is the API server's, an Entra audience that does\n"
        "    not fit the issuer's token version);\n"
        "  - one_time providers are named, and run as root, their replay\n"
        "    store is read (an error when it is damaged or unsafe: their\n"
        "    one-time logins are refused until it is removed);\n"
        "  - the path to pam_wif (warnings): for the sshd service the\n"
        "    effective settings of `sshd -T` (UsePAM, KbdInteractive-\n"
        "    Authentication, AuthenticationMethods), and the PAM stack of\n"
        "    each service that loads pam_wif.so (control values, order, an\n"
        "    account line, what follows a sufficient line). These run when\n"
        "    the installed configuration is checked, or when --service,\n"
        "    --match, --sshd-config or --pam-dir is given.\n"
        "\n"
        "Options:\n"
        "  -c, --config CONF   configuration file (a candidate may be checked\n"
        "                      before it is installed)\n"
        "  -m, --map MAP       mapping file instead of the configuration's\n"
        "                      map_file\n"
        "  -j, --json          print one JSON object (findings with level,\n"
        "                      area, provider and message)\n"
        "  -s, --service NAME  the PAM service to follow (default sshd)\n"
        "  -M, --match SPEC    sshd's Match conditions for `sshd -T -C SPEC`,\n"
        "                      e.g. user=deploy,host=client,addr=10.0.0.5\n"
        "  --sshd-config FILE  sshd configuration (`sshd -T -f FILE`)\n"
        "  --pam-dir DIR       PAM service directory (default " PAM_DIR ")\n"
        "  --no-system         skip the sshd and PAM checks\n"
        "  -q, --quiet         print errors and warnings only\n"
        "  -h, --help          show this help\n"
        "\n"
        "Exit status:\n"
        "  0  no errors and no warnings\n"
        "  1  warnings only: pam_wif works, but something looks wrong\n"
        "     (sshd and PAM findings are always warnings)\n"
        "  2  errors: pam_wif would refuse to run (PAM_SERVICE_ERR) or a\n"
        "     mapping can never be used; also usage errors\n",
        f);
}

static void add_finding(struct check *c, const char *level, const char *area,
                        const char *provider, const char *fmt, va_list ap) {
  char msg[2048];
  json_t *o;

  (void)vsnprintf(msg, sizeof(msg), fmt, ap);
  if (c->findings == NULL) {
    if (strcmp(level, "info") != 0)
      printf("%s: ", level);
    puts(msg);
    return;
  }
  /* "s?" gives null for a missing provider; json_pack copies strings. */
  o = json_pack("{s:s, s:s, s:s?, s:s}", "level", level, "area", area,
                "provider", provider, "message", msg);
  if (o != NULL)
    (void)json_array_append_new(c->findings, o);
}

void check_report(struct check *c, bool error, const char *area,
                  const char *provider, const char *fmt, ...) {
  va_list ap;

  if (error)
    c->errors++;
  else
    c->warnings++;
  va_start(ap, fmt);
  add_finding(c, error ? "error" : "warning", area, provider, fmt, ap);
  va_end(ap);
}

void check_note(struct check *c, const char *area, const char *provider,
                const char *fmt, ...) {
  va_list ap;

  if (c->quiet)
    return;
  va_start(ap, fmt);
  add_finding(c, "info", area, provider, fmt, ap);
  va_end(ap);
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

void check_map_accounts(struct check *c, const struct wif_map *map) {
  for (size_t i = 0; i < map->n_rules; i++) {
    const struct wif_map_rule *r = &map->rules[i];
    char where[4200];

    (void)wif_map_rule_where(map, r, where, sizeof(where));
    for (size_t j = 0; j < r->n_accounts; j++) {
      uid_t uid = 0;
      gid_t gid = 0;
      int found = lookup(r->accounts[j], &uid, &gid);

      if (found < 0)
        check_report(c, false, "accounts", r->provider,
                     "%s: cannot look up account \"%s\"", where,
                     r->accounts[j]);
      else if (found == 0)
        check_report(c, false, "accounts", r->provider,
                     "%s: account \"%s\" does not exist on this host", where,
                     r->accounts[j]);
      else if (uid == 0 || gid == 0)
        check_report(c, true, "accounts", r->provider,
                     "%s: account \"%s\" has uid %lu and gid %lu: pam_wif "
                     "never grants uid 0 or gid 0",
                     where, r->accounts[j], (unsigned long)uid,
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
      check_report(c, false, "map", cfg->providers[i].name,
                   "provider \"%s\" has no line in %s%s: it grants nothing",
                   cfg->providers[i].name, map->name,
                   map->n_files > 0 ? " or its drop-in files" : "");
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
    check_report(c, true, "keys", p->name,
                 "provider \"%s\": keys cannot be obtained: %s (%s)", p->name,
                 err.msg[0] != '\0' ? err.msg : wif_rc_describe(rc),
                 wif_rc_name(rc));
  else
    check_note(c, "keys", p->name, "provider \"%s\": %zu usable key(s) from %s",
               p->name, wif_jwks_count(keys),
               p->jwks_uri != NULL ? p->jwks_uri : p->issuer);
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
      check_report(c, true, "keys", p->name,
                   "provider \"%s\": jwks_file: %s (%s)", p->name,
                   err.msg[0] != '\0' ? err.msg : wif_rc_describe(rc),
                   wif_rc_name(rc));
    else
      check_note(c, "keys", p->name, "provider \"%s\": %zu usable key(s) in %s",
                 p->name, wif_jwks_count(keys), p->jwks_file);
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
      check_note(c, "replay", p->name,
                 "provider \"%s\": one_time: a token's jti is accepted once; "
                 "the replay store in %s is root's",
                 p->name, cfg->cache_dir);
      continue;
    }
    wif_error_clear(&err);
    rc = wif_replay_count(cfg->cache_dir, 0, p, (int64_t)time(NULL), &live,
                          &err);
    if (rc != WIF_OK)
      check_report(c, true, "replay", p->name,
                   "provider \"%s\": one_time: replay store: %s (%s)", p->name,
                   err.msg[0] != '\0' ? err.msg : wif_rc_describe(rc),
                   wif_rc_name(rc));
    else
      check_note(c, "replay", p->name,
                 "provider \"%s\": one_time: a token's jti is accepted once; "
                 "%zu of %d replay store entries in use",
                 p->name, live, WIF_REPLAY_ENTRIES_MAX);
  }
}

struct check_opts {
  const char *config;
  const char *map;
  const char *service;
  const char *match;
  const char *sshd_config;
  const char *pam_dir;
  bool json;
  bool quiet;
  bool sshd_and_pam; /* run the sshd and PAM checks */
  bool system_asked; /* an option about them was given */
  bool no_system;
  char *map_used; /* the map file checked (owned) */
};

static int parse_args(int argc, char **argv, struct check_opts *o) {
  enum { OPT_SSHD_CONFIG = 256, OPT_PAM_DIR, OPT_NO_SYSTEM };
  static const struct option opts[] = {
      {"config", required_argument, NULL, 'c'},
      {"map", required_argument, NULL, 'm'},
      {"json", no_argument, NULL, 'j'},
      {"service", required_argument, NULL, 's'},
      {"match", required_argument, NULL, 'M'},
      {"sshd-config", required_argument, NULL, OPT_SSHD_CONFIG},
      {"pam-dir", required_argument, NULL, OPT_PAM_DIR},
      {"no-system", no_argument, NULL, OPT_NO_SYSTEM},
      {"quiet", no_argument, NULL, 'q'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  bool config_given = false;
  int ch;

  opterr = 0;
  while ((ch = getopt_long(argc, argv, ":c:m:js:M:qh", opts, NULL)) != -1) {
    switch (ch) {
    case 'c':
      o->config = optarg;
      config_given = true;
      break;
    case 'm':
      o->map = optarg;
      break;
    case 'j':
      o->json = true;
      break;
    case 's':
      o->service = optarg;
      o->system_asked = true;
      break;
    case 'M':
      o->match = optarg;
      o->system_asked = true;
      break;
    case OPT_SSHD_CONFIG:
      o->sshd_config = optarg;
      o->system_asked = true;
      break;
    case OPT_PAM_DIR:
      o->pam_dir = optarg;
      o->system_asked = true;
      break;
    case OPT_NO_SYSTEM:
      o->no_system = true;
      break;
    case 'q':
      o->quiet = true;
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
  /* A candidate file is linted on its own unless the path is asked for:
   * this host's sshd and PAM may not be what the candidate is for. */
  o->sshd_and_pam = !o->no_system && (!config_given || o->system_asked);
  return CLI_EXIT_OK;
}

static void check_lint_all(struct check *c, const struct wif_config *cfg) {
  for (size_t i = 0; i < cfg->n_providers; i++)
    check_provider_lint(c, &cfg->providers[i]);
}

static void check_files(struct check *c, struct check_opts *o,
                        const struct wif_log *log) {
  struct wif_config *cfg = NULL;
  struct wif_map *map = NULL;
  struct wif_error err;
  uid_t owner = geteuid();
  const char *map_path;
  wif_rc rc;

  wif_error_clear(&err);
  rc = wif_config_load(o->config, owner, &cfg, &err);
  if (rc != WIF_OK) {
    check_report(c, true, "config", NULL, "%s (%s)",
                 err.msg[0] != '\0' ? err.msg : o->config, wif_rc_name(rc));
    goto out;
  }
  check_note(c, "config", NULL, "%s: %zu provider(s)", o->config,
             cfg->n_providers);
  for (size_t i = 0; i < cfg->n_files; i++)
    check_note(c, "config", NULL, "drop-in %s", cfg->files[i]);
  check_lint_all(c, cfg);
  map_path = o->map != NULL ? o->map : cfg->map_file;
  free(o->map_used);
  o->map_used = strdup(map_path); /* for the JSON answer; NULL is fine */
  rc = wif_map_load(map_path, owner, cfg, &map, &err);
  if (rc != WIF_OK) {
    check_report(c, true, "map", NULL, "%s (%s)",
                 err.msg[0] != '\0' ? err.msg : map_path, wif_rc_name(rc));
  } else {
    check_note(c, "map", NULL, "%s: %zu rule(s)", map_path, map->n_rules);
    for (size_t i = 0; i < map->n_files; i++)
      check_note(c, "map", NULL, "drop-in %s", map->files[i]);
    check_map_accounts(c, map);
    check_unused(c, cfg, map);
  }
  check_keys(c, cfg, o->config, owner, log);
  check_one_time(c, cfg);
out:
  wif_map_free(map);
  wif_config_free(cfg);
}

static int exit_code(const struct check *c) {
  if (c->errors > 0)
    return CHECK_EXIT_ERRORS;
  return c->warnings > 0 ? CHECK_EXIT_WARNINGS : CLI_EXIT_OK;
}

int cli_check(int argc, char **argv, bool debug) {
  struct check c = {0, 0, false, NULL};
  struct check_opts o;
  struct wif_log log;
  int ret;

  memset(&o, 0, sizeof(o));
  o.config = WIF_CONFIG_PATH;
  o.service = "sshd";
  o.pam_dir = PAM_DIR;
  ret = parse_args(argc, argv, &o);
  if (ret != CLI_EXIT_OK) {
    if (ret != -1)
      fputs(CHECK_USAGE, stderr);
    return ret == -1 ? CLI_EXIT_OK : ret;
  }
  c.quiet = o.quiet;
  if (o.json && (c.findings = json_array()) == NULL) {
    cli_err("check: out of memory");
    return CHECK_EXIT_ERRORS;
  }
  cli_log_init(&log, debug);
  check_files(&c, &o, &log);
  if (o.sshd_and_pam) {
    if (strcmp(o.service, "sshd") == 0)
      check_sshd(&c, SSHD_PATH, o.sshd_config, o.match);
    check_pam(&c, o.pam_dir, o.service);
  }
  ret = exit_code(&c);
  if (c.findings != NULL) {
    json_t *top = json_pack("{s:s, s:s?, s:s?, s:i, s:i, s:i, s:O}", "config",
                            o.config, "map", o.map_used, "service",
                            o.sshd_and_pam ? o.service : NULL, "errors",
                            (int)c.errors, "warnings", (int)c.warnings,
                            "status", ret, "findings", c.findings);

    if (top == NULL || json_dumpf(top, stdout, JSON_INDENT(2)) != 0) {
      cli_err("check: cannot write the JSON answer");
      ret = CHECK_EXIT_ERRORS;
    }
    fputc('\n', stdout);
    json_decref(top);
    json_decref(c.findings);
  } else if (!c.quiet || c.errors + c.warnings > 0) {
    printf("%u error(s), %u warning(s)\n", c.errors, c.warnings);
  }
  free(o.map_used);
  if (fflush(stdout) != 0)
    return CHECK_EXIT_ERRORS;
  return ret;
}
