/* The one decision: configuration + account + token -> verdict. */
#ifndef WIF_AUTH_H
#define WIF_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "error.h"
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
 * opened (G4): anything wif_map_account_valid refuses is WIF_E_NO_MAPPING.
 * Then the config and map are loaded (a missing or unreadable config is
 * WIF_E_CONFIG_INVALID, not WIF_E_SYSTEM: it is a misconfiguration), the
 * token is validated (validate.h) and the mapping applied. With
 * WIF_ACCOUNTS_UNIX, a granted
 * account is looked up in the password database: not found is
 * WIF_E_NO_MAPPING, uid 0 or primary gid 0 is refused as
 * WIF_E_NO_MAPPING (G3: pam_wif never logs anyone in as root), and a
 * lookup failure is WIF_E_SYSTEM. With WIF_ACCOUNTS_NAMES nothing is
 * looked up and only the name "root" is refused (WIF_E_NO_MAPPING). Last,
 * for a one_time provider, the token's jti goes through the replay store
 * in cache_dir (replay.h): only a token that would otherwise be granted
 * uses up its jti, and a replay is WIF_E_REPLAYED.
 *
 * token (len bytes) is only read; the caller owns and wipes it. With
 * log_decision, exactly one line is logged: outcome, reason, account,
 * provider, kid, the config's log_claims (sanitized, and only once the
 * signature has verified: C11), the rule, and the detail message. The
 * token and signature never appear. *out is cleared first; call
 * wif_verdict_clear after any outcome. Returns out->rc.
 */
wif_rc wif_auth_authenticate(const struct wif_auth_params *params,
                             const char *account, const char *token, size_t len,
                             struct wif_verdict *out);

/*
 * What an earlier authentication left behind (the module's WIF_* PAM
 * environment; sshd runs auth and account in different processes).
 * All borrowed; any may be NULL when the variable is absent.
 */
struct wif_auth_grant {
  const char *provider; /* WIF_PROVIDER */
  const char *issuer;   /* WIF_ISSUER */
  const char *expires;  /* WIF_EXPIRES, decimal seconds */
  const char *grant;    /* WIF_GRANT: wif_auth_grant_encode's form */
};

/*
 * The account phase: re-reads the config and map and checks that the
 * grant still holds for account (which may have changed since auth: G6)
 * and that the token has not expired (exp + clock_skew > now). A grant
 * that is incomplete or does not parse is WIF_E_MALFORMED; a provider or
 * rule that is gone, or that no longer lists account, WIF_E_NO_MAPPING;
 * expiry WIF_E_EXPIRED. The account is checked as in
 * wif_auth_authenticate. Logs one line with log_decision.
 */
wif_rc wif_auth_recheck(const struct wif_auth_params *params,
                        const char *account, const struct wif_auth_grant *g,
                        struct wif_verdict *out);

/*
 * For failures before the core was asked (the module could not obtain a
 * token): logs the same one line for rc and message, and fills *out.
 */
wif_rc wif_auth_reject(const struct wif_auth_params *params,
                       const char *account, wif_rc rc, const char *message,
                       struct wif_verdict *out);

/*
 * The encoding used for WIF_SUBJECT and WIF_GRANT identifiers: printable
 * ASCII except `\` as is, every other byte as \xHH. It is one-to-one, so
 * encoded values compare exactly when the raw bytes do. out_size of
 * 4 * len + 1 always suffices; returns false when out is too small.
 */
bool wif_auth_encode(const char *s, size_t len, char *out, size_t out_size);

/*
 * WIF_GRANT: "user:ID", "group:ID" or "claim:NAME:ID", ID and NAME in the
 * wif_auth_encode form, NAME with ':' also as \x3a so that the last
 * unescaped ':' ends it. One-to-one. WIF_AUTH_GRANT_MAX bytes always
 * suffice for a rule the map accepts; false when out is too small.
 */
#define WIF_AUTH_GRANT_MAX (8 + 4 * 256 + 1 + 4 * 256 + 1)
bool wif_auth_grant_encode(enum wif_authz type, const char *claim,
                           const char *id, size_t id_len, char *out,
                           size_t out_size);

void wif_verdict_clear(struct wif_verdict *v);

#endif
