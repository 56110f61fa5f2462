/* SPDX-License-Identifier: Apache-2.0 */
/* Strict base64url: round trips, alphabet, padding, canonical bits. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "b64url.h"

static bool decode(const char *in, unsigned char *out, size_t *out_len) {
  return wif_b64url_decode(in, strlen(in), out, 64, out_len);
}

static void test_rfc4648_vectors(void **state) {
  static const struct {
    const char *plain, *enc;
  } v[] = {{"", ""},         {"f", "Zg"},         {"fo", "Zm8"},
           {"foo", "Zm9v"},  {"foob", "Zm9vYg"},  {"fooba", "Zm9vYmE"},
           {"foobar", "Zm9vYmFy"}};
  (void)state;
  for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
    unsigned char out[64];
    char enc[64];
    size_t n;

    assert_true(decode(v[i].enc, out, &n));
    assert_int_equal(n, strlen(v[i].plain));
    assert_memory_equal(out, v[i].plain, n);
    assert_int_equal(wif_b64url_encode((const unsigned char *)v[i].plain,
                                       strlen(v[i].plain), enc),
                     strlen(v[i].enc));
    assert_string_equal(enc, v[i].enc);
  }
}

static void test_url_alphabet(void **state) {
  unsigned char out[8];
  size_t n;
  (void)state;
  assert_true(decode("-_8", out, &n));
  assert_int_equal(n, 2);
  assert_int_equal(out[0], 0xfb);
  assert_int_equal(out[1], 0xff);
}

/* A4: anything outside the alphabet, including the standard alphabet's
 * '+' and '/' and every kind of whitespace. */
static void test_a4_rejects_foreign_characters(void **state) {
  static const char *bad[] = {"Zm9v Yg", "Zm9v\tYg", "Zm9v\nYg", "Zm9v\rYg",
                              "Zm+v",    "Zm/v",     "Zm9v?g",   "Zm9v#g",
                              "Zm9v{g",  "Zm9v\"g",  " Zm9v",    "Zm9v "};
  (void)state;
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    unsigned char out[64];
    size_t n = 99;
    assert_false(decode(bad[i], out, &n));
    assert_int_equal(n, 0);
  }
}

/* A5: padding and non-zero unused bits have no place in JWS. */
static void test_a5_rejects_padding_and_noncanonical_bits(void **state) {
  static const char *bad[] = {"Zg==", "Zm8=", "Zh", "Zm9", "AB", "AAB", "Z"};
  unsigned char out[64];
  size_t n;
  (void)state;
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    assert_false(decode(bad[i], out, &n));
  assert_true(decode("AA", out, &n));
  assert_true(decode("AAA", out, &n));
}

static void test_every_byte_round_trips(void **state) {
  unsigned char in[256], out[256];
  char enc[WIF_B64URL_ENCODED_LEN(256) + 1];
  (void)state;
  for (int i = 0; i < 256; i++)
    in[i] = (unsigned char)i;
  for (size_t len = 0; len <= 256; len++) {
    size_t n, e = wif_b64url_encode(in, len, enc);
    assert_int_equal(e, WIF_B64URL_ENCODED_LEN(len));
    assert_true(wif_b64url_decode(enc, e, out, sizeof(out), &n));
    assert_int_equal(n, len);
    assert_memory_equal(in, out, len);
  }
}

static void test_output_capacity_checked(void **state) {
  unsigned char out[2];
  size_t n;
  (void)state;
  assert_false(wif_b64url_decode("Zm9v", 4, out, sizeof(out), &n));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rfc4648_vectors),
      cmocka_unit_test(test_url_alphabet),
      cmocka_unit_test(test_a4_rejects_foreign_characters),
      cmocka_unit_test(test_a5_rejects_padding_and_noncanonical_bits),
      cmocka_unit_test(test_every_byte_round_trips),
      cmocka_unit_test(test_output_capacity_checked),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
