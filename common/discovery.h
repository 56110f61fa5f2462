/* SPDX-License-Identifier: Apache-2.0 */
/* OpenID Connect discovery: where an issuer publishes its keys. */
#ifndef WIF_DISCOVERY_H
#define WIF_DISCOVERY_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define WIF_DISCOVERY_PATH "/.well-known/openid-configuration"
#define WIF_URL_MAX 2048

/*
 * The discovery URL of issuer: issuer + WIF_DISCOVERY_PATH, with one
 * trailing slash of the issuer dropped so that no "//" appears (OIDC
 * Discovery 1.0 section 4). *out is new (free); WIF_E_CONFIG_INVALID when
 * issuer is not an https:// URL or the result passes WIF_URL_MAX.
 */
wif_rc wif_discovery_url(const char *issuer, char **out, struct wif_error *err);

/*
 * Checks a discovery document (len bytes of untrusted JSON): a JSON
 * object whose "issuer" is a string equal byte for byte to issuer
 * and whose "jwks_uri" is an https:// URL of at most WIF_URL_MAX bytes
 * without whitespace or control characters. Any failure gives
 * WIF_E_JWKS_INVALID with the reason in err. *out_jwks_uri is new (free)
 * on success, NULL otherwise.
 */
wif_rc wif_discovery_parse(const char *text, size_t len, const char *issuer,
                           char **out_jwks_uri, struct wif_error *err);

/* True when s is an https:// URL with a host and no whitespace or
 * control characters (the same rule as the configuration's URLs). */
bool wif_discovery_https_url(const char *s, size_t len);

#endif
