/* SPDX-License-Identifier: Apache-2.0 */
/* The one decision: configuration + account + token -> verdict. */
#ifndef WIF_AUTH_H
#define WIF_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "error.h"
#include "handover.h"
#include "jwks_cache.h"
#include "log.h"

/* What PAM_USER names (module argument accounts=). */
enum wif_accounts {
  WIF_ACCOUNTS_UNIX = 0, /* a local account: it must exist, never uid 0 */
  /* A name in another namespace (a database role): no passwd lookup; the
   * map must still name it exactly, and the name root is still refused. */
  WIF_ACCOUNTS_NAMES
};

/* What a front end tells the decision. Everything is borrowed. */
struct wif_auth_params {
  const char *config_path; /* NULL: WIF_CONFIG_PATH */
  /* Besides root, who may own the config, the map and jwks files: the
   * module passes geteuid() (root under sshd, su and sudo), wifctl
   * getuid(). */
  uid_t owner;
  const struct wif_log *log; /* may be NULL */
  /* Emit the decision's one log line (the module does; wifctl only with
   * --debug, since it prints the verdict itself). */
  bool log_decision;
  const char *service; /* "auth", "account": first word of the log line */
  int64_t now;         /* seconds since the epoch */
  /* The key cache directory; NULL: the config's cache_dir; "": memory
   * only. wifctl run by a user passes that user's own, never root's. */
  const char *cache_dir;
  /* How keys that are not on disk are fetched: through the fetch helper
   * at this path (the module: no network code in its process), or else
   * in this process through http (wifctl run by a user); neither: keys
   * come from the disk cache and jwks_file alone. */
  const char *helper;
  wif_http_fn http;
  enum wif_accounts accounts; /* zero: WIF_ACCOUNTS_UNIX */
  /* One-time tokens (replay.h): false (the module) records the jti of an
   * accepted token; true (`wifctl verify --account`) only reports whether
   * it was recorded before, so that checking a token does not burn it. */
  bool replay_peek;
  /* The hand-over's binding key directory (handover.h); NULL:
   * wif_handover_key_dir(owner, the config's cache_dir). */
  const char *binding_dir;
};

/*
 * The outcome of one decision. Owns every string (all freed and wiped by
 * wif_verdict_clear) and outlives the configuration it came from.
 */
struct wif_verdict {
  wif_rc rc;
  char message[WIF_ERROR_MSG_MAX]; /* for people; never holds the token */
  char *provider;                  /* section name; NULL when unknown */
  char *kid;                       /* sanitized; NULL when absent */
  /* Set only on WIF_OK: the verified identity and the rule that granted. */
  char *issuer;
  char *subject; /* raw bytes of the user claim, NUL-terminated */
  size_t subject_len;
  char **groups;
  size_t n_groups;
  int64_t exp;
  enum wif_authz grant_type;
  char *grant_claim;      /* type claim: the rule's claim; else NULL */
  char *grant_identifier; /* the map rule's identifier */
  char *map_file;         /* where the rule is */
  unsigned grant_line;
};

/*
 * The account name (PAM_USER) is checked first, before any file is
 * opened: anything wif_map_account_valid refuses is WIF_E_NO_MAPPING.
 * Then the config and map are loaded (a missing or unreadable config is
 * WIF_E_CONFIG_INVALID, not WIF_E_SYSTEM: it is a misconfiguration), the
 * token is validated (validate.h) and the mapping applied. With
 * WIF_ACCOUNTS_UNIX, a granted
 * account is looked up in the password database: not found is
 * WIF_E_NO_MAPPING, uid 0 or primary gid 0 is refused as
 * WIF_E_NO_MAPPING (pam_wif never logs anyone in as root), and a
 * lookup failure is WIF_E_SYSTEM. With WIF_ACCOUNTS_NAMES nothing is
 * looked up and only the name "root" is refused (WIF_E_NO_MAPPING). Last,
 * for a one_time provider, the token's jti goes through the replay store
 * in cache_dir (replay.h): only a token that would otherwise be granted
 * uses up its jti, and a replay is WIF_E_REPLAYED.
 *
 * token (len bytes) is only read; the caller owns and wipes it. With
 * log_decision, exactly one line is logged: outcome, reason, account,
 * provider, kid, the config's log_claims (sanitized, and only once the
 * signature has verified), the rule, and the detail message. The
 * token and signature never appear. *out is cleared first; call
 * wif_verdict_clear after any outcome. Returns out->rc.
 */
wif_rc wif_auth_authenticate(const struct wif_auth_params *params,
                             const char *account, const char *token, size_t len,
                             struct wif_verdict *out);

/*
 * wif_auth_authenticate for the PAM module: on WIF_OK also the hand-over
 * for the account phase (handover.h) in *out_h, bound to account and
 * service under the binding key (made on first use). For root, failing
 * to make it is the decision's outcome (one log line either way); for
 * another owner (a service user without a usable cache_dir) a warning is
 * logged and the hand-over has no WIF_BINDING. *out_h is cleared
 * first; wif_handover_clear it after any outcome.
 */
wif_rc wif_auth_authenticate_bound(const struct wif_auth_params *params,
                                   const char *account, const char *token,
                                   size_t len, const char *service,
                                   struct wif_verdict *out,
                                   struct wif_handover *out_h);

/*
 * The account phase, on what auth handed over (the module's WIF_* PAM
 * environment: sshd runs auth and account in different processes). The
 * config is read, then the hand-over verified (wif_handover_verify:
 * WIF_E_UNBOUND, WIF_E_TAMPERED) and parsed (WIF_E_MALFORMED). Then the
 * map is re-read to check that the grant still holds for account and
 * that the token has not expired (exp + clock_skew > now): a provider or
 * rule that is gone, or that no longer lists account, is
 * WIF_E_NO_MAPPING; expiry WIF_E_EXPIRED. The account is checked as in
 * wif_auth_authenticate. Logs one line with log_decision. On WIF_OK,
 * out->exp is the bound exp.
 */
wif_rc wif_auth_recheck(const struct wif_auth_params *params,
                        const char *account,
                        const struct wif_handover_input *in,
                        struct wif_verdict *out);

/*
 * For failures before the core was asked (the module could not obtain a
 * token): logs the same one line for rc and message, and fills *out.
 */
wif_rc wif_auth_reject(const struct wif_auth_params *params,
                       const char *account, wif_rc rc, const char *message,
                       struct wif_verdict *out);

void wif_verdict_clear(struct wif_verdict *v);

#endif
