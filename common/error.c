/* SPDX-License-Identifier: Apache-2.0 */
/* Result code names and descriptions; error detail formatting. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct rc_info {
  const char *name;
  const char *text;
  enum wif_rc_class cls;
};

static const struct rc_info rc_table[WIF_RC_COUNT] = {
    [WIF_OK] = {"OK", "success", WIF_CLASS_OK},
    [WIF_E_MALFORMED] = {"MALFORMED", "the token is malformed",
                         WIF_CLASS_INVALID},
    [WIF_E_TOO_LARGE] = {"TOO_LARGE", "an input exceeds its size limit",
                         WIF_CLASS_INVALID},
    [WIF_E_ALG_NOT_ALLOWED] = {"ALG_NOT_ALLOWED",
                               "the signature algorithm is not allowed",
                               WIF_CLASS_INVALID},
    [WIF_E_UNSUPPORTED] = {"UNSUPPORTED",
                           "encrypted, nested or compressed tokens are not "
                           "supported",
                           WIF_CLASS_INVALID},
    [WIF_E_UNSUPPORTED_CRIT] = {"UNSUPPORTED_CRIT",
                                "the token has critical header parameters",
                                WIF_CLASS_INVALID},
    [WIF_E_TYP_MISMATCH] = {"TYP_MISMATCH", "the token type is not a JWT",
                            WIF_CLASS_INVALID},
    [WIF_E_KEY_NOT_FOUND] = {"KEY_NOT_FOUND",
                             "no key of the issuer matches the token",
                             WIF_CLASS_INVALID},
    [WIF_E_KEY_REJECTED] = {"KEY_REJECTED", "a key breaks the key policy",
                            WIF_CLASS_INVALID},
    [WIF_E_JWKS_INVALID] = {"JWKS_INVALID", "the key set is unusable",
                            WIF_CLASS_UNAVAILABLE},
    [WIF_E_JWKS_UNAVAILABLE] = {"JWKS_UNAVAILABLE",
                                "the issuer's keys cannot be obtained",
                                WIF_CLASS_UNAVAILABLE},
    [WIF_E_BAD_SIGNATURE] = {"BAD_SIGNATURE", "the signature is not valid",
                             WIF_CLASS_INVALID},
    [WIF_E_EXPIRED] = {"EXPIRED", "the token has expired", WIF_CLASS_INVALID},
    [WIF_E_NOT_YET_VALID] = {"NOT_YET_VALID", "the token is not valid yet",
                             WIF_CLASS_INVALID},
    [WIF_E_IAT_INVALID] = {"IAT_INVALID", "the token is issued in the future",
                           WIF_CLASS_INVALID},
    [WIF_E_LIFETIME] = {"LIFETIME", "the token lives longer than allowed",
                        WIF_CLASS_INVALID},
    [WIF_E_CLAIM_MISSING] = {"CLAIM_MISSING", "a required claim is missing",
                             WIF_CLASS_INVALID},
    [WIF_E_CLAIM_TYPE] = {"CLAIM_TYPE", "a claim has the wrong type",
                          WIF_CLASS_INVALID},
    [WIF_E_ISS_MISMATCH] = {"ISS_MISMATCH", "the issuer is not trusted",
                            WIF_CLASS_INVALID},
    [WIF_E_AUD_MISMATCH] = {"AUD_MISMATCH",
                            "the token is not meant for this host",
                            WIF_CLASS_INVALID},
    [WIF_E_SUB_INVALID] = {"SUB_INVALID", "the user claim is not usable",
                           WIF_CLASS_INVALID},
    [WIF_E_CLAIM_MISMATCH] = {"CLAIM_MISMATCH",
                              "a required claim has the wrong value",
                              WIF_CLASS_INVALID},
    [WIF_E_NO_MAPPING] = {"NO_MAPPING",
                          "the identity is not mapped to this account",
                          WIF_CLASS_INVALID},
    [WIF_E_TOKEN_UNAVAILABLE] = {"TOKEN_UNAVAILABLE",
                                 "no token could be obtained",
                                 WIF_CLASS_UNAVAILABLE},
    [WIF_E_CONFIG_INSECURE] = {"CONFIG_INSECURE",
                               "a file has unsafe ownership or permissions",
                               WIF_CLASS_CONFIG},
    [WIF_E_CONFIG_INVALID] = {"CONFIG_INVALID", "the configuration is invalid",
                              WIF_CLASS_CONFIG},
    [WIF_E_NOMEM] = {"NOMEM", "out of memory", WIF_CLASS_SYSTEM},
    [WIF_E_SYSTEM] = {"SYSTEM", "a system call failed", WIF_CLASS_SYSTEM},
    [WIF_E_INTERNAL] = {"INTERNAL", "internal error", WIF_CLASS_SYSTEM},
    [WIF_E_UNAVAILABLE] = {"UNAVAILABLE", "a network service cannot be reached",
                           WIF_CLASS_UNAVAILABLE},
    [WIF_E_JTI_MISSING] = {"JTI_MISSING",
                           "a one-time token must carry a jti claim",
                           WIF_CLASS_INVALID},
    [WIF_E_REPLAYED] = {"REPLAYED", "the one-time token has been used before",
                        WIF_CLASS_INVALID},
    /* Entries leave as their tokens expire: a full store is a temporary
     * refusal, never an acceptance. */
    [WIF_E_REPLAY_FULL] = {"REPLAY_FULL",
                           "the replay store is full; one-time tokens are "
                           "refused until entries expire",
                           WIF_CLASS_UNAVAILABLE},
    /* The administrator must look: rebuilding it empty would accept
     * replays again. */
    [WIF_E_REPLAY_CORRUPT] = {"REPLAY_CORRUPT",
                              "the replay store is damaged; one-time tokens "
                              "of this provider are refused",
                              WIF_CLASS_CONFIG},
    [WIF_E_UNBOUND] = {"UNBOUND",
                       "the WIF_* environment was not set by pam_wif's auth "
                       "phase",
                       WIF_CLASS_INVALID},
    [WIF_E_TAMPERED] = {"TAMPERED",
                        "the WIF_* environment changed after authentication",
                        WIF_CLASS_INVALID},
    [WIF_E_UNKNOWN_ACCOUNT] = {"UNKNOWN_ACCOUNT",
                               "the account is unknown on this host",
                               WIF_CLASS_INVALID},
};

static const struct rc_info *rc_lookup(wif_rc rc) {
  if ((int)rc < 0 || rc >= WIF_RC_COUNT || rc_table[rc].name == NULL)
    return NULL;
  return &rc_table[rc];
}

const char *wif_rc_name(wif_rc rc) {
  const struct rc_info *info = rc_lookup(rc);
  return info ? info->name : "UNKNOWN";
}

bool wif_rc_from_name(const char *name, size_t len, wif_rc *out) {
  for (int i = 0; i < WIF_RC_COUNT; i++) {
    const char *n = rc_table[i].name;

    if (n != NULL && strlen(n) == len && memcmp(n, name, len) == 0) {
      *out = (wif_rc)i;
      return true;
    }
  }
  return false;
}

const char *wif_rc_describe(wif_rc rc) {
  const struct rc_info *info = rc_lookup(rc);
  return info ? info->text : "unknown error";
}

enum wif_rc_class wif_rc_classify(wif_rc rc) {
  const struct rc_info *info = rc_lookup(rc);
  /* An unknown code is never mistaken for success. */
  return info ? info->cls : WIF_CLASS_SYSTEM;
}

wif_rc wif_error_set(struct wif_error *err, wif_rc rc, const char *fmt, ...) {
  va_list ap;

  if (err == NULL)
    return rc;
  err->rc = rc;
  va_start(ap, fmt);
  (void)vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
  va_end(ap);
  return rc;
}

void wif_error_clear(struct wif_error *err) {
  if (err == NULL)
    return;
  err->rc = WIF_OK;
  err->msg[0] = '\0';
}
