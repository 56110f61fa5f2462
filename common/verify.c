/* SPDX-License-Identifier: Apache-2.0 */
/* JWS signature verification with verifiers prepared once per key. */
#include "verify.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

/*
 * Why prepared verifiers: EVP_DigestVerifyInit fetches the signature and
 * digest implementations and sets up the key's provider side on every
 * call, which costs a noticeable share of an RSA-2048 verification. A
 * verifier keeps an explicitly fetched digest and a public-key context that
 * is already through EVP_PKEY_verify_init with every parameter set, so a
 * token costs one hash and one EVP_PKEY_verify.
 */
struct wif_verifier {
  enum wif_alg alg;
  size_t sig_len;     /* the only signature length accepted */
  size_t half;        /* ECDSA: octets of r and of s */
  EVP_MD *md;         /* NULL for EdDSA */
  EVP_MD_CTX *mctx;   /* hash context (EdDSA: the verify context) */
  EVP_PKEY_CTX *pctx; /* RSA and ECDSA */
};

void wif_verifier_free(struct wif_verifier *v) {
  if (v == NULL)
    return;
  EVP_PKEY_CTX_free(v->pctx);
  EVP_MD_CTX_free(v->mctx);
  EVP_MD_free(v->md);
  free(v);
}

static wif_rc prepare(EVP_PKEY *pkey, enum wif_alg alg,
                      struct wif_verifier **out) {
  wif_rc rc = WIF_E_INTERNAL;
  struct wif_verifier *v;
  int size;

  *out = NULL;
  v = calloc(1, sizeof(*v));
  if (v == NULL)
    return WIF_E_NOMEM;
  v->alg = alg;
  v->mctx = EVP_MD_CTX_new();
  if (v->mctx == NULL) {
    rc = WIF_E_NOMEM;
    goto out;
  }
  if (alg == WIF_ALG_EDDSA) {
    if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_ED25519 ||
        EVP_DigestVerifyInit_ex(v->mctx, NULL, NULL, NULL, NULL, pkey, NULL) !=
            1)
      goto out;
    v->sig_len = 64;
    *out = v;
    v = NULL;
    rc = WIF_OK;
    goto out;
  }
  v->md = EVP_MD_fetch(NULL, wif_alg_digest_name(alg), NULL);
  v->pctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
  if (v->md == NULL || v->pctx == NULL)
    goto out;
  if (EVP_PKEY_verify_init(v->pctx) != 1 ||
      EVP_PKEY_CTX_set_signature_md(v->pctx, v->md) != 1)
    goto out;
  if (wif_alg_is_rsa(alg)) {
    if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA)
      goto out;
    if (wif_alg_is_pss(alg)) {
      /* RFC 7518 3.5: MGF1 with the same hash, salt as long as the hash;
       * never RSA_PSS_SALTLEN_AUTO, which accepts any salt length. */
      if (EVP_PKEY_CTX_set_rsa_padding(v->pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
          EVP_PKEY_CTX_set_rsa_pss_saltlen(v->pctx, RSA_PSS_SALTLEN_DIGEST) !=
              1 ||
          EVP_PKEY_CTX_set_rsa_mgf1_md(v->pctx, v->md) != 1)
        goto out;
    } else if (EVP_PKEY_CTX_set_rsa_padding(v->pctx, RSA_PKCS1_PADDING) != 1) {
      goto out;
    }
    size = EVP_PKEY_get_size(pkey);
    if (size <= 0)
      goto out;
    v->sig_len = (size_t)size;
  } else {
    int bits = EVP_PKEY_get_bits(pkey);

    if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_EC || bits <= 0)
      goto out;
    v->half = ((size_t)bits + 7) / 8;
    v->sig_len = 2 * v->half;
  }
  *out = v;
  v = NULL;
  rc = WIF_OK;

out:
  ERR_clear_error();
  wif_verifier_free(v);
  return rc;
}

/* Appends one DER INTEGER for a big-endian unsigned value; false for 0. */
static bool der_int(const unsigned char *p, size_t len, unsigned char *out,
                    size_t *pos) {
  while (len > 0 && p[0] == 0) {
    p++;
    len--;
  }
  if (len == 0)
    return false;
  out[(*pos)++] = 0x02;
  if (p[0] & 0x80) {
    out[(*pos)++] = (unsigned char)(len + 1);
    out[(*pos)++] = 0x00;
  } else {
    out[(*pos)++] = (unsigned char)len;
  }
  memcpy(out + *pos, p, len);
  *pos += len;
  return true;
}

/*
 * Raw r||s (RFC 7518 3.4) to the DER ECDSA-Sig-Value OpenSSL verifies.
 * Halves are at most 66 octets (P-521), so each INTEGER fits a short-form
 * length and the SEQUENCE needs at most one length octet after 0x81.
 * r or s of zero is refused here; range checks against the order are
 * OpenSSL's.
 */
static bool ecdsa_to_der(const unsigned char *sig, size_t half,
                         unsigned char *der, size_t *der_len) {
  unsigned char body[2 * (3 + 66)];
  size_t n = 0, pos = 0;

  if (!der_int(sig, half, body, &n) || !der_int(sig + half, half, body, &n))
    return false;
  der[pos++] = 0x30;
  if (n >= 0x80)
    der[pos++] = 0x81;
  der[pos++] = (unsigned char)n;
  memcpy(der + pos, body, n);
  *der_len = pos + n;
  return true;
}

wif_rc wif_verify_signature(struct wif_jwk *key, enum wif_alg alg,
                            const unsigned char *input, size_t input_len,
                            const unsigned char *sig, size_t sig_len) {
  wif_rc rc = WIF_E_BAD_SIGNATURE;
  struct wif_verifier **slot, *v;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned char der[2 * (3 + 66) + 3];
  unsigned int md_len = 0;
  size_t der_len = 0;

  if (key == NULL || (input == NULL && input_len > 0))
    return WIF_E_INTERNAL;
  if (!wif_jwk_allows(key, alg))
    return WIF_E_ALG_NOT_ALLOWED;
  if (sig == NULL || sig_len == 0)
    return WIF_E_BAD_SIGNATURE;
  slot = wif_jwk_verifier_slot(key, alg, wif_verifier_free);
  if (slot == NULL)
    return WIF_E_INTERNAL;
  if (*slot == NULL) {
    rc = prepare(wif_jwk_pkey(key), alg, slot);
    if (rc != WIF_OK)
      return rc;
    rc = WIF_E_BAD_SIGNATURE;
  }
  v = *slot;
  /* Exact length first: nothing reads past a short signature. */
  if (sig_len != v->sig_len)
    return WIF_E_BAD_SIGNATURE;
  if (alg == WIF_ALG_EDDSA) {
    if (EVP_DigestVerify(v->mctx, sig, sig_len, input, input_len) == 1)
      rc = WIF_OK;
    goto out;
  }
  if (EVP_DigestInit_ex2(v->mctx, v->md, NULL) != 1 ||
      EVP_DigestUpdate(v->mctx, input, input_len) != 1 ||
      EVP_DigestFinal_ex(v->mctx, md, &md_len) != 1) {
    rc = WIF_E_INTERNAL;
    goto out;
  }
  if (wif_alg_is_ec(alg)) {
    if (!ecdsa_to_der(sig, v->half, der, &der_len))
      goto out;
    sig = der;
    sig_len = der_len;
  }
  if (EVP_PKEY_verify(v->pctx, sig, sig_len, md, md_len) == 1)
    rc = WIF_OK;

out:
  if (rc != WIF_OK)
    ERR_clear_error();
  return rc;
}
