/* SPDX-License-Identifier: Apache-2.0 */
/* Drop-in files: pam_wif.d/NAME.conf and NAME.map beside the main files,
 * read after them, for the configuration and the map alike. */
#ifndef WIF_DROPIN_H
#define WIF_DROPIN_H

#include <stddef.h>
#include <sys/types.h>

#include "error.h"

#define WIF_DROPIN_FILES_MAX 64 /* of each kind */

/* Parses one drop-in's text; path names it in messages. */
typedef wif_rc (*wif_dropin_parse_fn)(void *ctx, const char *path,
                                      const char *text, size_t len,
                                      struct wif_error *err);

/*
 * Hands every DIR/NAME<suffix> to parse, in byte order of NAME, each read
 * with wif_file_read_trusted (file.h lists which names count), all of them
 * together within budget bytes: what the main file of the kind left of
 * max. what ("configuration", "map") names the kind in that message. The
 * full paths are appended to files, which must have room for
 * WIF_DROPIN_FILES_MAX more (the caller frees them), so that messages can
 * name them later. A missing directory holds no drop-in. A file that
 * cannot be read, or the budget exceeded, is WIF_E_CONFIG_INVALID; an
 * unsafe one WIF_E_CONFIG_INSECURE.
 */
wif_rc wif_dropin_load(const char *dir, const char *suffix, const char *what,
                       size_t max, uid_t owner, size_t budget, char **files,
                       size_t *n_files, wif_dropin_parse_fn parse, void *ctx,
                       struct wif_error *err);

#endif
