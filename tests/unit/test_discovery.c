/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of discovery.c: the URL and the document checks (J1, J17). */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "discovery.h"

#define ISS "https://login.example.test/tenant/v2.0"

static void url_is(const char *issuer, const char *want) {
  char *url = NULL;
  struct wif_error err;

  assert_int_equal(wif_discovery_url(issuer, &url, &err), WIF_OK);
  assert_string_equal(url, want);
  free(url);
}

static void test_url(void **state) {
  char *url = (char *)1;
  char long_iss[WIF_URL_MAX + 16];
  struct wif_error err;

  (void)state;
  url_is(ISS, ISS "/.well-known/openid-configuration");
  /* A trailing slash gives no double slash. */
  url_is("https://accounts.example.test/",
         "https://accounts.example.test/.well-known/openid-configuration");
  url_is("https://localhost:8443",
         "https://localhost:8443/.well-known/openid-configuration");
  /* J1: only https issuers are ever fetched. */
  assert_int_equal(wif_discovery_url("http://login.example.test", &url, &err),
                   WIF_E_CONFIG_INVALID);
  assert_null(url);
  assert_int_equal(wif_discovery_url("file:///etc/x", &url, &err),
                   WIF_E_CONFIG_INVALID);
  assert_int_equal(wif_discovery_url("https://", &url, &err),
                   WIF_E_CONFIG_INVALID);
  assert_int_equal(wif_discovery_url("https://a b", &url, &err),
                   WIF_E_CONFIG_INVALID);
  memset(long_iss, 'a', sizeof(long_iss) - 1);
  memcpy(long_iss, "https://", 8);
  long_iss[sizeof(long_iss) - 1] = '\0';
  assert_int_equal(wif_discovery_url(long_iss, &url, &err),
                   WIF_E_CONFIG_INVALID);
  assert_int_equal(wif_discovery_url(NULL, &url, &err), WIF_E_INTERNAL);
}

static wif_rc parse(const char *doc, char **uri, struct wif_error *err) {
  return wif_discovery_parse(doc, strlen(doc), ISS, uri, err);
}

static void test_parse_ok(void **state) {
  char *uri = NULL;
  struct wif_error err;

  (void)state;
  assert_int_equal(
      parse("{\"issuer\":\"" ISS "\",\"jwks_uri\":"
            "\"https://keys.example.test/discovery/v2.0/keys\","
            "\"mtls_endpoint_aliases\":{\"token_endpoint\":\"https://x\"}}",
            &uri, &err),
      WIF_OK);
  /* jwks_uri on another host is normal (Google, Entra). */
  assert_string_equal(uri, "https://keys.example.test/discovery/v2.0/keys");
  free(uri);
}

static void bad(const char *doc, const char *why) {
  char *uri = (char *)1;
  struct wif_error err;

  assert_int_equal(parse(doc, &uri, &err), WIF_E_JWKS_INVALID);
  assert_null(uri);
  if (strstr(err.msg, why) == NULL)
    fail_msg("\"%s\" not in \"%s\"", why, err.msg);
}

static void test_parse_bad(void **state) {
  (void)state;
  /* J17: the issuer must be exactly the configured one. */
  bad("{\"issuer\":\"" ISS "/\",\"jwks_uri\":\"https://k/\"}",
      "not the configured one");
  bad("{\"issuer\":\"https://LOGIN.example.test/tenant/v2.0\","
      "\"jwks_uri\":\"https://k/\"}",
      "not the configured one");
  bad("{\"issuer\":\"https://evil.test\\n\",\"jwks_uri\":\"https://k/\"}",
      "evil.test\\x0a");
  bad("{\"jwks_uri\":\"https://k/\"}", "no issuer");
  bad("{\"issuer\":1,\"jwks_uri\":\"https://k/\"}", "no issuer");
  /* J1: the key set must come over https. */
  bad("{\"issuer\":\"" ISS "\",\"jwks_uri\":\"http://k/keys\"}",
      "not an https:// URL");
  bad("{\"issuer\":\"" ISS "\",\"jwks_uri\":\"file:///etc/shadow\"}",
      "not an https:// URL");
  bad("{\"issuer\":\"" ISS "\",\"jwks_uri\":\"https://k/a b\"}",
      "not an https:// URL");
  bad("{\"issuer\":\"" ISS "\",\"jwks_uri\":\"HTTPS://k/\"}",
      "not an https:// URL");
  bad("{\"issuer\":\"" ISS "\"}", "no jwks_uri");
  bad("{\"issuer\":\"" ISS "\",\"jwks_uri\":[\"https://k/\"]}", "no jwks_uri");
  /* J8: not JSON, or not an object; duplicates are refused too. */
  bad("<html>sign in</html>", "not valid JSON");
  bad("", "not valid JSON");
  bad("[1]", "not a JSON object");
  bad("{\"issuer\":\"" ISS "\",\"issuer\":\"" ISS
      "\",\"jwks_uri\":\"https://k/\"}",
      "not valid JSON");
}

static void test_https_url(void **state) {
  (void)state;
  assert_true(wif_discovery_https_url("https://a", 9));
  assert_false(wif_discovery_https_url("https://", 8));
  assert_false(wif_discovery_https_url("https:///x", 10));
  assert_false(wif_discovery_https_url("https://a\x7f", 10));
  assert_false(wif_discovery_https_url(NULL, 0));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_url),
      cmocka_unit_test(test_parse_ok),
      cmocka_unit_test(test_parse_bad),
      cmocka_unit_test(test_https_url),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
