/* SPDX-License-Identifier: Apache-2.0 */
/* Registered and configured claim checks for one provider. */
#include "claims.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "glob.h"
#include "log.h"

/*
 * Decisions beyond the header's table, each the strict choice:
 *
 *   - iss that is absent or not a string is ISS_MISMATCH, like any other
 *     issuer that is not byte-for-byte the configured one:
 *     there is no normalisation of case, ports or trailing slashes.
 *   - aud that is absent, empty, of another type, or an array holding any
 *     non-string element is AUD_MISMATCH, even if another element
 *     matches: a malformed audience list is not trusted in part.
 *   - exp/nbf/iat numbers outside the NumericDate range (|x| > 2^53,
 *     1e400) are CLAIM_TYPE; they cannot be checked, so they never pass.
 *   - the lifetime exp - iat uses exp rounded up and iat rounded down, so
 *     fractional seconds never let a token slip under max_token_age.
 *   - the user claim rejects C0 controls, DEL and C1 controls (U+0080 to
 *     U+009F): it reaches logs, terminals and PAM_USER-like places.
 *   - group names are opaque bytes: they are compared exactly by the
 *     mapping and sanitised when logged, never split or interpreted.
 *   - a require line or claim rule compares strings, booleans and
 *     numbers by their text; an array matches when one element does, but
 *     an array with any element that has no text (null, object, array) is
 *     CLAIM_TYPE as a whole, like a malformed aud.
 *   - Entra's groups overage (_claim_names names the absent groups claim)
 *     is refused with what to do, rather than read as "no groups": the
 *     identity may well be in the group the rule names.
 */

/* Untrusted values quoted in messages are sanitised and cut to this. */
#define QUOTE_MAX 96

static const char *provider_name(const struct wif_provider *p) {
  return p->name != NULL ? p->name : "(unnamed)";
}

static const char *type_name(enum wif_json_type t) {
  switch (t) {
  case WIF_JSON_NULL:
    return "null";
  case WIF_JSON_FALSE:
  case WIF_JSON_TRUE:
    return "a boolean";
  case WIF_JSON_NUMBER:
    return "a number";
  case WIF_JSON_STRING:
    return "a string";
  case WIF_JSON_ARRAY:
    return "an array";
  case WIF_JSON_OBJECT:
    return "an object";
  }
  return "an unknown type";
}

static int64_t sat_add(int64_t a, int64_t b) {
  if (b > 0 && a > INT64_MAX - b)
    return INT64_MAX;
  if (b < 0 && a < INT64_MIN - b)
    return INT64_MIN;
  return a + b;
}

static int64_t sat_sub(int64_t a, int64_t b) {
  if (b < 0 && a > INT64_MAX + b)
    return INT64_MAX;
  if (b > 0 && a < INT64_MIN + b)
    return INT64_MIN;
  return a - b;
}

/* RFC 3339 UTC for years 1..9999, else the raw seconds, so a person can
 * compare the claim with their clock. */
static void format_time(int64_t t, char *buf, size_t size) {
  struct tm tm;
  time_t tt = (time_t)t;

  if ((int64_t)tt == t && gmtime_r(&tt, &tm) != NULL && tm.tm_year >= -1899 &&
      tm.tm_year <= 8099 && strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) != 0)
    return;
  (void)snprintf(buf, size, "%" PRId64 " (seconds since the epoch)", t);
}

static bool same_bytes(const char *configured, const char *s, size_t len) {
  return configured != NULL && strlen(configured) == len &&
         memcmp(configured, s, len) == 0;
}

/* A plain member name, or an RFC 6901 pointer when it starts with '/'. */
static const struct wif_json *lookup(const struct wif_json_doc *doc,
                                     const struct wif_json *root,
                                     const char *name) {
  if (name[0] == '/')
    return wif_json_pointer(doc, root, name);
  return wif_json_get(doc, root, name);
}

static wif_rc check_iss(const struct wif_json_doc *doc,
                        const struct wif_json *root,
                        const struct wif_provider *p, const char **out_iss,
                        struct wif_error *err) {
  const struct wif_json *v = wif_json_get(doc, root, "iss");
  const char *s;
  size_t len;
  char q[QUOTE_MAX];

  if (v == NULL)
    return wif_error_set(err, WIF_E_ISS_MISMATCH,
                         "token has no iss claim; provider \"%s\" expects "
                         "\"%s\"",
                         provider_name(p), p->issuer ? p->issuer : "");
  if (!wif_json_string(v, &s, &len))
    return wif_error_set(err, WIF_E_ISS_MISMATCH,
                         "iss must be a string, not %s", type_name(v->type));
  if (!same_bytes(p->issuer, s, len)) {
    wif_log_sanitize(s, len, q, sizeof(q));
    return wif_error_set(err, WIF_E_ISS_MISMATCH,
                         "iss \"%s\" is not exactly the issuer \"%s\" of "
                         "provider \"%s\"",
                         q, p->issuer ? p->issuer : "", provider_name(p));
  }
  *out_iss = s;
  return WIF_OK;
}

static bool audience_configured(const struct wif_provider *p, const char *s,
                                size_t len) {
  for (size_t i = 0; i < p->n_audiences; i++)
    if (same_bytes(p->audiences[i], s, len))
      return true;
  return false;
}

static wif_rc check_aud(const struct wif_json_doc *doc,
                        const struct wif_json *root,
                        const struct wif_provider *p, struct wif_error *err) {
  const struct wif_json *v = wif_json_get(doc, root, "aud");
  const struct wif_json *e;
  const char *s, *first = NULL;
  size_t len, first_len = 0, i = 0;
  bool matched = false;
  char q[QUOTE_MAX];

  if (v == NULL)
    return wif_error_set(err, WIF_E_AUD_MISMATCH,
                         "token has no aud claim; provider \"%s\" requires "
                         "one of its configured audiences",
                         provider_name(p));
  if (wif_json_string(v, &s, &len)) {
    if (audience_configured(p, s, len))
      return WIF_OK;
    wif_log_sanitize(s, len, q, sizeof(q));
    return wif_error_set(err, WIF_E_AUD_MISMATCH,
                         "aud \"%s\" does not match any configured audience "
                         "of provider \"%s\"",
                         q, provider_name(p));
  }
  if (v->type != WIF_JSON_ARRAY)
    return wif_error_set(err, WIF_E_AUD_MISMATCH,
                         "aud must be a string or an array of strings, not "
                         "%s",
                         type_name(v->type));
  if (v->count == 0)
    return wif_error_set(err, WIF_E_AUD_MISMATCH,
                         "aud is an empty array; provider \"%s\" requires one "
                         "of its configured audiences",
                         provider_name(p));
  /* Every element is checked before deciding, so one good audience cannot
   * carry a malformed list. */
  for (e = wif_json_first(doc, v); e != NULL; e = wif_json_next(doc, v, e)) {
    if (!wif_json_string(e, &s, &len))
      return wif_error_set(err, WIF_E_AUD_MISMATCH,
                           "aud element %zu must be a string, not %s", i,
                           type_name(e->type));
    if (first == NULL) {
      first = s;
      first_len = len;
    }
    if (audience_configured(p, s, len))
      matched = true;
    i++;
  }
  if (matched)
    return WIF_OK;
  wif_log_sanitize(first, first_len, q, sizeof(q));
  return wif_error_set(err, WIF_E_AUD_MISMATCH,
                       "none of the %zu aud values (first \"%s\") matches a "
                       "configured audience of provider \"%s\"",
                       i, q, provider_name(p));
}

/* Reads a NumericDate claim; *present is false when it is absent. */
static wif_rc read_date(const struct wif_json_doc *doc,
                        const struct wif_json *root, const char *name,
                        bool round_up, int64_t *out, bool *present,
                        struct wif_error *err) {
  const struct wif_json *v = wif_json_get(doc, root, name);
  char q[QUOTE_MAX];

  *present = false;
  if (v == NULL)
    return WIF_OK;
  if (v->type != WIF_JSON_NUMBER)
    return wif_error_set(err, WIF_E_CLAIM_TYPE,
                         "%s must be a number (NumericDate), not %s", name,
                         type_name(v->type));
  if (!wif_json_numeric_date(v, round_up, out)) {
    wif_log_sanitize(v->str, v->len, q, sizeof(q));
    return wif_error_set(err, WIF_E_CLAIM_TYPE,
                         "%s %s is outside the NumericDate range", name, q);
  }
  *present = true;
  return WIF_OK;
}

static wif_rc check_times(const struct wif_json_doc *doc,
                          const struct wif_json *root,
                          const struct wif_provider *p, int64_t skew,
                          int64_t now, struct wif_identity *id,
                          struct wif_error *err) {
  const struct wif_json *v;
  int64_t exp, nbf, iat, exp_up, iat_down;
  bool has_exp, has_nbf, has_iat;
  char when[64];
  wif_rc rc;

  if ((rc = read_date(doc, root, "exp", false, &exp, &has_exp, err)) != WIF_OK)
    return rc;
  /* exp is required: "validate if present" lets a stolen token live
   * for ever. */
  if (!has_exp)
    return wif_error_set(err, WIF_E_CLAIM_MISSING,
                         "token has no exp claim; it is required");
  /* RFC 7519 4.1.4: now must be before exp; the skew extends it. */
  if (exp < 0 || now >= sat_add(exp, skew)) {
    format_time(exp, when, sizeof(when));
    return wif_error_set(err, WIF_E_EXPIRED,
                         "token expired at %s, %" PRId64
                         " s ago (clock_skew %" PRId64 " s)",
                         when, sat_sub(now, exp), skew);
  }
  if ((rc = read_date(doc, root, "nbf", true, &nbf, &has_nbf, err)) != WIF_OK)
    return rc;
  /* RFC 7519 4.1.5: now must be after or equal to nbf. */
  if (has_nbf && nbf > sat_add(now, skew)) {
    format_time(nbf, when, sizeof(when));
    return wif_error_set(err, WIF_E_NOT_YET_VALID,
                         "token not valid before %s, %" PRId64
                         " s from now (clock_skew %" PRId64 " s)",
                         when, sat_sub(nbf, now), skew);
  }
  if ((rc = read_date(doc, root, "iat", true, &iat, &has_iat, err)) != WIF_OK)
    return rc;
  if (has_iat && iat > sat_add(now, skew)) {
    format_time(iat, when, sizeof(when));
    return wif_error_set(err, WIF_E_IAT_INVALID,
                         "token issued in the future at %s, %" PRId64
                         " s from now (clock_skew %" PRId64 " s)",
                         when, sat_sub(iat, now), skew);
  }
  if (p->max_token_age > 0) {
    /* Already parsed, so these cannot fail; fall back to the values in
     * hand rather than trusting an unchecked output. Without iat the
     * lifetime left (exp - now) is what can be bounded. */
    v = wif_json_get(doc, root, "exp");
    if (v == NULL || !wif_json_numeric_date(v, true, &exp_up))
      exp_up = exp;
    iat_down = now;
    if (has_iat) {
      v = wif_json_get(doc, root, "iat");
      if (v == NULL || !wif_json_numeric_date(v, false, &iat_down))
        iat_down = iat;
    }
    if (sat_sub(exp_up, iat_down) > p->max_token_age)
      return wif_error_set(
          err, WIF_E_LIFETIME,
          "token lifetime %s is %" PRId64 " s, more than max_token_age %" PRId64
          " s of provider \"%s\"",
          has_iat ? "exp - iat" : "exp - now (no iat)",
          sat_sub(exp_up, iat_down), p->max_token_age, provider_name(p));
  }
  id->exp = exp;
  id->nbf = has_nbf ? nbf : INT64_MIN;
  id->iat = has_iat ? iat : INT64_MIN;
  return WIF_OK;
}

/* Offset of the first C0, DEL or C1 control, or len when there is none.
 * The parser guarantees valid UTF-8, so C1 is exactly C2 80..C2 9F. */
static size_t find_control(const char *s, size_t len) {
  const unsigned char *u = (const unsigned char *)s;

  for (size_t i = 0; i < len; i++) {
    if (u[i] < 0x20 || u[i] == 0x7f)
      return i;
    if (u[i] == 0xc2 && i + 1 < len && u[i + 1] >= 0x80 && u[i + 1] <= 0x9f)
      return i;
  }
  return len;
}

static wif_rc check_user(const struct wif_json_doc *doc,
                         const struct wif_json *root,
                         const struct wif_provider *p, struct wif_identity *id,
                         struct wif_error *err) {
  const char *name = p->user_claim != NULL ? p->user_claim : "sub";
  const struct wif_json *v = lookup(doc, root, name);
  const char *s;
  size_t len, at;

  if (v == NULL)
    return wif_error_set(err, WIF_E_CLAIM_MISSING,
                         "token has no user claim \"%s\" (user_claim of "
                         "provider \"%s\")",
                         name, provider_name(p));
  if (!wif_json_string(v, &s, &len))
    return wif_error_set(err, WIF_E_SUB_INVALID,
                         "user claim \"%s\" must be a string, not %s", name,
                         type_name(v->type));
  if (len == 0)
    return wif_error_set(err, WIF_E_SUB_INVALID, "user claim \"%s\" is empty",
                         name);
  if (len > WIF_SUBJECT_LEN_MAX)
    return wif_error_set(err, WIF_E_SUB_INVALID,
                         "user claim \"%s\" is %zu bytes, more than %d", name,
                         len, WIF_SUBJECT_LEN_MAX);
  if ((at = find_control(s, len)) != len)
    return wif_error_set(err, WIF_E_SUB_INVALID,
                         "user claim \"%s\" has a control character at byte "
                         "%zu",
                         name, at);
  id->subject = s;
  id->subject_len = len;
  return WIF_OK;
}

/* True when the token says (Entra's `_claim_names`) that claim `name` was
 * left out because it would not fit: the groups overage. */
static bool overage(const struct wif_json_doc *doc, const struct wif_json *root,
                    const char *name) {
  const struct wif_json *names = wif_json_get(doc, root, "_claim_names");

  if (name[0] == '/')
    name++; /* "/groups" names the same top-level claim */
  return names != NULL && names->type == WIF_JSON_OBJECT &&
         wif_json_get(doc, names, name) != NULL;
}

bool wif_claims_overage(const struct wif_json_doc *doc, const char *claim) {
  return doc != NULL && claim != NULL &&
         overage(doc, wif_json_root(doc), claim);
}

static wif_rc overage_error(const char *name, struct wif_error *err) {
  return wif_error_set(err, WIF_E_CLAIM_MISSING,
                       "token has no \"%s\" claim because the identity is in "
                       "too many groups for a token (Entra groups overage, "
                       "_claim_names); pam_wif does not call Graph: use app "
                       "roles (groups_claim = roles) or assign groups to "
                       "the application",
                       name);
}

static wif_rc check_groups(const struct wif_json_doc *doc,
                           const struct wif_json *root,
                           const struct wif_provider *p,
                           struct wif_identity *id, struct wif_error *err) {
  const char *name = p->groups_claim != NULL ? p->groups_claim : "groups";
  const struct wif_json *v = lookup(doc, root, name);
  const struct wif_json *e;
  const char **groups = NULL;
  const char *s;
  size_t len, n = 0;
  wif_rc rc = WIF_E_INTERNAL;

  /* Groups are optional: user authorization never needs them, and group
   * authorization then simply finds no match, unless the token says they
   * were left out (overage). */
  if (v == NULL) {
    if ((p->authz_types & WIF_AUTHZ_BIT(WIF_AUTHZ_GROUP)) != 0 &&
        overage(doc, root, name))
      return overage_error(name, err);
    return WIF_OK;
  }
  if (v->type != WIF_JSON_ARRAY) {
    rc = wif_error_set(err, WIF_E_CLAIM_TYPE,
                       "groups claim \"%s\" must be an array of strings, "
                       "not %s",
                       name, type_name(v->type));
    goto out;
  }
  /* Checked before allocating, so the array size is bounded. */
  if (v->count > WIF_GROUPS_MAX) {
    rc = wif_error_set(err, WIF_E_TOO_LARGE,
                       "groups claim \"%s\" has %" PRIu32
                       " entries, more than %d",
                       name, v->count, WIF_GROUPS_MAX);
    goto out;
  }
  if (v->count == 0) {
    rc = WIF_OK;
    goto out;
  }
  if ((groups = calloc(v->count, sizeof(*groups))) == NULL) {
    rc = wif_error_set(err, WIF_E_NOMEM, "out of memory for %" PRIu32 " groups",
                       v->count);
    goto out;
  }
  for (e = wif_json_first(doc, v); e != NULL && n < v->count;
       e = wif_json_next(doc, v, e), n++) {
    if (!wif_json_string(e, &s, &len)) {
      rc = wif_error_set(err, WIF_E_CLAIM_TYPE,
                         "groups claim \"%s\" element %zu must be a string, "
                         "not %s",
                         name, n, type_name(e->type));
      goto out;
    }
    if (len == 0) {
      rc = wif_error_set(err, WIF_E_CLAIM_TYPE,
                         "groups claim \"%s\" element %zu is empty", name, n);
      goto out;
    }
    if (len > WIF_GROUP_LEN_MAX) {
      rc = wif_error_set(err, WIF_E_TOO_LARGE,
                         "groups claim \"%s\" element %zu is %zu bytes, more "
                         "than %d",
                         name, n, len, WIF_GROUP_LEN_MAX);
      goto out;
    }
    groups[n] = s;
  }
  if (n != v->count) {
    rc = wif_error_set(err, WIF_E_INTERNAL,
                       "groups claim \"%s\": %zu elements, %" PRIu32
                       " announced",
                       name, n, v->count);
    goto out;
  }
  id->groups = groups;
  id->n_groups = n;
  groups = NULL;
  rc = WIF_OK;
out:
  free(groups);
  return rc;
}

/* The text of a string, boolean or number; false for anything else. */
static bool scalar_text(const struct wif_json *v, const char **s, size_t *len) {
  switch (v->type) {
  case WIF_JSON_STRING:
  case WIF_JSON_NUMBER:
    *s = v->str;
    *len = v->len;
    return true;
  case WIF_JSON_TRUE:
    *s = "true";
    *len = 4;
    return true;
  case WIF_JSON_FALSE:
    *s = "false";
    *len = 5;
    return true;
  default:
    return false;
  }
}

static bool text_matches(const char *want, const char *s, size_t len,
                         bool glob) {
  if (glob)
    return wif_glob_match(want, strlen(want), s, len);
  return strlen(want) == len && memcmp(want, s, len) == 0;
}

/* Each space-separated word of s; empty words (double spaces) are none. */
static bool some_word_matches(const char *want, const char *s, size_t len,
                              bool glob) {
  size_t i = 0;

  while (i < len) {
    size_t start;

    while (i < len && s[i] == ' ')
      i++;
    start = i;
    while (i < len && s[i] != ' ')
      i++;
    if (i > start && text_matches(want, s + start, i - start, glob))
      return true;
  }
  return false;
}

static bool is_space_delimited(const struct wif_provider *p,
                               const char *claim) {
  for (size_t i = 0; i < p->n_space_delimited; i++)
    if (p->space_delimited[i] != NULL &&
        strcmp(p->space_delimited[i], claim) == 0)
      return true;
  return false;
}

wif_rc wif_claims_match(const struct wif_json_doc *doc,
                        const struct wif_provider *p, const char *claim,
                        const char *want, bool glob, bool *out_match,
                        struct wif_error *err) {
  const struct wif_json *root, *v, *e;
  const char *s;
  size_t len, i = 0;
  bool hit = false;

  if (out_match != NULL)
    *out_match = false;
  if (doc == NULL || p == NULL || claim == NULL || want == NULL ||
      out_match == NULL)
    return wif_error_set(err, WIF_E_INTERNAL, "wif_claims_match: bad call");
  root = wif_json_root(doc);
  if ((v = lookup(doc, root, claim)) == NULL) {
    if (overage(doc, root, claim))
      return overage_error(claim, err);
    return wif_error_set(err, WIF_E_CLAIM_MISSING, "token has no claim \"%s\"",
                         claim);
  }
  if (scalar_text(v, &s, &len)) {
    if (v->type == WIF_JSON_STRING && is_space_delimited(p, claim))
      *out_match = some_word_matches(want, s, len, glob);
    else
      *out_match = text_matches(want, s, len, glob);
    return WIF_OK;
  }
  if (v->type != WIF_JSON_ARRAY)
    return wif_error_set(err, WIF_E_CLAIM_TYPE,
                         "claim \"%s\" is %s, which cannot be compared", claim,
                         type_name(v->type));
  /* Every element is checked first: a malformed list is not trusted in
   * part (as aud). */
  for (e = wif_json_first(doc, v); e != NULL; e = wif_json_next(doc, v, e)) {
    if (!scalar_text(e, &s, &len))
      return wif_error_set(err, WIF_E_CLAIM_TYPE,
                           "claim \"%s\" element %zu is %s, which cannot be "
                           "compared",
                           claim, i, type_name(e->type));
    if (!hit && text_matches(want, s, len, glob))
      hit = true;
    i++;
  }
  *out_match = hit;
  return WIF_OK;
}

static wif_rc check_requires(const struct wif_json_doc *doc,
                             const struct wif_json *root,
                             const struct wif_provider *p,
                             struct wif_error *err) {
  const struct wif_require *r;
  const struct wif_json *v;
  const char *s;
  size_t len;
  bool match = false;
  char q[QUOTE_MAX];
  wif_rc rc;

  for (size_t i = 0; i < p->n_requires; i++) {
    r = &p->requires[i];
    if (r->claim == NULL || r->pattern == NULL)
      return wif_error_set(err, WIF_E_INTERNAL,
                           "require line %zu of provider \"%s\" is incomplete",
                           i + 1, provider_name(p));
    rc = wif_claims_match(doc, p, r->claim, r->pattern, true, &match, err);
    if (rc == WIF_E_CLAIM_MISSING && !overage(doc, root, r->claim))
      return wif_error_set(err, rc,
                           "token has no claim \"%s\" required by provider "
                           "\"%s\"",
                           r->claim, provider_name(p));
    if (rc == WIF_E_CLAIM_TYPE) {
      char why[WIF_ERROR_MSG_MAX];

      (void)snprintf(why, sizeof(why), "%s", err != NULL ? err->msg : "");
      return wif_error_set(err, rc, "%s (required by provider \"%s\")", why,
                           provider_name(p));
    }
    if (rc != WIF_OK)
      return rc;
    if (!match) {
      v = lookup(doc, root, r->claim);
      if (v != NULL && scalar_text(v, &s, &len))
        wif_log_sanitize(s, len, q, sizeof(q));
      else
        (void)snprintf(q, sizeof(q), "%s", "(an array)");
      return wif_error_set(err, WIF_E_CLAIM_MISMATCH,
                           "claim \"%s\" value \"%s\" does not match \"%s\" "
                           "required by provider \"%s\"",
                           r->claim, q, r->pattern, provider_name(p));
    }
  }
  return WIF_OK;
}

wif_rc wif_claims_check(const struct wif_json_doc *claims,
                        const struct wif_provider *p, int64_t clock_skew,
                        int64_t now, struct wif_identity *out,
                        struct wif_error *err) {
  struct wif_identity id = {0};
  const struct wif_json *root;
  wif_rc rc = WIF_E_INTERNAL;

  wif_error_clear(err);
  if (out != NULL)
    memset(out, 0, sizeof(*out));
  if (claims == NULL || p == NULL || out == NULL || clock_skew < 0) {
    rc = wif_error_set(err, WIF_E_INTERNAL,
                       "wif_claims_check: invalid arguments");
    goto out;
  }
  root = wif_json_root(claims);
  if (root == NULL || root->type != WIF_JSON_OBJECT) {
    rc = wif_error_set(err, WIF_E_MALFORMED,
                       "the claims set is not a JSON object");
    goto out;
  }
  if ((rc = check_iss(claims, root, p, &id.issuer, err)) != WIF_OK)
    goto out;
  if ((rc = check_aud(claims, root, p, err)) != WIF_OK)
    goto out;
  if ((rc = check_times(claims, root, p, clock_skew, now, &id, err)) != WIF_OK)
    goto out;
  if ((rc = check_user(claims, root, p, &id, err)) != WIF_OK)
    goto out;
  if ((rc = check_groups(claims, root, p, &id, err)) != WIF_OK)
    goto out;
  if ((rc = check_requires(claims, root, p, err)) != WIF_OK)
    goto out;
  id.claims = claims;
  *out = id;
  memset(&id, 0, sizeof(id));
  rc = WIF_OK;
out:
  wif_identity_clear(&id);
  return rc;
}

void wif_identity_clear(struct wif_identity *id) {
  if (id == NULL)
    return;
  free(id->groups);
  memset(id, 0, sizeof(*id));
}
