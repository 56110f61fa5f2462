/* libcurl, loaded on first use (see curl_api.h for why). */
#include "curl_api.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#ifndef WIF_LIBCURL_SONAME
#define WIF_LIBCURL_SONAME "libcurl.so.4"
#endif

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static struct wif_curl_api api;
static atomic_bool loaded;
static char load_error[256];

/* dlsym returns void *; POSIX guarantees it converts to a function
 * pointer, which ISO C does not say, hence the union. */
static bool resolve(void *lib, const char *name, void *slot, size_t size) {
  union {
    void *object;
    void (*function)(void);
  } u;

  u.object = dlsym(lib, name);
  if (u.object == NULL || size != sizeof(u.function)) {
    snprintf(load_error, sizeof(load_error), "%s has no %s", WIF_LIBCURL_SONAME,
             name);
    return false;
  }
  *(void (**)(void))slot = u.function;
  return true;
}

#define RESOLVE(lib, field, name)                                              \
  resolve(lib, name, (void *)&api.field, sizeof(api.field))

static void load(void) {
  void *lib = dlopen(WIF_LIBCURL_SONAME, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  const char *why;
  CURLcode c;

  if (lib == NULL) {
    why = dlerror();
    snprintf(load_error, sizeof(load_error), "cannot load %s: %s",
             WIF_LIBCURL_SONAME, why != NULL ? why : "unknown error");
    return;
  }
  if (!RESOLVE(lib, global_init, "curl_global_init") ||
      !RESOLVE(lib, easy_init, "curl_easy_init") ||
      !RESOLVE(lib, easy_setopt, "curl_easy_setopt") ||
      !RESOLVE(lib, easy_perform, "curl_easy_perform") ||
      !RESOLVE(lib, easy_getinfo, "curl_easy_getinfo") ||
      !RESOLVE(lib, easy_cleanup, "curl_easy_cleanup") ||
      !RESOLVE(lib, easy_strerror, "curl_easy_strerror") ||
      !RESOLVE(lib, slist_append, "curl_slist_append") ||
      !RESOLVE(lib, slist_free_all, "curl_slist_free_all"))
    return;
  /* Never cleaned up: curl_global_cleanup is not safe in a library. */
  c = api.global_init(CURL_GLOBAL_DEFAULT);
  if (c != CURLE_OK) {
    snprintf(load_error, sizeof(load_error), "curl_global_init: %s",
             api.easy_strerror(c));
    return;
  }
  atomic_store(&loaded, true);
}

const struct wif_curl_api *wif_curl_api_get(struct wif_error *err) {
  (void)pthread_once(&load_once, load);
  if (!atomic_load(&loaded)) {
    wif_error_set(err, WIF_E_SYSTEM, "libcurl is not usable: %s", load_error);
    return NULL;
  }
  return &api;
}

bool wif_curl_api_loaded(void) {
  return atomic_load(&loaded);
}
