/* SPDX-License-Identifier: Apache-2.0 */
/* Strict base64url: table driven, no padding, canonical trailing bits. */
#include "b64url.h"

#include <stdint.h>

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* 0..63 for the alphabet, 0xff for everything else (including '=' and
 * whitespace, which strict base64url never contains). */
/* clang-format off */
static const uint8_t decode_table[256] = {
#define X 0xff
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  62, X,  X,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, X,  X,  X,  X,  X,  X,
    X,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, X,  X,  X,  X,  63,
    X,  26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
#undef X
};
/* clang-format on */

bool wif_b64url_decode(const char *in, size_t len, unsigned char *out,
                       size_t out_size, size_t *out_len) {
  const unsigned char *s = (const unsigned char *)in;
  size_t full = len / 4, rest = len % 4, o = 0;
  uint32_t acc;
  uint8_t c0, c1, c2, c3;

  *out_len = 0;
  /* One leftover character cannot encode a whole byte. */
  if (rest == 1 || out_size < full * 3 + (rest ? rest - 1 : 0))
    return false;
  for (size_t i = 0; i < full; i++, s += 4) {
    c0 = decode_table[s[0]];
    c1 = decode_table[s[1]];
    c2 = decode_table[s[2]];
    c3 = decode_table[s[3]];
    if ((c0 | c1 | c2 | c3) & 0xc0)
      return false;
    acc = (uint32_t)c0 << 18 | (uint32_t)c1 << 12 | (uint32_t)c2 << 6 | c3;
    out[o++] = (unsigned char)(acc >> 16);
    out[o++] = (unsigned char)(acc >> 8);
    out[o++] = (unsigned char)acc;
  }
  if (rest >= 2) {
    c0 = decode_table[s[0]];
    c1 = decode_table[s[1]];
    c2 = rest == 3 ? decode_table[s[2]] : 0;
    if ((c0 | c1 | c2) & 0xc0)
      return false;
    /* Unused low bits must be zero, so each byte string has exactly one
     * encoding (Wycheproof ModifiedUnusedBits). */
    if (rest == 2 && (c1 & 0x0f) != 0)
      return false;
    if (rest == 3 && (c2 & 0x03) != 0)
      return false;
    acc = (uint32_t)c0 << 18 | (uint32_t)c1 << 12 | (uint32_t)c2 << 6;
    out[o++] = (unsigned char)(acc >> 16);
    if (rest == 3)
      out[o++] = (unsigned char)(acc >> 8);
  }
  *out_len = o;
  return true;
}

size_t wif_b64url_encode(const unsigned char *in, size_t len, char *out) {
  size_t o = 0, i = 0;

  for (; i + 3 <= len; i += 3) {
    uint32_t acc = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
    out[o++] = alphabet[acc >> 18];
    out[o++] = alphabet[(acc >> 12) & 63];
    out[o++] = alphabet[(acc >> 6) & 63];
    out[o++] = alphabet[acc & 63];
  }
  if (len - i == 1) {
    uint32_t acc = (uint32_t)in[i] << 16;
    out[o++] = alphabet[acc >> 18];
    out[o++] = alphabet[(acc >> 12) & 63];
  } else if (len - i == 2) {
    uint32_t acc = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
    out[o++] = alphabet[acc >> 18];
    out[o++] = alphabet[(acc >> 12) & 63];
    out[o++] = alphabet[(acc >> 6) & 63];
  }
  out[o] = '\0';
  return o;
}
