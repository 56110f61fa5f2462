/* SPDX-License-Identifier: Apache-2.0 */
/* file:PATH and k8s tokens: read afresh on every call, never cached. */
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "file.h"
#include "jwt.h"
#include "source_int.h"

wif_rc wif_source_file_fetch(const struct wif_source_opts *o,
                             const struct wif_log *log, char **out_token,
                             int64_t *out_exp, struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;
  const char *what = wif_source_kind_name(o->kind);
  const char *path = o->path;
  char *buf = NULL;
  size_t len = 0;
  struct stat st;
  struct wif_error ferr;

  if (path == NULL && o->kind == WIF_SOURCE_K8S)
    path = WIF_SOURCE_K8S_TOKEN_FILE;
  if (path == NULL || *path == '\0')
    return wif_error_set(err, WIF_E_CONFIG_INVALID, "%s: no token file given",
                         what);
  wif_error_clear(&ferr);
  /* "\r\n" after the largest token is still accepted. */
  if (o->trusted)
    rc = wif_file_read_trusted(path, geteuid(), WIF_TOKEN_MAX + 2, &buf, &len,
                               &ferr);
  else
    rc = wif_file_read(path, WIF_TOKEN_MAX + 2, &buf, &len, &ferr);
  if (rc == WIF_E_TOO_LARGE) {
    rc = wif_error_set(err, WIF_E_TOKEN_UNAVAILABLE,
                       "%s: %s is larger than a token (%d bytes)", what, path,
                       WIF_TOKEN_MAX);
    goto out;
  }
  if (rc != WIF_OK) {
    if (rc != WIF_E_NOMEM && rc != WIF_E_CONFIG_INSECURE)
      rc = WIF_E_TOKEN_UNAVAILABLE;
    rc = wif_error_set(err, rc, "%s: %s", what, ferr.msg);
    goto out;
  }
  /* Only a warning: the owner may mean it (a shared pod volume). */
  if (stat(path, &st) == 0 && (st.st_mode & S_IROTH) != 0)
    wif_log(log, LOG_WARNING, "%s: the token file %s is readable by others",
            what, path);
  if ((rc = wif_source_token_text(what, buf, len, out_token, err)) != WIF_OK)
    goto out;
  rc = wif_source_token_exp(*out_token, out_exp, err);
  if (rc != WIF_OK) {
    wif_source_token_free(*out_token);
    *out_token = NULL;
  }
out:
  wif_file_free_buffer(buf, len);
  return rc;
}
