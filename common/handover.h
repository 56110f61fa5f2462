/* SPDX-License-Identifier: Apache-2.0 */
/* The hand-over from the auth phase to the account and session phases:
 * the WIF_* PAM environment, its binding, and its parser. */
#ifndef WIF_HANDOVER_H
#define WIF_HANDOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "error.h"

/*
 * sshd runs auth in one process and account in another, so what auth
 * decided travels in the PAM environment, which other modules (pam_env
 * with user_readenv) let a user write. The values are therefore bound:
 * WIF_BINDING = NONCE:TAG, TAG = HMAC-SHA256 under a host key over a label,
 * the service, PAM_USER, the nonce and every other WIF_* value (absent
 * ones included as absent). Where auth and account share a process the
 * module also keeps the exact hand-over as PAM data (a record), which
 * the environment must then equal.
 */
enum wif_handover_var {
  WIF_HO_PROVIDER, /* the [provider] section */
  WIF_HO_SUBJECT,  /* the user claim, encoded (wif_handover_encode) */
  WIF_HO_ISSUER,
  WIF_HO_EXPIRES, /* exp, decimal seconds */
  WIF_HO_GRANT,   /* wif_handover_grant_encode's form */
  WIF_HO_BINDING, /* "NONCE:TAG", lower-case hex */
  WIF_HO_COUNT
};

/* "WIF_PROVIDER", ... "WIF_BINDING", in enum order. */
extern const char *const wif_handover_names[WIF_HO_COUNT];

#define WIF_HANDOVER_KEY_LEN 32   /* bytes of the binding key */
#define WIF_HANDOVER_NONCE_LEN 16 /* bytes of a nonce */
/* The key's directory when the module runs as root; a service user's is
 * its cache_dir (wif_handover_key_dir). */
#define WIF_HANDOVER_RUN_DIR "/run/pam_wif"
#define WIF_HANDOVER_KEY_FILE "binding.key"
/* Longest value accepted back (a config line is at most 4096 bytes; an
 * encoded identifier at most 4 * 256). */
#define WIF_HANDOVER_VALUE_MAX 8192

/* What auth decided, raw (all borrowed). */
struct wif_handover_facts {
  const char *provider;
  const char *subject; /* raw bytes */
  size_t subject_len;
  const char *issuer;
  int64_t exp;
  enum wif_authz type;
  const char *claim;      /* a claim: rule's claim name, else NULL */
  const char *identifier; /* raw bytes of the map rule's identifier */
  size_t identifier_len;
};

/* A hand-over: what auth puts into the environment, bound to an account
 * and a service. Owns every string; wif_handover_clear frees them. */
struct wif_handover {
  char *env[WIF_HO_COUNT]; /* "NAME=value"; NULL when not set */
  char *account;
  char *service;
};

/* The grant a hand-over carries, parsed. Borrows from the values. */
struct wif_handover_grant {
  const char *provider;
  const char *issuer;
  int64_t exp;
  enum wif_authz type;
  const char *grant; /* the whole WIF_GRANT value */
};

/* What the account phase found. All borrowed. */
struct wif_handover_input {
  const char *values[WIF_HO_COUNT];  /* the PAM environment; NULL: unset */
  const struct wif_handover *record; /* kept by auth in this process */
  const char *service;               /* PAM_SERVICE */
};

/*
 * The encoding of WIF_SUBJECT and WIF_GRANT identifiers: printable ASCII
 * except `\` as is, every other byte as \xHH. It is one-to-one, so
 * encoded values compare exactly when the raw bytes do. out_size of
 * 4 * len + 1 always suffices; returns false when out is too small.
 */
bool wif_handover_encode(const char *s, size_t len, char *out, size_t out_size);

/*
 * WIF_GRANT: "user:ID", "group:ID" or "claim:NAME:ID", ID and NAME in the
 * wif_handover_encode form, NAME with ':' also as \x3a so that the last
 * unescaped ':' ends it. One-to-one, so a rule's encoded grant compares
 * exactly with what auth handed over. WIF_HANDOVER_GRANT_MAX bytes always
 * suffice for a rule the map accepts; false when out is too small.
 */
#define WIF_HANDOVER_GRANT_MAX (8 + 4 * 256 + 1 + 4 * 256 + 1)
bool wif_handover_grant_encode(enum wif_authz type, const char *claim,
                               const char *id, size_t id_len, char *out,
                               size_t out_size);

/* The key directory: WIF_HANDOVER_RUN_DIR for owner 0, else cache_dir. */
const char *wif_handover_key_dir(uid_t owner, const char *cache_dir);

/*
 * The binding key (WIF_HANDOVER_KEY_LEN bytes into key). dir must be a
 * directory owned by owner, mode 0700 (else WIF_E_CONFIG_INSECURE); with
 * create, a missing dir is made (0700, whatever the umask) and a missing
 * key is written to a temporary file (O_EXCL, 0600) and linked into place,
 * so concurrent first logins agree: whoever loses reads the winner's key.
 * The key is read with the trusted-file checks (file.h) and must be
 * WIF_HANDOVER_KEY_LEN bytes, owned by owner, mode 0600. Without create,
 * a missing key is WIF_E_TAMPERED (nothing was ever bound on this host).
 */
wif_rc wif_handover_key(const char *dir, uid_t owner, bool create,
                        unsigned char key[WIF_HANDOVER_KEY_LEN],
                        struct wif_error *err);

/*
 * Makes the hand-over for f, bound to account and service under key (a
 * fresh nonce each call); with key NULL, without WIF_BINDING (it then
 * holds only as a record in this process). *out is cleared first and filled
 * only on WIF_OK (WIF_E_NOMEM, WIF_E_SYSTEM when no random bytes,
 * WIF_E_INTERNAL when a value cannot be encoded).
 */
wif_rc wif_handover_make(const struct wif_handover_facts *f,
                         const char *account, const char *service,
                         const unsigned char key[WIF_HANDOVER_KEY_LEN],
                         struct wif_handover *out, struct wif_error *err);

/* A record of values (copied) for account and service, as the account
 * phase keeps once it verified them. */
wif_rc wif_handover_record(const char *const values[WIF_HO_COUNT],
                           const char *account, const char *service,
                           struct wif_handover *out);

/* The value part of h's variable v, or NULL. */
const char *wif_handover_value(const struct wif_handover *h,
                               enum wif_handover_var v);

/* Forgets the binding (once the account phase removed WIF_BINDING from
 * the environment, so that the record and the environment still agree). */
void wif_handover_drop_binding(struct wif_handover *h);

/* Whether any WIF_* variable is set. */
bool wif_handover_present(const char *const values[WIF_HO_COUNT]);

/*
 * Whether in->values were handed over by auth for account and service:
 * with a record, they (WIF_BINDING included) and account and service must
 * equal it; without one, WIF_BINDING must be present (else WIF_E_UNBOUND)
 * and its tag match under the key in key_dir (else WIF_E_TAMPERED; key
 * errors as wif_handover_key without create).
 */
wif_rc wif_handover_verify(const struct wif_handover_input *in,
                           const char *account, const char *key_dir,
                           uid_t owner, struct wif_error *err);

/* Parses the grant out of values (WIF_E_MALFORMED when incomplete or
 * invalid). *out borrows from values. */
wif_rc wif_handover_parse(const char *const values[WIF_HO_COUNT],
                          struct wif_handover_grant *out,
                          struct wif_error *err);

/* Wipes and frees; h can be filled again. NULL does nothing. */
void wif_handover_clear(struct wif_handover *h);

#endif
