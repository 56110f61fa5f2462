/* SPDX-License-Identifier: Apache-2.0 */
/* Registered and configured claim checks for one provider. */
#ifndef WIF_CLAIMS_H
#define WIF_CLAIMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "error.h"
#include "json.h"

#define WIF_GROUPS_MAX 512      /* entries in the groups claim */
#define WIF_GROUP_LEN_MAX 256   /* bytes of one group */
#define WIF_SUBJECT_LEN_MAX 256 /* bytes of the user claim */

/*
 * What a validated token says about its bearer. Strings are borrowed from
 * the claims document passed to wif_claims_check and live as long as it;
 * the groups array itself is owned (free with wif_identity_clear).
 */
struct wif_identity {
  const struct wif_json_doc *claims; /* the whole claims set (claim rules) */
  const char *issuer;
  const char *subject; /* the provider's user claim */
  size_t subject_len;
  const char **groups; /* NULL when the claim is absent */
  size_t n_groups;
  int64_t exp;
  int64_t iat; /* INT64_MIN when absent */
  int64_t nbf; /* INT64_MIN when absent */
};

/*
 * Checks claims (the JSON object of a token whose signature has been
 * verified) against provider p at time now (seconds since the epoch),
 * allowing clock_skew seconds:
 *
 *   iss     string, exactly p->issuer             ISS_MISMATCH
 *   aud     string or array of strings; one of
 *           them equals one of p->audiences       AUD_MISMATCH
 *   exp     required NumericDate; now < exp + skew EXPIRED
 *   nbf     optional; nbf <= now + skew            NOT_YET_VALID
 *   iat     optional; iat <= now + skew            IAT_INVALID
 *   exp - iat (exp - now without iat) <= max_token_age unless 0
 *                                                  LIFETIME
 *   user claim: non-empty string, no longer than WIF_SUBJECT_LEN_MAX
 *                                                  SUB_INVALID
 *   groups claim: absent, or an array of at most WIF_GROUPS_MAX non-empty
 *           strings of at most WIF_GROUP_LEN_MAX bytes  CLAIM_TYPE/TOO_LARGE
 *   require lines: the claim matches the glob (wif_claims_match)
 *                                                  CLAIM_MISMATCH
 *   groups claim absent while _claim_names names it (Entra's groups
 *           overage) and the provider authorizes by group CLAIM_MISSING
 *
 * An iss or aud that is missing or of the wrong type is a mismatch like any
 * other (ISS_MISMATCH, AUD_MISMATCH); a missing exp or user claim is
 * CLAIM_MISSING; other wrong JSON types CLAIM_TYPE. Arithmetic saturates, so
 * exp = INT64_MAX cannot wrap. *out is cleared first and filled only on WIF_OK.
 */
wif_rc wif_claims_check(const struct wif_json_doc *claims,
                        const struct wif_provider *p, int64_t clock_skew,
                        int64_t now, struct wif_identity *out,
                        struct wif_error *err);

/*
 * Compares the claim `claim` (a name or JSON pointer) of doc with `want`,
 * as `require` lines (glob true: want is a glob, glob.h) and claim map
 * rules (glob false: byte for byte) do:
 *
 *   string    the string; when p lists the claim in space_delimited, each
 *             of its space-separated words (one matching word suffices)
 *   boolean   "true" or "false"
 *   number    its JSON text as written in the token ("1e3" is not "1000")
 *   array     of strings, booleans and numbers: when any element matches
 *             (elements are not split into words)
 *
 * WIF_OK with *out_match set; WIF_E_CLAIM_MISSING when the claim is absent
 * (the message says so and, for Entra's overage, what to do instead);
 * WIF_E_CLAIM_TYPE for null, an object, or an array holding null, an
 * object or an array: such a value is never a match. Messages name the
 * claim; who asked (require, map rule) is the caller's to add.
 */
wif_rc wif_claims_match(const struct wif_json_doc *doc,
                        const struct wif_provider *p, const char *claim,
                        const char *want, bool glob, bool *out_match,
                        struct wif_error *err);

/* True when doc's `_claim_names` names `claim` (a name, or a pointer to a
 * top-level claim): Entra left it out as too large (groups overage). */
bool wif_claims_overage(const struct wif_json_doc *doc, const char *claim);

/* Frees what the identity owns and zeroes it; NULL does nothing. */
void wif_identity_clear(struct wif_identity *id);

#endif
