/* SPDX-License-Identifier: Apache-2.0 */
/* wifctl check: findings shared by its parts (config and keys, provider
 * lint, sshd settings, PAM stacks) and by `provider add`/`map add`, which
 * refuse what check would call an error. Private to tools/. */
#ifndef WIFCTL_CHECK_H
#define WIFCTL_CHECK_H

#include <stdbool.h>

#include <jansson.h>

#include "config.h"

#define CHECK_EXIT_WARNINGS 1
#define CHECK_EXIT_ERRORS 2

/* Errors are faults in pam_wif's own configuration, map and the files
 * they name (exit 2); warnings anything else that looks wrong, sshd and
 * PAM stacks included (exit 1). */
struct check {
  unsigned errors;
  unsigned warnings;
  bool quiet;
  json_t *findings; /* --json: the array findings go to; NULL: text */
};

/* area: "config", "map", "accounts", "keys", "lint", "replay", "sshd",
 * "pam". provider may be NULL. */
void check_report(struct check *c, bool error, const char *area,
                  const char *provider, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Something worth knowing that is not wrong (level "info"). */
void check_note(struct check *c, const char *area, const char *provider,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Each mapped account exists (a warning when not) and has neither uid 0
 * nor gid 0 (an error). */
struct wif_map;
void check_map_accounts(struct check *c, const struct wif_map *map);

/* Issuer lint (errors: an Entra placeholder or multi-tenant endpoint)
 * and the known pitfalls of GitHub Actions, Kubernetes and Entra
 * providers (warnings). */
void check_provider_lint(struct check *c, const struct wif_provider *p);

/* The effective sshd settings from `sshd -T` (sshd_config: -f FILE when
 * not NULL; match: -C SPEC when not NULL). */
void check_sshd(struct check *c, const char *sshd, const char *sshd_config,
                const char *match);

/* The PAM stacks in pam_dir that load pam_wif.so, and whether service's
 * stack does. */
void check_pam(struct check *c, const char *pam_dir, const char *service);

#endif
