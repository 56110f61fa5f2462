/* libcurl, loaded on first use: a login with warm keys never maps it. */
#ifndef WIF_CURL_API_H
#define WIF_CURL_API_H

#include <stdbool.h>

/* Calls go through the table below, never to curl_* symbols directly, so
 * the macros that type-check them would only get in the way. */
#ifndef CURL_DISABLE_TYPECHECK
#define CURL_DISABLE_TYPECHECK
#endif
#include <curl/curl.h>

#include "error.h"

/*
 * Why: libcurl and the thirty libraries it pulls in (TLS, Kerberos, LDAP,
 * IDN, ...) cost more to map and relocate than a whole login with cached
 * keys. pam_wif.so and wifctl therefore do not link libcurl; the first
 * HTTP request of a process dlopens it.
 */
struct wif_curl_api {
  CURLcode (*global_init)(long flags);
  CURL *(*easy_init)(void);
  CURLcode (*easy_setopt)(CURL *curl, CURLoption option, ...);
  CURLcode (*easy_perform)(CURL *curl);
  CURLcode (*easy_getinfo)(CURL *curl, CURLINFO info, ...);
  void (*easy_cleanup)(CURL *curl);
  const char *(*easy_strerror)(CURLcode code);
  struct curl_slist *(*slist_append)(struct curl_slist *list,
                                     const char *string);
  void (*slist_free_all)(struct curl_slist *list);
};

/*
 * The process-wide table, borrowed for the life of the process. The first
 * call loads WIF_LIBCURL_SONAME (RTLD_NODELETE: never unloaded, since its
 * resolver threads may outlive a dlclosed module, SECURITY-CASES M1) and
 * runs curl_global_init once (pthread_once; M2). NULL with err set
 * (WIF_E_SYSTEM) when libcurl cannot be loaded or initialised.
 */
const struct wif_curl_api *wif_curl_api_get(struct wif_error *err);

/* True once libcurl has been loaded and initialised in this process. */
bool wif_curl_api_loaded(void);

#endif
