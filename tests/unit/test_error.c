/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for error.c: every result code has a stable reason name, a
 * text for people and a class; names are unique and parse back. */
#include "testutil.h"

#include <string.h>

#include "error.h"

static bool reason_name_chars(const char *s) {
  if (*s == '\0')
    return false;
  for (; *s != '\0'; s++)
    if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
      return false;
  return true;
}

static void test_every_code_named(void **state) {
  (void)state;
  for (int i = 0; i < WIF_RC_COUNT; i++) {
    wif_rc rc = (wif_rc)i;
    const char *name = wif_rc_name(rc);
    const char *text = wif_rc_describe(rc);

    if (strcmp(name, "UNKNOWN") == 0 || !reason_name_chars(name))
      fail_msg("code %d has no usable reason name (\"%s\")", i, name);
    if (strcmp(text, "unknown error") == 0 || strlen(text) < 5)
      fail_msg("code %d (%s) has no description", i, name);
    /* Descriptions are sentences for people, not reason names. */
    if (strcmp(text, name) == 0)
      fail_msg("code %d (%s): the description repeats the name", i, name);
  }
}

static void test_every_code_classified(void **state) {
  (void)state;
  for (int i = 0; i < WIF_RC_COUNT; i++) {
    enum wif_rc_class c = wif_rc_classify((wif_rc)i);

    if (i == WIF_OK) {
      assert_int_equal(c, WIF_CLASS_OK);
      continue;
    }
    /* Only success is success. */
    if (c == WIF_CLASS_OK)
      fail_msg("%s is classified as success", wif_rc_name((wif_rc)i));
    if (c != WIF_CLASS_INVALID && c != WIF_CLASS_UNAVAILABLE &&
        c != WIF_CLASS_CONFIG && c != WIF_CLASS_SYSTEM)
      fail_msg("%s has no known class (%d)", wif_rc_name((wif_rc)i), (int)c);
  }
  /* A few that front ends depend on. */
  assert_int_equal(wif_rc_classify(WIF_E_EXPIRED), WIF_CLASS_INVALID);
  assert_int_equal(wif_rc_classify(WIF_E_BAD_SIGNATURE), WIF_CLASS_INVALID);
  assert_int_equal(wif_rc_classify(WIF_E_JWKS_UNAVAILABLE),
                   WIF_CLASS_UNAVAILABLE);
  assert_int_equal(wif_rc_classify(WIF_E_TOKEN_UNAVAILABLE),
                   WIF_CLASS_UNAVAILABLE);
  assert_int_equal(wif_rc_classify(WIF_E_CONFIG_INSECURE), WIF_CLASS_CONFIG);
  assert_int_equal(wif_rc_classify(WIF_E_CONFIG_INVALID), WIF_CLASS_CONFIG);
  assert_int_equal(wif_rc_classify(WIF_E_NOMEM), WIF_CLASS_SYSTEM);
  assert_int_equal(wif_rc_classify(WIF_E_INTERNAL), WIF_CLASS_SYSTEM);
}

static void test_names_unique(void **state) {
  (void)state;
  for (int i = 0; i < WIF_RC_COUNT; i++)
    for (int j = i + 1; j < WIF_RC_COUNT; j++)
      if (strcmp(wif_rc_name((wif_rc)i), wif_rc_name((wif_rc)j)) == 0)
        fail_msg("codes %d and %d share the name %s", i, j,
                 wif_rc_name((wif_rc)i));
}

/* The names are part of the log and --json format: spot-check that none
 * was renamed or renumbered. */
static void test_names_stable(void **state) {
  (void)state;
  assert_string_equal(wif_rc_name(WIF_OK), "OK");
  assert_string_equal(wif_rc_name(WIF_E_MALFORMED), "MALFORMED");
  assert_string_equal(wif_rc_name(WIF_E_EXPIRED), "EXPIRED");
  assert_string_equal(wif_rc_name(WIF_E_AUD_MISMATCH), "AUD_MISMATCH");
  assert_string_equal(wif_rc_name(WIF_E_NO_MAPPING), "NO_MAPPING");
  assert_string_equal(wif_rc_name(WIF_E_UNKNOWN_ACCOUNT), "UNKNOWN_ACCOUNT");
  assert_int_equal(WIF_OK, 0);
  assert_int_equal(WIF_E_MALFORMED, 1);
  assert_int_equal(WIF_E_EXPIRED, 12);
}

static void test_from_name_round_trip(void **state) {
  (void)state;
  for (int i = 0; i < WIF_RC_COUNT; i++) {
    const char *name = wif_rc_name((wif_rc)i);
    wif_rc got = WIF_RC_COUNT;

    assert_true(wif_rc_from_name(name, strlen(name), &got));
    assert_int_equal(got, i);
  }
}

static void test_from_name_rejects(void **state) {
  wif_rc got = WIF_E_INTERNAL;

  (void)state;
  assert_false(wif_rc_from_name("", 0, &got));
  assert_false(wif_rc_from_name("UNKNOWN", 7, &got));
  assert_false(wif_rc_from_name("expired", 7, &got)); /* case matters */
  assert_false(wif_rc_from_name("EXPIRE", 6, &got));
  assert_false(wif_rc_from_name("EXPIRED ", 8, &got));
  assert_false(wif_rc_from_name("EXPIRED\0X", 9, &got));
  assert_int_equal(got, WIF_E_INTERNAL); /* untouched on failure */
  /* The length decides, not a NUL: a name inside a longer answer. */
  assert_true(wif_rc_from_name("EXPIRED reason", 7, &got));
  assert_int_equal(got, WIF_E_EXPIRED);
}

static void test_out_of_range(void **state) {
  (void)state;
  assert_string_equal(wif_rc_name(WIF_RC_COUNT), "UNKNOWN");
  assert_string_equal(wif_rc_name((wif_rc)-1), "UNKNOWN");
  assert_string_equal(wif_rc_describe(WIF_RC_COUNT), "unknown error");
  assert_string_equal(wif_rc_describe((wif_rc)1000), "unknown error");
  /* Never mistaken for success. */
  assert_int_equal(wif_rc_classify(WIF_RC_COUNT), WIF_CLASS_SYSTEM);
  assert_int_equal(wif_rc_classify((wif_rc)-1), WIF_CLASS_SYSTEM);
}

static void test_error_set(void **state) {
  struct wif_error err;
  char long_value[2 * WIF_ERROR_MSG_MAX];

  (void)state;
  assert_int_equal(wif_error_set(&err, WIF_E_CONFIG_INVALID,
                                 "%s:%d: unknown key \"%s\"", "pam_wif.conf",
                                 12, "audiense"),
                   WIF_E_CONFIG_INVALID);
  assert_int_equal(err.rc, WIF_E_CONFIG_INVALID);
  assert_string_equal(err.msg, "pam_wif.conf:12: unknown key \"audiense\"");
  /* No details wanted: the code still comes back. */
  assert_int_equal(wif_error_set(NULL, WIF_E_EXPIRED, "x"), WIF_E_EXPIRED);
  /* A long message is cut, never overflowed. */
  memset(long_value, 'v', sizeof(long_value) - 1);
  long_value[sizeof(long_value) - 1] = '\0';
  wif_error_set(&err, WIF_E_TOO_LARGE, "value %s", long_value);
  assert_int_equal(strlen(err.msg), WIF_ERROR_MSG_MAX - 1);
  assert_memory_equal(err.msg, "value vvv", 9);
  wif_error_clear(&err);
  assert_int_equal(err.rc, WIF_OK);
  assert_string_equal(err.msg, "");
  wif_error_clear(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_code_named),
      cmocka_unit_test(test_every_code_classified),
      cmocka_unit_test(test_names_unique),
      cmocka_unit_test(test_names_stable),
      cmocka_unit_test(test_from_name_round_trip),
      cmocka_unit_test(test_from_name_rejects),
      cmocka_unit_test(test_out_of_range),
      cmocka_unit_test(test_error_set),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
