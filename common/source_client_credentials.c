/* SPDX-License-Identifier: Apache-2.0 */
/* OAuth 2.0 client credentials (RFC 6749 4.4) with a client secret, an
 * RFC 7523 client assertion signed by a certificate's key, or a JWT the
 * workload was issued (federated credentials: an AKS service account
 * token, a GitHub Actions token). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "b64url.h"
#include "file.h"
#include "source_int.h"

#define CC_SECRET_MAX 4096
#define CC_PEM_MAX (64 * 1024)
#define CC_ASSERTION_LIFETIME 300 /* seconds: short, RFC 7523 section 3 */
#define CC_ASSERTION_TYPE                                                      \
  "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

/* Reads a credential file, which must not be readable by anyone else (as
 * ssh insists for private keys). *out is wiped by wif_file_free_buffer. */
static wif_rc read_private(const char *what, const char *path, size_t max,
                           char **out, size_t *out_len, struct wif_error *err) {
  wif_rc rc;
  struct stat st;
  struct wif_error ferr;

  *out = NULL;
  *out_len = 0;
  if (stat(path, &st) == 0 && (st.st_mode & 077) != 0)
    return wif_error_set(err, WIF_E_CONFIG_INSECURE,
                         "client-credentials: the %s %s is accessible by "
                         "others (chmod 600 it)",
                         what, path);
  wif_error_clear(&ferr);
  rc = wif_file_read(path, max, out, out_len, &ferr);
  if (rc != WIF_OK)
    return wif_error_set(err, rc == WIF_E_NOMEM ? rc : WIF_E_CONFIG_INVALID,
                         "client-credentials: cannot read the %s: %s", what,
                         ferr.msg);
  return WIF_OK;
}

/* Appends s as a JSON string literal. */
static wif_rc json_str(struct wif_source_buf *b, const char *s) {
  static const char hex[] = "0123456789abcdef";
  wif_rc rc = wif_source_buf_str(b, "\"");

  for (; rc == WIF_OK && *s != '\0'; s++) {
    unsigned char c = (unsigned char)*s;

    if (c == '"' || c == '\\') {
      char e[2] = {'\\', (char)c};

      rc = wif_source_buf_add(b, e, 2);
    } else if (c < 0x20) {
      char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf]};

      rc = wif_source_buf_add(b, e, 6);
    } else {
      rc = wif_source_buf_add(b, (const char *)&c, 1);
    }
  }
  return rc == WIF_OK ? wif_source_buf_str(b, "\"") : rc;
}

static wif_rc b64_append(struct wif_source_buf *b, const unsigned char *d,
                         size_t n) {
  char *enc = malloc(WIF_B64URL_ENCODED_LEN(n) + 1);
  wif_rc rc;

  if (enc == NULL)
    return WIF_E_NOMEM;
  rc = wif_source_buf_add(b, enc, wif_b64url_encode(d, n, enc));
  free(enc);
  return rc;
}

static int no_passphrase(char *buf, int size, int rwflag, void *u) {
  (void)buf;
  (void)size;
  (void)rwflag;
  (void)u;
  return 0; /* never prompt on a terminal from inside a library */
}

/* Loads the certificate and its RSA key and returns both thumbprints. */
static wif_rc load_cert_key(const struct wif_source_opts *o, EVP_PKEY **out_key,
                            unsigned char x5t[20], unsigned char x5t256[32],
                            struct wif_error *err) {
  wif_rc rc = WIF_E_CONFIG_INVALID;
  char *pem = NULL;
  size_t pem_len = 0;
  BIO *bio = NULL;
  X509 *cert = NULL;
  EVP_PKEY *key = NULL;
  unsigned int n = 0;

  *out_key = NULL;
  if ((rc = wif_file_read(o->cert_file, CC_PEM_MAX, &pem, &pem_len, err)) !=
      WIF_OK) {
    rc = wif_error_set(err, rc == WIF_E_NOMEM ? rc : WIF_E_CONFIG_INVALID,
                       "client-credentials: cannot read the certificate %s",
                       o->cert_file);
    goto out;
  }
  if ((bio = BIO_new_mem_buf(pem, (int)pem_len)) == NULL ||
      (cert = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL)) == NULL) {
    rc = wif_error_set(err, WIF_E_CONFIG_INVALID,
                       "client-credentials: %s holds no PEM certificate",
                       o->cert_file);
    goto out;
  }
  BIO_free(bio);
  bio = NULL;
  wif_file_free_buffer(pem, pem_len);
  pem = NULL;
  if (!X509_digest(cert, EVP_sha1(), x5t, &n) || n != 20 ||
      !X509_digest(cert, EVP_sha256(), x5t256, &n) || n != 32) {
    rc = wif_error_set(err, WIF_E_INTERNAL,
                       "client-credentials: cannot hash the certificate");
    goto out;
  }
  if ((rc = read_private("key", o->key_file, CC_PEM_MAX, &pem, &pem_len,
                         err)) != WIF_OK)
    goto out;
  if ((bio = BIO_new_mem_buf(pem, (int)pem_len)) == NULL ||
      (key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL)) == NULL) {
    rc = wif_error_set(err, WIF_E_CONFIG_INVALID,
                       "client-credentials: %s holds no unencrypted PEM "
                       "private key",
                       o->key_file);
    goto out;
  }
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA ||
      EVP_PKEY_get_bits(key) < 2048) {
    rc = wif_error_set(err, WIF_E_CONFIG_INVALID,
                       "client-credentials: the key must be RSA, at least "
                       "2048 bits (RS256)");
    goto out;
  }
  if (X509_check_private_key(cert, key) != 1) {
    rc = wif_error_set(err, WIF_E_CONFIG_INVALID,
                       "client-credentials: the key does not match the "
                       "certificate");
    goto out;
  }
  *out_key = key;
  key = NULL;
  rc = WIF_OK;
out:
  EVP_PKEY_free(key);
  X509_free(cert);
  BIO_free(bio);
  wif_file_free_buffer(pem, pem_len);
  return rc;
}

/* header.claims.signature, RS256, into *out (a JWT; not a secret to the
 * token endpoint, but single-use: wiped with the form). */
static wif_rc make_assertion(const struct wif_source_opts *o,
                             struct wif_source_buf *out,
                             struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;
  EVP_PKEY *key = NULL;
  EVP_MD_CTX *md = NULL;
  unsigned char x5t[20], x5t256[32], jti[16];
  unsigned char *sig = NULL;
  size_t sig_len = 0;
  struct wif_source_buf h = {NULL, 0, 0}, c = {NULL, 0, 0};
  char num[32];
  int64_t now = wif_source_now();

  if ((rc = load_cert_key(o, &key, x5t, x5t256, err)) != WIF_OK)
    goto out;
  if (RAND_bytes(jti, sizeof(jti)) != 1) {
    rc = wif_error_set(err, WIF_E_SYSTEM, "client-credentials: no randomness");
    goto out;
  }
  /* Entra ID reads x5t (SHA-1) for RS256 and x5t#S256 elsewhere; both
   * name the same certificate. */
  rc = WIF_E_NOMEM;
  if (wif_source_buf_str(&h, "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"x5t\":\"") ||
      b64_append(&h, x5t, sizeof(x5t)) ||
      wif_source_buf_str(&h, "\",\"x5t#S256\":\"") ||
      b64_append(&h, x5t256, sizeof(x5t256)) || wif_source_buf_str(&h, "\"}"))
    goto nomem;
  if (wif_source_buf_str(&c, "{\"aud\":") || json_str(&c, o->token_endpoint) ||
      wif_source_buf_str(&c, ",\"iss\":") || json_str(&c, o->client_id) ||
      wif_source_buf_str(&c, ",\"sub\":") || json_str(&c, o->client_id) ||
      wif_source_buf_str(&c, ",\"jti\":\"") || b64_append(&c, jti, sizeof(jti)))
    goto nomem;
  (void)snprintf(num, sizeof(num), "\",\"iat\":%lld", (long long)now);
  if (wif_source_buf_str(&c, num))
    goto nomem;
  (void)snprintf(num, sizeof(num), ",\"nbf\":%lld", (long long)now);
  if (wif_source_buf_str(&c, num))
    goto nomem;
  (void)snprintf(num, sizeof(num), ",\"exp\":%lld}",
                 (long long)now + CC_ASSERTION_LIFETIME);
  if (wif_source_buf_str(&c, num))
    goto nomem;
  if (b64_append(out, (const unsigned char *)h.p, h.len) ||
      wif_source_buf_str(out, ".") ||
      b64_append(out, (const unsigned char *)c.p, c.len))
    goto nomem;
  if ((md = EVP_MD_CTX_new()) == NULL ||
      EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
      EVP_DigestSign(md, NULL, &sig_len, (const unsigned char *)out->p,
                     out->len) != 1 ||
      (sig = OPENSSL_malloc(sig_len)) == NULL ||
      EVP_DigestSign(md, sig, &sig_len, (const unsigned char *)out->p,
                     out->len) != 1) {
    rc = wif_error_set(err, WIF_E_INTERNAL,
                       "client-credentials: signing the assertion failed");
    goto out;
  }
  if (wif_source_buf_str(out, ".") || b64_append(out, sig, sig_len))
    goto nomem;
  rc = WIF_OK;
  goto out;
nomem:
  rc = wif_error_set(err, WIF_E_NOMEM, "out of memory");
out:
  OPENSSL_free(sig);
  EVP_MD_CTX_free(md);
  EVP_PKEY_free(key);
  wif_source_buf_free(&h);
  wif_source_buf_free(&c);
  return rc;
}

static wif_rc form_field(struct wif_source_buf *b, const char *name,
                         const char *value) {
  wif_rc rc;

  if (b->len > 0 && (rc = wif_source_buf_str(b, "&")) != WIF_OK)
    return rc;
  if ((rc = wif_source_buf_str(b, name)) != WIF_OK ||
      (rc = wif_source_buf_str(b, "=")) != WIF_OK)
    return rc;
  return wif_source_buf_enc(b, value);
}

wif_rc wif_source_client_credentials_fetch(const struct wif_source_opts *o,
                                           const struct wif_log *log,
                                           char **out_token, int64_t *out_exp,
                                           struct wif_error *err) {
  static const char *const headers[] = {
      "Content-Type: application/x-www-form-urlencoded",
      "Accept: application/json", NULL};
  wif_rc rc = WIF_E_INTERNAL;
  struct wif_source_buf form = {NULL, 0, 0};
  struct wif_source_buf scope = {NULL, 0, 0};
  struct wif_source_buf assertion = {NULL, 0, 0};
  char *secret = NULL;
  size_t secret_len = 0;
  struct wif_source_call call;
  struct wif_http_response r;
  bool use_cert = o->cert_file != NULL || o->key_file != NULL;
  bool entra = wif_source_is_entra(o->token_endpoint);
  const char *resource = o->resource;
  int creds = use_cert + (o->secret_file != NULL) + (o->assertion_file != NULL);

  memset(&r, 0, sizeof(r));
  if (o->token_endpoint == NULL || o->client_id == NULL) {
    rc = wif_error_set(err, WIF_E_CONFIG_INVALID,
                       "client-credentials: a token endpoint and a client id "
                       "are required");
    goto out;
  }
  if (creds != 1 ||
      (use_cert && (o->cert_file == NULL || o->key_file == NULL))) {
    rc = wif_error_set(err, WIF_E_CONFIG_INVALID,
                       "client-credentials: give one of a client secret "
                       "file, a certificate and its key, or a client "
                       "assertion file");
    goto out;
  }
  rc = WIF_OK;
  if (o->scope != NULL) {
    rc = wif_source_buf_str(&scope, o->scope);
  } else if (o->audience != NULL && entra && resource == NULL &&
             o->token_audience == NULL) {
    size_t n = strcspn(o->token_endpoint, "?#");

    /* Entra ID's v1 endpoint (.../oauth2/token) takes the resource
     * itself, its v2 endpoint "<app id URI>/.default". Other servers
     * know neither: they get --scope, --resource or --token-audience. */
    if (n >= 13 &&
        strncmp(o->token_endpoint + n - 13, "/oauth2/token", 13) == 0)
      resource = o->audience;
    else if ((rc = wif_source_buf_str(&scope, o->audience)) == WIF_OK)
      rc = wif_source_buf_str(&scope, "/.default");
  } else if (o->audience != NULL && !entra && resource == NULL &&
             o->token_audience == NULL) {
    wif_log(log, LOG_WARNING,
            "client-credentials: the audience is not sent to a token "
            "endpoint that is not Entra ID's; name the API with "
            "--token-audience, --resource or --scope");
  }
  if (rc != WIF_OK)
    goto nomem;
  if ((rc = form_field(&form, "grant_type", "client_credentials")) ||
      (rc = form_field(&form, "client_id", o->client_id)) ||
      (scope.p != NULL && (rc = form_field(&form, "scope", scope.p))) ||
      (resource != NULL && (rc = form_field(&form, "resource", resource))) ||
      (o->token_audience != NULL &&
       (rc = form_field(&form, "audience", o->token_audience))))
    goto nomem;
  if (o->assertion_file != NULL) {
    struct wif_source_opts fo;
    char *jwt = NULL;
    int64_t jexp = 0;

    /* Read anew each time: the kubelet and the CI runner rotate it. The
     * same framing and size limit as a file: token. */
    wif_source_opts_init(&fo);
    fo.kind = WIF_SOURCE_FILE;
    fo.path = o->assertion_file;
    fo.trusted = o->trusted;
    if ((rc = wif_source_file_fetch(&fo, log, &jwt, &jexp, err)) != WIF_OK) {
      if (err != NULL) {
        char msg[WIF_ERROR_MSG_MAX];

        memcpy(msg, err->msg, sizeof(msg));
        (void)wif_error_set(err, rc, "client-credentials: assertion %s", msg);
      }
      goto out;
    }
    if (jexp > 0 && jexp <= wif_source_now())
      wif_log(log, LOG_WARNING,
              "client-credentials: the client assertion in %s has expired",
              o->assertion_file);
    rc = form_field(&form, "client_assertion_type", CC_ASSERTION_TYPE);
    if (rc == WIF_OK)
      rc = form_field(&form, "client_assertion", jwt);
    wif_source_token_free(jwt);
    if (rc != WIF_OK)
      goto nomem;
  } else if (use_cert) {
    if ((rc = make_assertion(o, &assertion, err)) != WIF_OK)
      goto out;
    if ((rc = form_field(&form, "client_assertion_type", CC_ASSERTION_TYPE)) ||
        (rc = form_field(&form, "client_assertion", assertion.p)))
      goto nomem;
  } else {
    size_t n;

    if ((rc = read_private("client secret file", o->secret_file, CC_SECRET_MAX,
                           &secret, &secret_len, err)) != WIF_OK)
      goto out;
    if (secret == NULL || secret_len == 0) {
      rc = wif_error_set(err, WIF_E_CONFIG_INVALID,
                         "client-credentials: the client secret file is "
                         "empty");
      goto out;
    }
    /* One trailing newline is framing, as for token files (A10). */
    n = secret_len;
    if (n > 0 && secret[n - 1] == '\n')
      n--;
    if (n > 0 && secret[n - 1] == '\r')
      n--;
    secret[n] = '\0';
    if (n == 0 || strlen(secret) != n || strcspn(secret, "\r\n") != n) {
      rc = wif_error_set(err, WIF_E_CONFIG_INVALID,
                         "client-credentials: the client secret file must "
                         "hold one non-empty line");
      goto out;
    }
    if ((rc = form_field(&form, "client_secret", secret)))
      goto nomem;
  }
  wif_source_call_init(&call, o, "client-credentials", 0);
  call.req.url = o->token_endpoint;
  call.req.method = "POST";
  call.req.headers = headers;
  call.req.body = form.p;
  call.req.body_len = form.len;
  call.req.ca_file = o->ca_file; /* https only: the form carries a secret */
  if ((rc = wif_source_call(o, log, &call, &r, err)) != WIF_OK)
    goto out;
  rc = wif_source_json_token("client-credentials", r.body, r.body_len,
                             "/access_token", out_token, out_exp, err);
  goto out;
nomem:
  rc = wif_error_set(err, rc == WIF_E_TOO_LARGE ? rc : WIF_E_NOMEM,
                     "client-credentials: cannot build the request");
out:
  wif_http_response_clear(&r);
  wif_file_free_buffer(secret, secret_len);
  wif_source_buf_free(&assertion);
  wif_source_buf_free(&scope);
  wif_source_buf_free(&form);
  return rc;
}
