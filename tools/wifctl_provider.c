/* SPDX-License-Identifier: Apache-2.0 */
/* wifctl provider add, wifctl map add: drop-in files written for the
 * administrator, checked as `wifctl check` would check them first. */
#include "wifctl.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "file.h"
#include "jwks_cache.h"
#include "map.h"
#include "wifctl_check.h"

#define TEXT_MAX 8192
#define REQUIRES_MAX 8
#define WIFCTL_MAP "50-wifctl.map"

void cli_provider_help(FILE *f) {
  fputs("Usage: wifctl provider add NAME --preset PRESET [--issuer ISS]\n"
        "           [--audience AUD] [--tenant ID] [--require CLAIM=VALUE]...\n"
        "           [--ca-file FILE] [--pin] [-c CONF] [--dry-run]\n"
        "\n"
        "Writes the provider NAME as the drop-in file pam_wif.d/NAME.conf\n"
        "beside the configuration (mode 0644), from a preset:\n"
        "  entra-v2  issuer https://login.microsoftonline.com/TENANT/v2.0,\n"
        "            user claim oid, require tid = TENANT (needs --tenant\n"
        "            and --audience, the application's client ID)\n"
        "  entra-v1  issuer https://sts.windows.net/TENANT/, user claim oid,\n"
        "            require tid = TENANT (needs --tenant, --audience)\n"
        "  github    issuer https://token.actions.githubusercontent.com, user\n"
        "            claim repository; needs --require repository_owner_id=ID\n"
        "            (or repository_id=ID) and --audience\n"
        "  google    issuer https://accounts.google.com, user claim sub\n"
        "  k8s       --issuer (the cluster's), user claim sub\n"
        "            (system:serviceaccount:NAMESPACE:NAME)\n"
        "  oidc      --issuer, user claim sub\n"
        "Before writing, the whole configuration with the new file is checked\n"
        "as `wifctl check` would, and the provider's keys are fetched by\n"
        "discovery (as root, through the fetch helper); with --pin they are\n"
        "written to pam_wif.d/NAME.jwks and named by jwks_file. Nothing is\n"
        "written when a check fails. The file written is printed.\n"
        "\n"
        "Options:\n"
        "  -p, --preset PRESET  entra-v2, entra-v1, github, google, k8s, oidc\n"
        "  -i, --issuer ISS     the issuer (k8s, oidc; overrides a preset's)\n"
        "  -a, --audience AUD   the audience tokens carry (required)\n"
        "  -t, --tenant ID      the Entra tenant ID (entra-v1, entra-v2)\n"
        "  -r, --require C=V    a claim every token must carry (repeatable)\n"
        "  --ca-file FILE       CA bundle for the issuer's HTTPS server\n"
        "  --pin                pin the keys fetched now (jwks_file)\n"
        "  -c, --config CONF    configuration file (default " WIF_CONFIG_PATH
        ")\n"
        "  -n, --dry-run        check and print, write nothing\n"
        "  -h, --help           show this help\n"
        "\n"
        "Exit status: 0 written, 2 refused (usage, configuration, a check\n"
        "error), 3 the keys could not be fetched.\n",
        f);
}

void cli_map_help(FILE *f) {
  fputs(
      "Usage: wifctl map add PROVIDER TYPE ID ACCOUNT[,ACCOUNT...] [-c CONF]\n"
      "           [--dry-run]\n"
      "\n"
      "Appends the rule `PROVIDER TYPE ID ACCOUNT` to pam_wif.d/" WIFCTL_MAP
      "\n"
      "beside the configuration (mode 0644) after checking it as `wifctl\n"
      "check` would: the provider exists, TYPE (user, group or claim:NAME)\n"
      "is in its authorization, the account names are valid and none has\n"
      "uid 0 or gid 0. A rule already there is not added twice. The line\n"
      "written is printed.\n"
      "\n"
      "Options:\n"
      "  -c, --config CONF   configuration file (default " WIF_CONFIG_PATH ")\n"
      "  -n, --dry-run       check and print, write nothing\n"
      "  -h, --help          show this help\n"
      "\n"
      "Exit status: 0 written (or already there), 2 refused.\n",
      f);
}

struct text {
  char buf[TEXT_MAX];
  size_t len;
  bool overflow;
};

static void put(struct text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void put(struct text *t, const char *fmt, ...) {
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(t->buf + t->len, sizeof(t->buf) - t->len, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof(t->buf) - t->len)
    t->overflow = true;
  else
    t->len += (size_t)n;
}

struct provider_opts {
  const char *name;
  const char *preset;
  const char *issuer;
  const char *audience;
  const char *tenant;
  const char *ca_file;
  const char *config;
  const char *requires[REQUIRES_MAX];
  size_t n_requires;
  bool pin;
  bool dry_run;
};

/* A value written into a config line: no line break, no comment start,
 * nothing that would be trimmed. */
static bool value_ok(const char *v) {
  size_t n = strlen(v);

  if (n == 0 || n > 1024 || v[0] == ' ' || v[n - 1] == ' ')
    return false;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f ||
        (v[i] == '#' && i > 0 && v[i - 1] == ' '))
      return false;
  return true;
}

static bool has_require(const struct provider_opts *o, const char *claim) {
  size_t n = strlen(claim);

  for (size_t i = 0; i < o->n_requires; i++)
    if (strncmp(o->requires[i], claim, n) == 0 &&
        (o->requires[i][n] == '=' || o->requires[i][n] == ' '))
      return true;
  return false;
}

/* The drop-in text from the preset; NULL (after a message) on refusal. */
static bool compose(const struct provider_opts *o, const char *jwks_file,
                    struct text *t) {
  const char *user_claim = "sub";
  char issuer[1200];
  bool entra = strncmp(o->preset, "entra-", 6) == 0;

  if (entra && o->tenant == NULL && o->issuer == NULL) {
    cli_err("provider add: preset %s needs --tenant", o->preset);
    return false;
  }
  if (strcmp(o->preset, "entra-v2") == 0) {
    (void)snprintf(issuer, sizeof(issuer),
                   "https://login.microsoftonline.com/%s/v2.0",
                   o->tenant != NULL ? o->tenant : "");
    user_claim = "oid";
  } else if (strcmp(o->preset, "entra-v1") == 0) {
    (void)snprintf(issuer, sizeof(issuer), "https://sts.windows.net/%s/",
                   o->tenant != NULL ? o->tenant : "");
    user_claim = "oid";
  } else if (strcmp(o->preset, "github") == 0) {
    (void)snprintf(issuer, sizeof(issuer), "%s",
                   "https://token.actions.githubusercontent.com");
    user_claim = "repository";
    if (!has_require(o, "repository_owner_id") &&
        !has_require(o, "repository_id")) {
      cli_err("provider add: preset github needs --require "
              "repository_owner_id=ID (or repository_id=ID): names can be "
              "registered again by someone else, IDs cannot");
      return false;
    }
  } else if (strcmp(o->preset, "google") == 0) {
    (void)snprintf(issuer, sizeof(issuer), "%s", "https://accounts.google.com");
  } else if (strcmp(o->preset, "k8s") == 0 || strcmp(o->preset, "oidc") == 0) {
    if (o->issuer == NULL) {
      cli_err("provider add: preset %s needs --issuer", o->preset);
      return false;
    }
  } else {
    cli_err("provider add: unknown preset '%s' (entra-v2, entra-v1, github, "
            "google, k8s, oidc)",
            o->preset);
    return false;
  }
  if (o->issuer != NULL)
    (void)snprintf(issuer, sizeof(issuer), "%s", o->issuer);
  if (o->audience == NULL) {
    cli_err("provider add: --audience is required (the aud tokens carry)");
    return false;
  }
  if (!value_ok(issuer) || !value_ok(o->audience) ||
      (o->tenant != NULL && !value_ok(o->tenant)) ||
      (o->ca_file != NULL && !value_ok(o->ca_file))) {
    cli_err("provider add: a value holds a control character, a comment or "
            "blanks at its ends");
    return false;
  }
  put(t, "# Written by wifctl provider add (preset %s).\n", o->preset);
  put(t, "[provider %s]\n", o->name);
  put(t, "issuer = %s\n", issuer);
  put(t, "audience = %s\n", o->audience);
  put(t, "user_claim = %s\n", user_claim);
  if (entra && o->tenant != NULL)
    put(t, "require = tid = %s\n", o->tenant);
  for (size_t i = 0; i < o->n_requires; i++) {
    const char *eq = strchr(o->requires[i], '=');

    if (eq == NULL || eq == o->requires[i] || !value_ok(o->requires[i])) {
      cli_err("provider add: --require takes CLAIM=VALUE, not '%s'",
              o->requires[i]);
      return false;
    }
    put(t, "require = %.*s = %s\n", (int)(eq - o->requires[i]), o->requires[i],
        eq + 1);
  }
  if (o->ca_file != NULL)
    put(t, "ca_file = %s\n", o->ca_file);
  if (jwks_file != NULL)
    put(t, "jwks_file = %s\n", jwks_file);
  if (t->overflow) {
    cli_err("provider add: the values are too long");
    return false;
  }
  return true;
}

static int rm_entry(const char *p, const struct stat *st, int flag,
                    struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(p);
}

/* Writes name in dir (made 0755 when missing), atomically, mode 0644. */
static wif_rc write_in(const char *dir, const char *name, const char *data,
                       size_t len, struct wif_error *err) {
  int dirfd = -1;
  wif_rc rc;

  if (mkdir(dir, 0755) != 0 && errno != EEXIST)
    return wif_error_set(err, WIF_E_SYSTEM, "%s: cannot create: %s", dir,
                         strerror(errno));
  rc = wif_file_open_dir_trusted(dir, geteuid(), &dirfd, err);
  if (rc == WIF_OK)
    rc = wif_file_write_atomic_at(dirfd, dir, name, data, len, 0644, err);
  if (dirfd >= 0)
    (void)close(dirfd);
  return rc;
}

/*
 * A copy of the configuration with the new drop-in, in a 0700 directory
 * beside it: loading it is what the module would see once the file is in
 * place, and (as root) the fetch helper reads it to fetch the new
 * provider's keys. *out is the staged config's path.
 */
static wif_rc stage(const struct provider_opts *o, const char *dropin_dir,
                    const struct text *t, char *stage_dir, size_t size,
                    char **out, struct wif_error *err) {
  const char *slash = strrchr(o->config, '/');
  char **names = NULL;
  size_t n = 0;
  char *text = NULL;
  size_t len = 0;
  char path[4200];
  char sdir[4200];
  wif_rc rc;

  *out = NULL;
  (void)snprintf(stage_dir, size, "%.*s/.wifctl-stage-XXXXXX",
                 (int)(slash - o->config), o->config);
  if (mkdtemp(stage_dir) == NULL)
    return wif_error_set(err, WIF_E_SYSTEM, "%s: cannot create: %s", stage_dir,
                         strerror(errno));
  rc = wif_file_read_trusted(o->config, geteuid(), WIF_CONFIG_SIZE_MAX, &text,
                             &len, err);
  if (rc != WIF_OK)
    goto out;
  (void)snprintf(path, sizeof(path), "%s/pam_wif.conf", stage_dir);
  if ((rc = wif_file_write_atomic(path, text, len, 0600, err)) != WIF_OK)
    goto out;
  wif_file_free_buffer(text, len);
  text = NULL;
  (void)snprintf(sdir, sizeof(sdir), "%s/" WIF_DROPIN_DIR_NAME, stage_dir);
  rc = wif_file_list_trusted(dropin_dir, geteuid(), ".conf",
                             WIF_DROPIN_FILES_MAX, &names, &n, err);
  if (rc != WIF_OK)
    goto out;
  for (size_t i = 0; i < n; i++) {
    (void)snprintf(path, sizeof(path), "%s/%s", dropin_dir, names[i]);
    rc = wif_file_read_trusted(path, geteuid(), WIF_CONFIG_SIZE_MAX, &text,
                               &len, err);
    if (rc == WIF_OK)
      rc = write_in(sdir, names[i], text, len, err);
    wif_file_free_buffer(text, len);
    text = NULL;
    if (rc != WIF_OK)
      goto out;
  }
  (void)snprintf(path, sizeof(path), "%s.conf", o->name);
  if ((rc = write_in(sdir, path, t->buf, t->len, err)) != WIF_OK)
    goto out;
  (void)snprintf(path, sizeof(path), "%s/pam_wif.conf", stage_dir);
  if ((*out = strdup(path)) == NULL)
    rc = wif_error_set(err, WIF_E_NOMEM, "out of memory");
out:
  wif_file_free_buffer(text, len);
  wif_file_free_names(names, n);
  return rc;
}

/* Loads the staged config, lints the new provider, fetches its keys;
 * with pin, *jwks gets the key set's text. Returns an exit code. */
static int verify_staged(const struct provider_opts *o, const char *staged,
                         char **jwks, size_t *jwks_len) {
  struct check c = {0, 0, false, NULL};
  struct wif_config *cfg = NULL;
  struct wif_jwks_cache *cache = NULL;
  struct wif_jwks *keys = NULL;
  struct wif_jwks_cache_entry entry;
  const struct wif_provider *p;
  struct wif_error err;
  struct wif_log log;
  int ret = CLI_EXIT_USAGE;
  wif_rc rc;

  memset(&entry, 0, sizeof(entry));
  cli_log_init(&log, false);
  wif_error_clear(&err);
  if ((rc = wif_config_load(staged, geteuid(), &cfg, &err)) != WIF_OK) {
    cli_err("provider add: refused: %s (%s)", err.msg, wif_rc_name(rc));
    goto out;
  }
  p = wif_config_provider_by_name(cfg, o->name);
  check_provider_lint(&c, p);
  if (c.errors > 0) {
    cli_err("provider add: refused: the provider has errors (above)");
    goto out;
  }
  if ((cache = cli_jwks_cache_new(cfg, staged, &log)) == NULL) {
    ret = CLI_EXIT_UNAVAILABLE;
    goto out;
  }
  rc = wif_jwks_cache_loader(cache, p, false, &keys, &err);
  if (rc != WIF_OK) {
    cli_err("provider add: refused: keys cannot be obtained: %s (%s)",
            err.msg[0] != '\0' ? err.msg : wif_rc_describe(rc),
            wif_rc_name(rc));
    ret = CLI_EXIT_UNAVAILABLE;
    goto out;
  }
  printf("provider \"%s\": %zu usable key(s) from %s\n", o->name,
         wif_jwks_count(keys), p->jwks_uri != NULL ? p->jwks_uri : p->issuer);
  if (jwks != NULL) {
    rc = wif_jwks_cache_read(cache, p, &entry, &err);
    if (rc != WIF_OK || entry.text == NULL) {
      cli_err("provider add: cannot read the keys fetched: %s", err.msg);
      ret = CLI_EXIT_UNAVAILABLE;
      goto out;
    }
    if ((*jwks = strndup(entry.text, entry.text_len)) == NULL)
      goto out;
    *jwks_len = entry.text_len;
  }
  ret = CLI_EXIT_OK;
out:
  wif_jwks_cache_entry_clear(&entry);
  wif_jwks_cache_free(cache);
  wif_config_free(cfg);
  return ret;
}

static int provider_add(struct provider_opts *o) {
  struct text t = {{0}, 0, false};
  struct text pinned = {{0}, 0, false};
  struct wif_error err;
  char stage_dir[4200] = "";
  char *dropin_dir = NULL;
  char *staged = NULL;
  char *jwks = NULL;
  size_t jwks_len = 0;
  char name[200];
  char path[4300];
  char jwks_path[4300];
  struct stat st;
  int ret = CLI_EXIT_USAGE;
  wif_rc rc;

  wif_error_clear(&err);
  if (o->config[0] != '/') {
    cli_err("provider add: the configuration path must be absolute");
    goto out;
  }
  if (!compose(o, NULL, &t))
    goto out;
  if ((dropin_dir = wif_config_dropin_dir(o->config)) == NULL)
    goto out;
  (void)snprintf(name, sizeof(name), "%s.conf", o->name);
  (void)snprintf(path, sizeof(path), "%s/%s", dropin_dir, name);
  (void)snprintf(jwks_path, sizeof(jwks_path), "%s/%s.jwks", dropin_dir,
                 o->name);
  if (lstat(path, &st) == 0) {
    cli_err("provider add: %s exists; remove it first to replace it", path);
    goto out;
  }
  rc = stage(o, dropin_dir, &t, stage_dir, sizeof(stage_dir), &staged, &err);
  if (rc != WIF_OK) {
    cli_err("provider add: %s (%s)", err.msg, wif_rc_name(rc));
    goto out;
  }
  ret = verify_staged(o, staged, o->pin ? &jwks : NULL, &jwks_len);
  if (ret != CLI_EXIT_OK)
    goto out;
  if (o->pin) {
    if (!compose(o, jwks_path, &pinned)) {
      ret = CLI_EXIT_USAGE;
      goto out;
    }
    t = pinned;
  }
  printf("%s%s:\n%.*s", o->dry_run ? "would write " : "wrote ", path,
         (int)t.len, t.buf);
  if (o->dry_run)
    goto out;
  ret = CLI_EXIT_USAGE;
  if (o->pin) {
    rc =
        write_in(dropin_dir, strrchr(jwks_path, '/') + 1, jwks, jwks_len, &err);
    if (rc != WIF_OK) {
      cli_err("provider add: %s (%s)", err.msg, wif_rc_name(rc));
      goto out;
    }
    printf("wrote %s (%zu bytes)\n", jwks_path, jwks_len);
  }
  if ((rc = write_in(dropin_dir, name, t.buf, t.len, &err)) != WIF_OK) {
    cli_err("provider add: %s (%s)", err.msg, wif_rc_name(rc));
    goto out;
  }
  ret = CLI_EXIT_OK;
out:
  if (stage_dir[0] != '\0' && strstr(stage_dir, "XXXXXX") == NULL)
    (void)nftw(stage_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  free(jwks);
  free(staged);
  free(dropin_dir);
  return ret;
}

int cli_provider(int argc, char **argv, bool debug) {
  enum { OPT_PIN = 256, OPT_CA_FILE };
  static const struct option opts[] = {
      {"preset", required_argument, NULL, 'p'},
      {"issuer", required_argument, NULL, 'i'},
      {"audience", required_argument, NULL, 'a'},
      {"tenant", required_argument, NULL, 't'},
      {"require", required_argument, NULL, 'r'},
      {"ca-file", required_argument, NULL, OPT_CA_FILE},
      {"pin", no_argument, NULL, OPT_PIN},
      {"config", required_argument, NULL, 'c'},
      {"dry-run", no_argument, NULL, 'n'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  struct provider_opts o;
  int ch;

  (void)debug;
  memset(&o, 0, sizeof(o));
  o.config = WIF_CONFIG_PATH;
  opterr = 0;
  while ((ch = getopt_long(argc, argv, ":p:i:a:t:r:c:nh", opts, NULL)) != -1) {
    switch (ch) {
    case 'p':
      o.preset = optarg;
      break;
    case 'i':
      o.issuer = optarg;
      break;
    case 'a':
      o.audience = optarg;
      break;
    case 't':
      o.tenant = optarg;
      break;
    case 'r':
      if (o.n_requires == REQUIRES_MAX) {
        cli_err("provider add: at most %d --require", REQUIRES_MAX);
        return CLI_EXIT_USAGE;
      }
      o.requires[o.n_requires++] = optarg;
      break;
    case OPT_CA_FILE:
      o.ca_file = optarg;
      break;
    case OPT_PIN:
      o.pin = true;
      break;
    case 'c':
      o.config = optarg;
      break;
    case 'n':
      o.dry_run = true;
      break;
    case 'h':
      cli_provider_help(stdout);
      return CLI_EXIT_OK;
    case ':':
      cli_err("provider: option '%s' needs an argument", argv[optind - 1]);
      return CLI_EXIT_USAGE;
    default:
      cli_err("provider: unknown option '%s'", argv[optind - 1]);
      return CLI_EXIT_USAGE;
    }
  }
  if (argc - optind != 2 || strcmp(argv[optind], "add") != 0 ||
      o.preset == NULL) {
    cli_err("provider: usage: wifctl provider add NAME --preset PRESET ...");
    return CLI_EXIT_USAGE;
  }
  o.name = argv[optind + 1];
  return provider_add(&o);
}

/* Refuses what check calls an error: a rule the parser rejects, an
 * account with uid 0 or gid 0. A missing account is only a warning. */
static int map_add(const char *config, char **rule, bool dry_run) {
  struct wif_config *cfg = NULL;
  struct wif_map *map = NULL;
  struct wif_map *one = NULL;
  struct wif_error err;
  char *dropin_dir = NULL;
  char *old = NULL;
  size_t old_len = 0;
  char line[WIF_MAP_LINE_MAX];
  char path[4200];
  char *text = NULL;
  size_t len;
  int ret = CLI_EXIT_USAGE;
  wif_rc rc;

  wif_error_clear(&err);
  if ((rc = wif_config_load(config, geteuid(), &cfg, &err)) != WIF_OK) {
    cli_err("map add: %s (%s)", err.msg, wif_rc_name(rc));
    goto out;
  }
  if ((rc = wif_map_load(cfg->map_file, geteuid(), cfg, &map, &err)) !=
      WIF_OK) {
    cli_err("map add: the mapping has errors: %s (%s)", err.msg,
            wif_rc_name(rc));
    goto out;
  }
  if (snprintf(line, sizeof(line), "%s %s %s %s\n", rule[0], rule[1], rule[2],
               rule[3]) >= (int)sizeof(line) ||
      strpbrk(line, "\r#") != NULL) {
    cli_err("map add: the rule is too long or holds '#'");
    goto out;
  }
  for (size_t i = 0; i < 4; i++)
    if (rule[i][0] == '\0' || strpbrk(rule[i], " \t\n") != NULL) {
      cli_err("map add: '%s' must be one word", rule[i]);
      goto out;
    }
  rc = wif_map_parse(line, strlen(line), "new rule", cfg, &one, &err);
  if (rc != WIF_OK) {
    cli_err("map add: refused: %s", err.msg);
    goto out;
  }
  {
    struct check c = {0, 0, false, NULL};
    const struct wif_map_rule *r = &one->rules[0];

    for (size_t i = 0; i < map->n_rules; i++) {
      const struct wif_map_rule *e = &map->rules[i];
      bool same = strcmp(e->provider, r->provider) == 0 && e->type == r->type &&
                  strcmp(e->identifier, r->identifier) == 0 &&
                  (e->claim == NULL) == (r->claim == NULL) &&
                  (e->claim == NULL || strcmp(e->claim, r->claim) == 0);

      for (size_t a = 0; same && a < r->n_accounts; a++)
        same = wif_map_rule_grants(e, r->accounts[a]);
      if (same) {
        char where[4300];
        printf("already granted at %s\n",
               wif_map_rule_where(map, e, where, sizeof(where)));
        ret = CLI_EXIT_OK;
        goto out;
      }
    }
    check_map_accounts(&c, one);
    if (c.errors > 0) {
      cli_err("map add: refused");
      goto out;
    }
  }
  dropin_dir = wif_config_dropin_dir(config);
  (void)snprintf(path, sizeof(path), "%s/" WIFCTL_MAP, dropin_dir);
  rc = wif_file_read_trusted(path, geteuid(), WIF_MAP_SIZE_MAX, &old, &old_len,
                             &err);
  if (rc != WIF_OK && access(path, F_OK) == 0) {
    cli_err("map add: %s (%s)", err.msg, wif_rc_name(rc));
    goto out;
  }
  len = old_len + strlen(line) + 1;
  if ((text = malloc(len + 1)) == NULL)
    goto out;
  (void)snprintf(text, len + 1, "%.*s%s%s", (int)old_len,
                 old != NULL ? old : "",
                 old_len > 0 && old[old_len - 1] != '\n' ? "\n" : "", line);
  len = strlen(text);
  printf("%s %s: %s", dry_run ? "would append to" : "appended to", path, line);
  if (dry_run) {
    ret = CLI_EXIT_OK;
    goto out;
  }
  rc = write_in(dropin_dir, WIFCTL_MAP, text, len, &err);
  if (rc != WIF_OK) {
    cli_err("map add: %s (%s)", err.msg, wif_rc_name(rc));
    goto out;
  }
  ret = CLI_EXIT_OK;
out:
  free(text);
  wif_file_free_buffer(old, old_len);
  free(dropin_dir);
  wif_map_free(one);
  wif_map_free(map);
  wif_config_free(cfg);
  return ret;
}

int cli_map(int argc, char **argv, bool debug) {
  static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                       {"dry-run", no_argument, NULL, 'n'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  const char *config = WIF_CONFIG_PATH;
  bool dry_run = false;
  int ch;

  (void)debug;
  opterr = 0;
  while ((ch = getopt_long(argc, argv, ":c:nh", opts, NULL)) != -1) {
    switch (ch) {
    case 'c':
      config = optarg;
      break;
    case 'n':
      dry_run = true;
      break;
    case 'h':
      cli_map_help(stdout);
      return CLI_EXIT_OK;
    case ':':
      cli_err("map: option '%s' needs an argument", argv[optind - 1]);
      return CLI_EXIT_USAGE;
    default:
      cli_err("map: unknown option '%s'", argv[optind - 1]);
      return CLI_EXIT_USAGE;
    }
  }
  if (argc - optind != 5 || strcmp(argv[optind], "add") != 0) {
    cli_err("map: usage: wifctl map add PROVIDER TYPE ID ACCOUNT");
    return CLI_EXIT_USAGE;
  }
  return map_add(config, argv + optind + 1, dry_run);
}
