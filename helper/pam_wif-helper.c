/* SPDX-License-Identifier: Apache-2.0 */
/* pam_wif-helper: the network side of pam_wif. The PAM module (and wifctl
 * run as root) start it when keys must be fetched or a host-identity token
 * comes from a metadata service or an exec: program; it answers on stdout
 * in the format of common/helper.h. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "error.h"
#include "helper.h"
#include "http.h"
#include "jwks_cache.h"
#include "log.h"
#include "source.h"

/* Past this the helper ends itself, whoever started it and whatever it
 * waits on: the module has long given up by then. */
#define HELPER_ALARM_S 120

enum keys_mode { KEYS_LOAD, KEYS_REFRESH, KEYS_FETCH, KEYS_REVOKE };

struct opts {
  const char *config;
  const char *provider;
  enum keys_mode mode;
  const char *source;
  const char *audience;
  const char *client_id;
  const char *endpoint;
};

/* Every log line becomes a "log" line of the answer. */
static void log_answer(void *ctx, int priority, const char *msg) {
  (void)ctx;
  (void)wif_helper_write_log(STDOUT_FILENO, priority, msg);
}

static int answer_error(wif_rc rc, const char *msg) {
  (void)wif_helper_write_error(STDOUT_FILENO, rc, msg);
  return 1;
}

static int keys(const struct opts *o, const struct wif_log *log) {
  struct wif_config *cfg = NULL;
  struct wif_jwks_cache *cache = NULL;
  const struct wif_provider *p;
  struct wif_jwks *set = NULL;
  struct wif_error err;
  char *text = NULL;
  size_t len = 0;
  wif_rc rc;
  int status = 1;

  wif_error_clear(&err);
  if ((rc = wif_config_load(o->config, geteuid(), &cfg, &err)) != WIF_OK)
    return answer_error(rc, err.msg);
  if ((p = wif_config_provider_by_name(cfg, o->provider)) == NULL) {
    wif_error_set(&err, WIF_E_CONFIG_INVALID, "%s: no provider \"%s\"",
                  o->config, o->provider);
    status = answer_error(err.rc, err.msg);
    goto out;
  }
  cache = wif_jwks_cache_new(cfg, cfg->cache_dir[0] ? cfg->cache_dir : NULL,
                             geteuid(), log);
  if (cache == NULL) {
    status = answer_error(WIF_E_NOMEM, "out of memory");
    goto out;
  }
  wif_jwks_cache_set_transport(cache, wif_http_transport, NULL);
  /* Within what the module waits for us. */
  wif_jwks_cache_set_deadline(cache, wif_clock_mono_ms() +
                                         cfg->http_timeout * 1000 +
                                         WIF_HELPER_START_MS / 2);
  switch (o->mode) {
  case KEYS_LOAD:
  case KEYS_REFRESH:
    /* What the module holds (the disk's set), then what it asks for. */
    rc = wif_jwks_cache_loader(cache, p, false, &set, &err);
    if (rc == WIF_OK && o->mode == KEYS_REFRESH)
      rc = wif_jwks_cache_loader(cache, p, true, &set, &err);
    break;
  case KEYS_FETCH:
    rc = wif_jwks_cache_fetch(cache, p, &err);
    break;
  case KEYS_REVOKE:
    rc = wif_jwks_cache_revoke(cache, p, &err);
    break;
  }
  if (rc == WIF_OK)
    rc = wif_jwks_cache_export(cache, p, &text, &len, &err);
  if (rc != WIF_OK) {
    status = answer_error(rc, err.msg);
    goto out;
  }
  status = wif_helper_write_ok(STDOUT_FILENO, 0, text, len) ? 0 : 1;
out:
  free(text);
  wif_jwks_cache_free(cache);
  wif_config_free(cfg);
  return status;
}

static int token(const struct opts *o, const struct wif_log *log) {
  struct wif_source_opts so;
  struct wif_error err;
  char *tok = NULL;
  int64_t exp = 0;
  wif_rc rc;
  int status;

  wif_error_clear(&err);
  wif_source_opts_init(&so);
  if ((rc = wif_source_parse(o->source, &so, &err)) != WIF_OK)
    return answer_error(rc, err.msg);
  so.audience = o->audience;
  so.client_id = o->client_id;
  so.endpoint = o->endpoint;
  so.trusted = true;
  so.budget_ms = WIF_HELPER_TOKEN_BUDGET_MS;
  if ((rc = wif_source_fetch(&so, log, &tok, &exp, &err)) != WIF_OK)
    return answer_error(rc, err.msg);
  status = wif_helper_write_ok(STDOUT_FILENO, exp, tok, strlen(tok)) ? 0 : 1;
  wif_source_token_free(tok);
  return status;
}

static int usage(void) {
  return answer_error(WIF_E_CONFIG_INVALID,
                      "usage: pam_wif-helper keys --config PATH --provider "
                      "NAME [--refresh|--fetch|--revoke] | token --source "
                      "SPEC [--audience A] [--client-id ID] [--endpoint URL]");
}

/* Options come in pairs, except the keys modes. */
static bool parse(int argc, char **argv, struct opts *o) {
  memset(o, 0, sizeof(*o));
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    const char **slot = NULL;

    if (strcmp(a, "--refresh") == 0)
      o->mode = KEYS_REFRESH;
    else if (strcmp(a, "--fetch") == 0)
      o->mode = KEYS_FETCH;
    else if (strcmp(a, "--revoke") == 0)
      o->mode = KEYS_REVOKE;
    else if (strcmp(a, "--config") == 0)
      slot = &o->config;
    else if (strcmp(a, "--provider") == 0)
      slot = &o->provider;
    else if (strcmp(a, "--source") == 0)
      slot = &o->source;
    else if (strcmp(a, "--audience") == 0)
      slot = &o->audience;
    else if (strcmp(a, "--client-id") == 0)
      slot = &o->client_id;
    else if (strcmp(a, "--endpoint") == 0)
      slot = &o->endpoint;
    else
      return false;
    if (slot != NULL) {
      if (v == NULL || *slot != NULL)
        return false;
      *slot = v;
      i++;
    }
  }
  return true;
}

int main(int argc, char **argv) {
  struct wif_log log = {log_answer, NULL, true};
  struct opts o;

  /* Started by the module with a clean state; run by hand, it must not
   * die on a closed pipe either. */
  (void)signal(SIGPIPE, SIG_IGN);
  (void)alarm(HELPER_ALARM_S);
  if (argc < 2 || !parse(argc, argv, &o))
    return usage();
  if (strcmp(argv[1], "keys") == 0 && o.config != NULL && o.provider != NULL &&
      o.source == NULL)
    return keys(&o, &log);
  if (strcmp(argv[1], "token") == 0 && o.source != NULL && o.config == NULL &&
      o.provider == NULL && o.mode == KEYS_LOAD)
    return token(&o, &log);
  return usage();
}
