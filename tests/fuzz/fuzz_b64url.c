/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes strict base64url decoding and the encode/decode round trip. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "b64url.h"

/*
 * Decoding is canonical: whatever decodes must encode back to exactly the
 * input (no padding, no spare bits, no foreign characters survive). And
 * any bytes encode to text that decodes back to them.
 */

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  return 0;
}

static void decode_then_encode(const uint8_t *data, size_t size) {
  size_t cap = WIF_B64URL_DECODED_MAX(size), n = 7;
  unsigned char *dec = malloc(cap);
  char *enc;

  if (dec == NULL)
    return;
  if (!wif_b64url_decode((const char *)data, size, dec, cap, &n)) {
    if (n != 0)
      fuzz_fail("failed decode left a length");
    free(dec);
    return;
  }
  enc = malloc(WIF_B64URL_ENCODED_LEN(n) + 1);
  if (enc != NULL) {
    if (wif_b64url_encode(dec, n, enc) != size || memcmp(enc, data, size) != 0)
      fuzz_fail("decoded input does not encode back to itself");
    free(enc);
  }
  free(dec);
}

static void encode_then_decode(const uint8_t *data, size_t size) {
  size_t len = WIF_B64URL_ENCODED_LEN(size), n;
  char *enc = malloc(len + 1);
  unsigned char *dec = malloc(WIF_B64URL_DECODED_MAX(len));

  if (enc != NULL && dec != NULL) {
    if (wif_b64url_encode(data, size, enc) != len || enc[len] != '\0')
      fuzz_fail("encoded length differs from WIF_B64URL_ENCODED_LEN");
    if (!wif_b64url_decode(enc, len, dec, WIF_B64URL_DECODED_MAX(len), &n) ||
        n != size || memcmp(dec, data, size) != 0)
      fuzz_fail("encoded bytes do not decode back");
    /* A buffer one byte short must be refused, never overrun. */
    if (size > 0 && wif_b64url_decode(enc, len, dec, size - 1, &n))
      fuzz_fail("decode overran a short buffer");
  }
  free(enc);
  free(dec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  decode_then_encode(data, size);
  encode_then_decode(data, size);
  return 0;
}
