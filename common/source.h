/* SPDX-License-Identifier: Apache-2.0 */
/* Token sources: how a workload obtains its own token (DESIGN.md). */
#ifndef WIF_SOURCE_H
#define WIF_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "log.h"
#include "retry.h"

enum wif_source_kind {
  WIF_SOURCE_AZURE,             /* Azure IMDS managed identity */
  WIF_SOURCE_GCP,               /* GCP metadata identity token */
  WIF_SOURCE_K8S,               /* projected service account token file */
  WIF_SOURCE_GITHUB,            /* GitHub Actions OIDC */
  WIF_SOURCE_FILE,              /* file:PATH */
  WIF_SOURCE_EXEC,              /* exec:COMMAND, the callback */
  WIF_SOURCE_CLIENT_CREDENTIALS /* OAuth 2.0 client credentials */
};

/* Defaults, overridable per call. */
#define WIF_SOURCE_AZURE_ENDPOINT "http://169.254.169.254"
#define WIF_SOURCE_GCP_ENDPOINT "http://metadata.google.internal"
#define WIF_SOURCE_K8S_TOKEN_FILE                                              \
  "/var/run/secrets/kubernetes.io/serviceaccount/token"
#define WIF_SOURCE_EXEC_OUTPUT_MAX (64 * 1024) /* bytes of stdout (L3) */
#define WIF_SOURCE_EXEC_ARGS_MAX 64
#define WIF_SOURCE_TIMEOUT_MS 5000L /* one HTTP exchange or one exec run */

/*
 * Everything a fetch needs. Every string is borrowed and must outlive the
 * call; NULL means "not set". Nothing in the core reads the environment:
 * wif_source_opts_from_env is for front ends whose caller owns the
 * environment (wifctl), never for pam_wif, where the user running su
 * controls it.
 */
struct wif_source_opts {
  enum wif_source_kind kind;
  const char *path;      /* file: and k8s (NULL: the default token file) */
  const char *command;   /* exec: command line, split without a shell */
  const char *audience;  /* azure resource, gcp/github audience, scope base */
  const char *client_id; /* azure user-assigned identity, client-credentials */
  const char *object_id; /* azure: alternative identity selectors */
  const char *msi_res_id;
  const char *endpoint; /* azure/gcp base URL "scheme://host[:port]" */
  /* Azure App Service, Functions and Container Apps: the local identity
   * endpoint (a whole URL: http on loopback, or https) and its secret
   * header value (IDENTITY_ENDPOINT, IDENTITY_HEADER). identity_endpoint
   * without identity_header is Azure Arc, which is refused. */
  const char *identity_endpoint;
  const char *identity_header;
  bool gcp_format_full;            /* gcp: format=full (adds instance claims) */
  const char *gcp_service_account; /* gcp: NULL: "default" */
  const char *github_url;          /* ACTIONS_ID_TOKEN_REQUEST_URL */
  const char *github_token;        /* ACTIONS_ID_TOKEN_REQUEST_TOKEN (secret) */
  const char *token_endpoint;      /* client-credentials: https URL */
  const char *scope;    /* NULL: "<audience>/.default" when token_endpoint is
                           Entra ID's (wif_source_is_entra), else none */
  const char *resource; /* client-credentials: RFC 8707 "resource"
                           form parameter (Entra v1 endpoint), */
  const char *token_audience; /* and the "audience" one (Auth0) */
  const char *secret_file;    /* client secret, or: */
  const char *cert_file;      /* PEM certificate and its private key, */
  const char *key_file;       /* for an RFC 7523 client assertion, or: */
  const char *assertion_file; /* a JWT issued to the workload (federated
                                 credentials, RFC 7523 2.2), read anew on
                                 every fetch */
  const char *ca_file;        /* trust anchor for https (NULL: system) */
  /*
   * Host identity mode (pam_wif-helper and the module): an exec:
   * program must be an absolute path owned by root and not writable by
   * group or others, and so must every directory above it (L1); it then
   * runs as root in a clean start (subprocess.h). file: and k8s token files
   * must pass the trusted-file checks for the effective uid (N8).
   */
  bool trusted;
  long timeout_ms; /* one HTTP exchange or exec run; 0: default */
  long budget_ms;  /* the whole fetch with retries; 0: the source's default
                      (azure 70 s for 410, others 20 s) */
  const struct wif_clock *clock; /* NULL: the system clock */
};

/* Zeroes opts (kind azure, nothing set). */
void wif_source_opts_init(struct wif_source_opts *o);

/*
 * Parses "azure|gcp|k8s|github|file:PATH|exec:COMMAND|client-credentials"
 * into o->kind and o->path / o->command, which then point into spec (spec
 * must outlive o). WIF_E_CONFIG_INVALID on anything else.
 */
wif_rc wif_source_parse(const char *spec, struct wif_source_opts *o,
                        struct wif_error *err);

/* "azure", "gcp", ..., "client-credentials". */
const char *wif_source_kind_name(enum wif_source_kind kind);

/*
 * For the CLI only: fills what is not set yet from the environment
 * (secure_getenv): for azure without an endpoint IDENTITY_ENDPOINT and
 * IDENTITY_HEADER (App Service, Functions, Container Apps), else
 * WIF_AZURE_IMDS_ENDPOINT; WIF_GCP_METADATA_ENDPOINT for gcp's endpoint,
 * ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN for github,
 * and for k8s the path from AZURE_FEDERATED_TOKEN_FILE, else
 * AWS_WEB_IDENTITY_TOKEN_FILE. The strings belong to the environment.
 */
void wif_source_opts_from_env(struct wif_source_opts *o);

/*
 * Obtains a token. On success *out_token is a new NUL-terminated string
 * (free it with wif_source_token_free) and *out_exp its expiry in seconds
 * since the epoch, from the service's answer or else from the token's own
 * (unverified) exp claim, 0 when unknown. The token is only framed here:
 * exactly one trailing newline is removed (SECURITY-CASES A10) and it must
 * be 1..WIF_TOKEN_MAX printable ASCII bytes without spaces or `\`. It is
 * NOT validated: callers that trust it must verify it (K5).
 *
 * Results: WIF_E_CONFIG_INVALID for missing or contradictory options,
 * WIF_E_CONFIG_INSECURE for an unsafe exec: program (L1),
 * WIF_E_UNAVAILABLE when a service cannot be reached or times out,
 * WIF_E_TOKEN_UNAVAILABLE when it answers with an error or something that
 * is not a token (err then names the HTTP status and the service's error
 * field), WIF_E_NOMEM / WIF_E_SYSTEM. Never logs the token or a body.
 */
wif_rc wif_source_fetch(const struct wif_source_opts *o,
                        const struct wif_log *log, char **out_token,
                        int64_t *out_exp, struct wif_error *err);

/*
 * file: and k8s alone, as wif_source_fetch does them: the part of the
 * sources that needs no network code (the module's host identity mode).
 */
wif_rc wif_source_file_fetch(const struct wif_source_opts *o,
                             const struct wif_log *log, char **out_token,
                             int64_t *out_exp, struct wif_error *err);

/*
 * True when url's host is one of Entra ID's token services
 * (login.microsoftonline.com, login.microsoftonline.us,
 * login.chinacloudapi.cn, login.partner.microsoftonline.cn, ...), the only
 * servers that understand the "<resource>/.default" scope.
 */
bool wif_source_is_entra(const char *url);

/* Wipes and frees a token from wif_source_fetch; NULL does nothing. */
void wif_source_token_free(char *token);

/*
 * The client cache key of a request (source, audience, client id and
 * whatever else selects the identity: endpoint, selectors, exec command
 * line, token endpoint, scope), as a new string; NULL in *out_key when the
 * source is not cached (file: and k8s are read afresh each time).
 */
wif_rc wif_source_cache_key(const struct wif_source_opts *o, char **out_key,
                            struct wif_error *err);

#endif
