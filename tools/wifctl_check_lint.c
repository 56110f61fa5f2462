/* SPDX-License-Identifier: Apache-2.0 */
/* wifctl check: issuer lint and the known pitfalls of real identity
 * providers (issue 12, items 5 and 7). */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "wifctl_check.h"

#define GITHUB_ISSUER "https://token.actions.githubusercontent.com"

/* The path segment after the host of an https URL ("" when none): what
 * Entra puts its tenant in. */
static bool first_segment(const char *url, const char **seg, size_t *len) {
  const char *host;
  const char *slash;
  const char *end;

  if (strncmp(url, "https://", 8) != 0)
    return false;
  host = url + 8;
  if ((slash = strchr(host, '/')) == NULL) {
    *seg = "";
    *len = 0;
    return true;
  }
  *seg = slash + 1;
  end = strchr(*seg, '/');
  *len = end != NULL ? (size_t)(end - *seg) : strlen(*seg);
  return true;
}

static bool host_is(const char *url, const char *host) {
  size_t n = strlen(host);

  return strncmp(url, "https://", 8) == 0 &&
         strncasecmp(url + 8, host, n) == 0 &&
         (url[8 + n] == '/' || url[8 + n] == '\0');
}

static bool is_guid(const char *s) {
  static const char form[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

  if (strlen(s) != sizeof(form) - 1)
    return false;
  for (size_t i = 0; form[i] != '\0'; i++) {
    char ch = s[i];
    bool hex = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
               (ch >= 'A' && ch <= 'F');

    if (form[i] == '-' ? ch != '-' : !hex)
      return false;
  }
  return true;
}

static bool requires_claim(const struct wif_provider *p, const char *claim) {
  for (size_t i = 0; i < p->n_requires; i++) {
    const char *c = p->requires[i].claim;

    /* A name, or a top-level JSON pointer to it. */
    if (strcmp(c, claim) == 0 || (c[0] == '/' && strcmp(c + 1, claim) == 0))
      return true;
  }
  return false;
}

static void lint_entra(struct check *c, const struct wif_provider *p) {
  const char *seg;
  size_t len;
  bool v1 = host_is(p->issuer, "sts.windows.net");
  bool v2 = host_is(p->issuer, "login.microsoftonline.com");

  if ((!v1 && !v2) || !first_segment(p->issuer, &seg, &len))
    return;
  if ((len == 6 && strncasecmp(seg, "common", 6) == 0) ||
      (len == 13 && strncasecmp(seg, "organizations", 13) == 0) ||
      (len == 9 && strncasecmp(seg, "consumers", 9) == 0))
    check_report(c, true, "lint", p->name,
                 "provider \"%s\": issuer \"%s\" names Entra's multi-tenant "
                 "endpoint \"%.*s\": tokens carry their own tenant's issuer, "
                 "so nothing would match; use "
                 "https://login.microsoftonline.com/<tenant-id>/v2.0 (or "
                 "https://sts.windows.net/<tenant-id>/ for v1 tokens)",
                 p->name, p->issuer, (int)len, seg);
  v2 = v2 && strstr(p->issuer, "/v2.0") != NULL;
  for (size_t i = 0; i < p->n_audiences; i++) {
    const char *a = p->audiences[i];

    if (v2 && strncmp(a, "api://", 6) == 0)
      check_report(c, false, "lint", p->name,
                   "provider \"%s\": audience \"%s\" is an Application ID "
                   "URI, but v2.0 tokens (issuer %s) carry the application's "
                   "client ID (a GUID) in aud",
                   p->name, a, p->issuer);
    else if (v1 && is_guid(a))
      check_report(c, false, "lint", p->name,
                   "provider \"%s\": audience \"%s\" is a GUID, but v1.0 "
                   "tokens (issuer %s) usually carry the Application ID URI "
                   "(api://...) in aud; for v2.0 tokens use issuer "
                   "https://login.microsoftonline.com/<tenant-id>/v2.0",
                   p->name, a, p->issuer);
  }
}

void check_provider_lint(struct check *c, const struct wif_provider *p) {
  if (p->issuer == NULL)
    return;
  if (strcasestr(p->issuer, "{tenantid}") != NULL ||
      strcasestr(p->issuer, "{tenant}") != NULL ||
      strcasestr(p->issuer, "{tenant-id}") != NULL)
    check_report(c, true, "lint", p->name,
                 "provider \"%s\": issuer \"%s\" holds a placeholder: put "
                 "the tenant's ID (a GUID) in its place",
                 p->name, p->issuer);
  lint_entra(c, p);
  /* GitHub Actions, github.com or an enterprise's own issuer path. */
  if ((strcmp(p->issuer, GITHUB_ISSUER) == 0 ||
       strncmp(p->issuer, GITHUB_ISSUER "/", sizeof(GITHUB_ISSUER)) == 0) &&
      !requires_claim(p, "repository_owner_id") &&
      !requires_claim(p, "repository_id"))
    check_report(c, false, "lint", p->name,
                 "provider \"%s\": a GitHub Actions provider that does not "
                 "require repository_owner_id or repository_id: organisation "
                 "and repository names can be deleted and registered again "
                 "by someone else; add e.g. \"require = repository_owner_id "
                 "= <id>\"",
                 p->name);
  for (size_t i = 0; i < p->n_audiences; i++) {
    const char *a = p->audiences[i];

    if (strncmp(a, "https://kubernetes.default.svc", 30) == 0 ||
        strncmp(a, "kubernetes.default.svc", 22) == 0)
      check_report(c, false, "lint", p->name,
                   "provider \"%s\": audience \"%s\" is the Kubernetes API "
                   "server's: every pod's default token is accepted; use a "
                   "projected service account token with an audience of "
                   "its own (e.g. pam_wif)",
                   p->name, a);
  }
}
