/* SPDX-License-Identifier: Apache-2.0 */
/* Drop-in files: pam_wif.d/NAME.conf and NAME.map beside the main files,
 * read after them, for the configuration and the map alike. */
#include "dropin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"

/* A read that failed is the administrator's to fix, not the system's. */
static wif_rc config_fault(wif_rc rc, struct wif_error *err) {
  if (rc == WIF_E_SYSTEM || rc == WIF_E_TOO_LARGE) {
    rc = WIF_E_CONFIG_INVALID;
    if (err != NULL)
      err->rc = rc;
  }
  return rc;
}

wif_rc wif_dropin_load(const char *dir, const char *suffix, const char *what,
                       size_t max, uid_t owner, size_t budget, char **files,
                       size_t *n_files, wif_dropin_parse_fn parse, void *ctx,
                       struct wif_error *err) {
  wif_rc rc;
  char **names = NULL;
  size_t n = 0;
  char *text = NULL;
  size_t len = 0;

  rc =
      config_fault(wif_file_list_trusted(dir, owner, suffix,
                                         WIF_DROPIN_FILES_MAX, &names, &n, err),
                   err);
  if (rc != WIF_OK)
    goto out;
  for (size_t i = 0; i < n; i++) {
    size_t plen = strlen(dir) + 1 + strlen(names[i]) + 1;
    char *full = malloc(plen);

    if (full == NULL) {
      rc = wif_error_set(err, WIF_E_NOMEM, "out of memory");
      goto out;
    }
    (void)snprintf(full, plen, "%s/%s", dir, names[i]);
    files[(*n_files)++] = full;
    rc = wif_file_read_trusted(full, owner, budget, &text, &len, err);
    if (rc == WIF_E_TOO_LARGE)
      (void)wif_error_set(err, rc,
                          "%s: the %s and its drop-in files together are "
                          "larger than %zu bytes",
                          full, what, max);
    if ((rc = config_fault(rc, err)) != WIF_OK)
      goto out;
    budget -= len;
    if ((rc = parse(ctx, full, text, len, err)) != WIF_OK)
      goto out;
    wif_file_free_buffer(text, len);
    text = NULL;
    len = 0;
  }
  rc = WIF_OK;
out:
  wif_file_free_buffer(text, len);
  wif_file_free_names(names, n);
  return rc;
}
