/* SPDX-License-Identifier: Apache-2.0 */
/* Token options, settings from the environment, and the cached fetch
 * shared by `wifctl token`, `askpass` and `ssh`. */
#include "wifctl_source.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "file.h"
#include "token_cache.h"
#include "wifctl.h"

#define CONFIG_FILE_MAX (64 * 1024)
#define TIMEOUT_MAX_S 600

enum {
  OPT_SOURCE = 0x100,
  OPT_AUDIENCE,
  OPT_CLIENT_ID,
  OPT_OBJECT_ID,
  OPT_MSI_RES_ID,
  OPT_ENDPOINT,
  OPT_NO_CACHE,
  OPT_TOKEN_ENDPOINT,
  OPT_SCOPE,
  OPT_SECRET_FILE,
  OPT_CERT,
  OPT_KEY,
  OPT_CA_FILE,
  OPT_TIMEOUT,
  OPT_FORMAT_FULL,
  OPT_ASSERTION_FILE,
  OPT_RESOURCE,
  OPT_TOKEN_AUDIENCE,
  OPT_SERVICE_ACCOUNT
};

const struct option cli_source_options[] = {
    {"source", required_argument, NULL, OPT_SOURCE},
    {"audience", required_argument, NULL, OPT_AUDIENCE},
    {"client-id", required_argument, NULL, OPT_CLIENT_ID},
    {"object-id", required_argument, NULL, OPT_OBJECT_ID},
    {"msi-res-id", required_argument, NULL, OPT_MSI_RES_ID},
    {"endpoint", required_argument, NULL, OPT_ENDPOINT},
    {"no-cache", no_argument, NULL, OPT_NO_CACHE},
    {"token-endpoint", required_argument, NULL, OPT_TOKEN_ENDPOINT},
    {"scope", required_argument, NULL, OPT_SCOPE},
    {"client-secret-file", required_argument, NULL, OPT_SECRET_FILE},
    {"client-cert", required_argument, NULL, OPT_CERT},
    {"client-key", required_argument, NULL, OPT_KEY},
    {"ca-file", required_argument, NULL, OPT_CA_FILE},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"format-full", no_argument, NULL, OPT_FORMAT_FULL},
    {"client-assertion-file", required_argument, NULL, OPT_ASSERTION_FILE},
    {"resource", required_argument, NULL, OPT_RESOURCE},
    {"token-audience", required_argument, NULL, OPT_TOKEN_AUDIENCE},
    {"service-account", required_argument, NULL, OPT_SERVICE_ACCOUNT},
    {NULL, 0, NULL, 0}};

static void add_options(struct option *opts, size_t *n,
                        const struct option *from) {
  for (; from->name != NULL && *n + 1 < CLI_SOURCE_OPTIONS_MAX; from++)
    opts[(*n)++] = *from;
}

void cli_source_options_with(struct option *opts, const struct option *own) {
  size_t n = 0;

  add_options(opts, &n, cli_source_options);
  add_options(opts, &n, own);
  opts[n] = (struct option){NULL, 0, NULL, 0};
}

void cli_source_options_help(FILE *f) {
  fputs(
      "Token options:\n"
      "  --source SOURCE     azure | gcp | k8s | github | file:PATH |\n"
      "                      exec:COMMAND | client-credentials\n"
      "  --audience AUD      the audience (azure: the resource) to ask for\n"
      "  --client-id ID      azure: a user-assigned identity;\n"
      "                      client-credentials: the application's client id\n"
      "  --object-id ID, --msi-res-id ID\n"
      "                      azure: select the identity by object id or\n"
      "                      resource id instead\n"
      "  --endpoint URL      azure/gcp: metadata base URL "
      "scheme://host[:port]\n"
      "                      (default http://169.254.169.254 and\n"
      "                      http://metadata.google.internal; also\n"
      "                      WIF_AZURE_IMDS_ENDPOINT, "
      "WIF_GCP_METADATA_ENDPOINT)\n"
      "  --format-full       gcp: ask for format=full\n"
      "  --service-account EMAIL  gcp: this service account, not the\n"
      "                      instance's default one\n"
      "  --token-endpoint URL  client-credentials: the https token endpoint\n"
      "  --scope SCOPE       client-credentials: scope (default AUD/.default\n"
      "                      for Entra ID's endpoints, none elsewhere)\n"
      "  --resource R        client-credentials: RFC 8707 resource parameter\n"
      "  --token-audience A  client-credentials: audience parameter (Auth0)\n"
      "  --client-secret-file F  client-credentials: file holding the secret\n"
      "  --client-cert F --client-key F\n"
      "                      client-credentials: sign an RFC 7523 assertion\n"
      "                      (RS256) with this certificate's key instead\n"
      "  --client-assertion-file F\n"
      "                      client-credentials: send the JWT in F (read\n"
      "                      anew each time) as the client assertion:\n"
      "                      federated credentials, e.g. the file named by\n"
      "                      AZURE_FEDERATED_TOKEN_FILE\n"
      "  --ca-file F         trust anchor for https endpoints\n"
      "  --timeout SECONDS   per HTTP exchange or exec: run (default 5)\n"
      "  --no-cache          do not use the token cache\n"
      "\n"
      "exec:COMMAND runs COMMAND without a shell (words split on blanks,\n"
      "quotes allowed), with only PATH, WIF_AUDIENCE and WIF_CLIENT_ID in its\n"
      "environment; its standard output is the token, or JSON with\n"
      "access_token and expires_in, or a Kubernetes ExecCredential.\n"
      "k8s reads AZURE_FEDERATED_TOKEN_FILE, else "
      "AWS_WEB_IDENTITY_TOKEN_FILE,\n"
      "else /var/run/secrets/kubernetes.io/serviceaccount/token. github uses\n"
      "ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN.\n"
      "azure without --endpoint uses IDENTITY_ENDPOINT and IDENTITY_HEADER\n"
      "when both are set (App Service, Functions, Container Apps).\n"
      "Tokens are cached in $XDG_RUNTIME_DIR/pam_wif (else /tmp/pam_wif-UID)\n"
      "until 5 minutes before they expire; file: and k8s are never cached.\n",
      f);
}

void cli_source_args_init(struct cli_source_args *a) {
  memset(a, 0, sizeof(*a));
  wif_source_opts_init(&a->opts);
}

void cli_source_args_clear(struct cli_source_args *a) {
  wif_file_free_buffer(a->file_buf, a->file_len);
  memset(a, 0, sizeof(*a));
}

static bool parse_timeout(const char *s, long *out_ms) {
  char *end = NULL;
  long v;

  errno = 0;
  v = strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < 1 || v > TIMEOUT_MAX_S)
    return false;
  *out_ms = v * 1000;
  return true;
}

/* Applies one setting by its long option name (also the config keys and,
 * upper-cased, the WIF_* variables). */
static int set_named(struct cli_source_args *a, int c, const char *v) {
  struct wif_source_opts *o = &a->opts;

  switch (c) {
  case OPT_SOURCE:
    a->source = v;
    a->have_source = true;
    return 1;
  case OPT_AUDIENCE:
    o->audience = v;
    return 1;
  case OPT_CLIENT_ID:
    o->client_id = v;
    return 1;
  case OPT_OBJECT_ID:
    o->object_id = v;
    return 1;
  case OPT_MSI_RES_ID:
    o->msi_res_id = v;
    return 1;
  case OPT_ENDPOINT:
    o->endpoint = v;
    return 1;
  case OPT_NO_CACHE:
    a->no_cache = true;
    return 1;
  case OPT_TOKEN_ENDPOINT:
    o->token_endpoint = v;
    return 1;
  case OPT_SCOPE:
    o->scope = v;
    return 1;
  case OPT_SECRET_FILE:
    o->secret_file = v;
    return 1;
  case OPT_CERT:
    o->cert_file = v;
    return 1;
  case OPT_KEY:
    o->key_file = v;
    return 1;
  case OPT_CA_FILE:
    o->ca_file = v;
    return 1;
  case OPT_TIMEOUT:
    if (!parse_timeout(v, &o->timeout_ms)) {
      cli_err("--timeout must be a number of seconds from 1 to %d",
              TIMEOUT_MAX_S);
      return -1;
    }
    return 1;
  case OPT_FORMAT_FULL:
    o->gcp_format_full = v == NULL || strcmp(v, "0") != 0;
    return 1;
  case OPT_ASSERTION_FILE:
    o->assertion_file = v;
    return 1;
  case OPT_RESOURCE:
    o->resource = v;
    return 1;
  case OPT_TOKEN_AUDIENCE:
    o->token_audience = v;
    return 1;
  case OPT_SERVICE_ACCOUNT:
    o->gcp_service_account = v;
    return 1;
  default:
    return 0;
  }
}

int cli_source_option(struct cli_source_args *a, int c, const char *arg) {
  return set_named(a, c, arg);
}

wif_rc cli_source_finish(struct cli_source_args *a, struct wif_error *err) {
  wif_rc rc;

  if (!a->have_source)
    return wif_error_set(err, WIF_E_CONFIG_INVALID,
                         "no token source: give --source");
  if ((rc = wif_source_parse(a->source, &a->opts, err)) != WIF_OK)
    return rc;
  /* The CLI acts for the user who runs it: their environment applies. */
  wif_source_opts_from_env(&a->opts);
  return WIF_OK;
}

/* The variable of each option for askpass; in the order of the enum. */
static const struct {
  int opt;
  const char *env;
  const char *key;
} named[] = {
    {OPT_SOURCE, "WIF_SOURCE", "source"},
    {OPT_AUDIENCE, "WIF_AUDIENCE", "audience"},
    {OPT_CLIENT_ID, "WIF_CLIENT_ID", "client_id"},
    {OPT_OBJECT_ID, "WIF_OBJECT_ID", "object_id"},
    {OPT_MSI_RES_ID, "WIF_MSI_RES_ID", "msi_res_id"},
    {OPT_ENDPOINT, "WIF_ENDPOINT", "endpoint"},
    {OPT_TOKEN_ENDPOINT, "WIF_TOKEN_ENDPOINT", "token_endpoint"},
    {OPT_SCOPE, "WIF_SCOPE", "scope"},
    {OPT_SECRET_FILE, "WIF_CLIENT_SECRET_FILE", "client_secret_file"},
    {OPT_CERT, "WIF_CLIENT_CERT", "client_cert"},
    {OPT_KEY, "WIF_CLIENT_KEY", "client_key"},
    {OPT_CA_FILE, "WIF_CA_FILE", "ca_file"},
    {OPT_TIMEOUT, "WIF_TIMEOUT", "timeout"},
    {OPT_FORMAT_FULL, "WIF_FORMAT_FULL", "format_full"},
    {OPT_ASSERTION_FILE, "WIF_CLIENT_ASSERTION_FILE", "client_assertion_file"},
    {OPT_RESOURCE, "WIF_RESOURCE", "resource"},
    {OPT_TOKEN_AUDIENCE, "WIF_TOKEN_AUDIENCE", "token_audience"},
    {OPT_SERVICE_ACCOUNT, "WIF_SERVICE_ACCOUNT", "service_account"},
};

#define N_NAMED (sizeof(named) / sizeof(named[0]))

static const char *current(const struct cli_source_args *a, int opt) {
  const struct wif_source_opts *o = &a->opts;

  switch (opt) {
  case OPT_SOURCE:
    return a->source;
  case OPT_AUDIENCE:
    return o->audience;
  case OPT_CLIENT_ID:
    return o->client_id;
  case OPT_OBJECT_ID:
    return o->object_id;
  case OPT_MSI_RES_ID:
    return o->msi_res_id;
  case OPT_ENDPOINT:
    return o->endpoint;
  case OPT_TOKEN_ENDPOINT:
    return o->token_endpoint;
  case OPT_SCOPE:
    return o->scope;
  case OPT_SECRET_FILE:
    return o->secret_file;
  case OPT_CERT:
    return o->cert_file;
  case OPT_KEY:
    return o->key_file;
  case OPT_CA_FILE:
    return o->ca_file;
  case OPT_FORMAT_FULL:
    return o->gcp_format_full ? "1" : NULL;
  case OPT_ASSERTION_FILE:
    return o->assertion_file;
  case OPT_RESOURCE:
    return o->resource;
  case OPT_TOKEN_AUDIENCE:
    return o->token_audience;
  case OPT_SERVICE_ACCOUNT:
    return o->gcp_service_account;
  default:
    return NULL;
  }
}

/* "key = value" lines, # comments, blank lines; values end at the line's
 * end (trailing blanks dropped). The buffer is cut in place. */
static wif_rc parse_config(struct cli_source_args *a, const char *path,
                           struct wif_error *err) {
  char *line = a->file_buf;
  unsigned lineno = 0;

  while (line != NULL && *line != '\0') {
    char *next = strchr(line, '\n');
    char *eq;
    char *k;
    char *v;
    char *e;
    size_t i;

    lineno++;
    if (next != NULL)
      *next++ = '\0';
    for (k = line; *k == ' ' || *k == '\t'; k++)
      ;
    if (*k == '\0' || *k == '#') {
      line = next;
      continue;
    }
    if ((eq = strchr(k, '=')) == NULL)
      return wif_error_set(err, WIF_E_CONFIG_INVALID,
                           "%s:%u: expected "
                           "key = value",
                           path, lineno);
    for (e = eq; e > k && (e[-1] == ' ' || e[-1] == '\t'); e--)
      ;
    *e = '\0';
    for (v = eq + 1; *v == ' ' || *v == '\t'; v++)
      ;
    for (e = v + strlen(v);
         e > v && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'); e--)
      ;
    *e = '\0';
    for (i = 0; i < N_NAMED; i++)
      if (strcmp(k, named[i].key) == 0)
        break;
    if (i == N_NAMED) {
      char clean[64];

      wif_log_sanitize(k, strlen(k), clean, sizeof(clean));
      return wif_error_set(err, WIF_E_CONFIG_INVALID,
                           "%s:%u: unknown key \"%s\"", path, lineno, clean);
    }
    if (*v == '\0')
      return wif_error_set(err, WIF_E_CONFIG_INVALID, "%s:%u: empty value",
                           path, lineno);
    if (set_named(a, named[i].opt, v) < 0)
      return wif_error_set(err, WIF_E_CONFIG_INVALID, "%s:%u: bad value", path,
                           lineno);
    line = next;
  }
  return WIF_OK;
}

wif_rc cli_source_from_env(struct cli_source_args *a, struct wif_error *err) {
  const char *conf = secure_getenv("WIF_CLIENT_CONFIG");
  wif_rc rc;

  if (conf != NULL && *conf != '\0') {
    /* It names secret files: it must be the user's own (or root's) and
     * writable by nobody else. */
    rc = wif_file_read_trusted(conf, getuid(), CONFIG_FILE_MAX, &a->file_buf,
                               &a->file_len, err);
    if (rc != WIF_OK)
      return rc;
    if ((rc = parse_config(a, conf, err)) != WIF_OK)
      return rc;
  } else {
    for (size_t i = 0; i < N_NAMED; i++) {
      const char *v = secure_getenv(named[i].env);

      if (v != NULL && *v != '\0' && set_named(a, named[i].opt, v) < 0)
        return wif_error_set(err, WIF_E_CONFIG_INVALID, "bad %s", named[i].env);
    }
  }
  return cli_source_finish(a, err);
}

wif_rc cli_source_export(const struct cli_source_args *a,
                         struct wif_error *err) {
  char num[32];

  /* Options given to `wifctl ssh` replace a configuration file. */
  if (unsetenv("WIF_CLIENT_CONFIG") != 0)
    return wif_error_set(err, WIF_E_SYSTEM, "unsetenv: %s", strerror(errno));
  for (size_t i = 0; i < N_NAMED; i++) {
    const char *v = current(a, named[i].opt);
    int r;

    if (named[i].opt == OPT_TIMEOUT && a->opts.timeout_ms > 0) {
      (void)snprintf(num, sizeof(num), "%ld", a->opts.timeout_ms / 1000);
      v = num;
    }
    r = v != NULL ? setenv(named[i].env, v, 1) : unsetenv(named[i].env);
    if (r != 0)
      return wif_error_set(err, WIF_E_SYSTEM, "setenv: %s", strerror(errno));
  }
  return WIF_OK;
}

wif_rc cli_source_get(const struct cli_source_args *a, enum cli_cache_mode mode,
                      const struct wif_log *log, char **out_token,
                      struct cli_source_got *out_got, struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;
  char *key = NULL;
  char *dir = NULL;
  char *token = NULL;
  int64_t exp = 0;
  bool cached = false;
  struct wif_error cerr;

  *out_token = NULL;
  if (out_got != NULL)
    memset(out_got, 0, sizeof(*out_got));
  wif_error_clear(&cerr);
  if ((rc = wif_source_cache_key(&a->opts, &key, err)) != WIF_OK)
    goto out;
  if (key != NULL && mode != CLI_CACHE_BYPASS &&
      (rc = wif_token_cache_dir(secure_getenv("XDG_RUNTIME_DIR"), getuid(),
                                &dir, err)) != WIF_OK)
    goto out;
  if (dir != NULL && mode == CLI_CACHE_USE) {
    rc =
        wif_token_cache_get(dir, key, (int64_t)time(NULL), &token, &exp, &cerr);
    if (rc == WIF_OK) {
      wif_log(log, LOG_DEBUG, "token from the cache (exp %lld)",
              (long long)exp);
      cached = true;
      goto done;
    }
    if (rc != WIF_E_TOKEN_UNAVAILABLE) {
      wif_log(log, LOG_WARNING, "not using the token cache: %s", cerr.msg);
      free(dir);
      dir = NULL;
    }
  } else if (dir != NULL && mode == CLI_CACHE_REFRESH) {
    /* The old entry goes first: should the fetch fail, no later call
     * reuses a token that was refused or is being replaced. */
    wif_error_clear(&cerr);
    if (wif_token_cache_drop(dir, key, &cerr) != WIF_OK)
      wif_log(log, LOG_DEBUG, "cannot drop the cache entry: %s", cerr.msg);
  }
  if ((rc = wif_source_fetch(&a->opts, log, &token, &exp, err)) != WIF_OK)
    goto out;
  if (dir != NULL) {
    wif_error_clear(&cerr);
    if (wif_token_cache_put(dir, key, token, exp, (int64_t)time(NULL), &cerr) !=
        WIF_OK)
      wif_log(log, LOG_WARNING, "cannot cache the token: %s", cerr.msg);
  }
done:
  if (out_got != NULL) {
    out_got->cached = cached;
    out_got->exp = exp;
    out_got->cache_dir = dir;
    dir = NULL;
  }
  *out_token = token;
  token = NULL;
  rc = WIF_OK;
out:
  wif_source_token_free(token);
  free(dir);
  free(key);
  return rc;
}
