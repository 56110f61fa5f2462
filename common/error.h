/* SPDX-License-Identifier: Apache-2.0 */
/* Result codes of the core, their stable reason names and error details. */
#ifndef WIF_ERROR_H
#define WIF_ERROR_H

#include <stdbool.h>
#include <stddef.h>

/*
 * One append-only list. The reason names (wif_rc_name) are stable: they
 * appear in log lines, in `wifctl --json` output and in tests. Never
 * renumber or rename; add new codes before WIF_RC_COUNT.
 */
typedef enum {
  WIF_OK = 0,
  WIF_E_MALFORMED,         /* token framing, encoding or JSON is invalid */
  WIF_E_TOO_LARGE,         /* an input exceeds a documented limit */
  WIF_E_ALG_NOT_ALLOWED,   /* alg not allowed for this provider or key */
  WIF_E_UNSUPPORTED,       /* JWE, nested JWT, zip */
  WIF_E_UNSUPPORTED_CRIT,  /* crit or b64 header parameters */
  WIF_E_TYP_MISMATCH,      /* typ is not JWT, at+jwt or JOSE */
  WIF_E_KEY_NOT_FOUND,     /* no key for this kid */
  WIF_E_KEY_REJECTED,      /* a JWK breaks key policy */
  WIF_E_JWKS_INVALID,      /* a key set is unusable as a whole */
  WIF_E_JWKS_UNAVAILABLE,  /* keys cannot be obtained */
  WIF_E_BAD_SIGNATURE,     /* the signature does not verify */
  WIF_E_EXPIRED,           /* exp is in the past */
  WIF_E_NOT_YET_VALID,     /* nbf is in the future */
  WIF_E_IAT_INVALID,       /* iat in the future */
  WIF_E_LIFETIME,          /* exp - iat exceeds max_token_age */
  WIF_E_CLAIM_MISSING,     /* a required claim is absent */
  WIF_E_CLAIM_TYPE,        /* a claim has the wrong JSON type */
  WIF_E_ISS_MISMATCH,      /* no provider has this issuer */
  WIF_E_AUD_MISMATCH,      /* no configured audience in aud */
  WIF_E_SUB_INVALID,       /* user claim empty, too long or not a string */
  WIF_E_CLAIM_MISMATCH,    /* a `require` bound claim does not match */
  WIF_E_NO_MAPPING,        /* valid token, but not for this account */
  WIF_E_TOKEN_UNAVAILABLE, /* a token source could not deliver */
  WIF_E_CONFIG_INSECURE,   /* file ownership or mode is unsafe */
  WIF_E_CONFIG_INVALID,    /* configuration syntax or semantics */
  WIF_E_NOMEM,             /* allocation failure */
  WIF_E_SYSTEM,            /* a system call failed */
  WIF_E_INTERNAL,          /* an impossible state */
  WIF_E_UNAVAILABLE,       /* a network service cannot be reached */
  WIF_E_JTI_MISSING,       /* a one_time provider's token has no jti */
  WIF_E_REPLAYED,          /* a one_time token was used before */
  WIF_E_REPLAY_FULL,       /* the replay store holds its maximum */
  WIF_E_REPLAY_CORRUPT,    /* the replay store file does not parse */
  WIF_E_UNBOUND,           /* WIF_* values that pam_wif's auth did not bind */
  WIF_E_TAMPERED,          /* WIF_* values changed since auth bound them */
  WIF_E_UNKNOWN_ACCOUNT,   /* sshd hid the answer: no such account here */
  WIF_RC_COUNT
} wif_rc;

/* How a front end should treat a result code. */
enum wif_rc_class {
  WIF_CLASS_OK,          /* success */
  WIF_CLASS_INVALID,     /* the token is bad or not for this account */
  WIF_CLASS_UNAVAILABLE, /* keys or token cannot be obtained now */
  WIF_CLASS_CONFIG,      /* configuration is invalid or insecure */
  WIF_CLASS_SYSTEM       /* memory or system failure */
};

/* Stable upper-case reason name ("EXPIRED"); "UNKNOWN" for out of range. */
const char *wif_rc_name(wif_rc rc);

/* The code whose reason name is the len bytes at name; false when none
 * is (the fetch helper's answer names its result this way). */
bool wif_rc_from_name(const char *name, size_t len, wif_rc *out);

/* One-line description for people ("the token has expired"). */
const char *wif_rc_describe(wif_rc rc);

enum wif_rc_class wif_rc_classify(wif_rc rc);

/*
 * Details of a failure, filled by functions that take an optional
 * `struct wif_error *err` (NULL means "no details wanted"). The message
 * names what is wrong and where, e.g. `pam_wif.conf:12: unknown key
 * "audiense"`. It never contains a token, a signature or a secret.
 */
#define WIF_ERROR_MSG_MAX 512
struct wif_error {
  wif_rc rc;
  char msg[WIF_ERROR_MSG_MAX];
};

/* Sets err->rc and a formatted message; returns rc so callers can
 * `return wif_error_set(err, WIF_E_X, "...")`. err may be NULL. */
wif_rc wif_error_set(struct wif_error *err, wif_rc rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Clears err (rc = WIF_OK, empty message). err may be NULL. */
void wif_error_clear(struct wif_error *err);

#endif
