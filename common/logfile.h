/* SPDX-License-Identifier: Apache-2.0 */
/* The module's own log file (log_file=), for hosts without /dev/log. */
#ifndef WIF_LOGFILE_H
#define WIF_LOGFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"

#define WIF_LOGFILE_LINE_MAX 1536 /* bytes of one written line */

/*
 * Opens path (absolute) for appending: every directory from / down to
 * its parent is opened with O_NOFOLLOW and checked on the descriptor
 * (owned by owner or root, not writable by group or others, not sticky:
 * else WIF_E_CONFIG_INSECURE), then the file is opened relative to its
 * parent with O_APPEND|O_NOFOLLOW|O_CLOEXEC. A new file is created
 * O_EXCL and given mode 0600 with fchmod (the caller's umask plays no
 * part); an existing one must be a regular file of owner or root, not
 * writable by group or others. The descriptor is never 0, 1 or 2, which
 * belong to the process the module runs in. *out_fd is -1 on failure.
 */
wif_rc wif_logfile_open(const char *path, uid_t owner, int *out_fd,
                        struct wif_error *err);

/* Appends "TIME PREFIX: LINE\n" (TIME in UTC, ISO 8601) with one write(),
 * cut at WIF_LOGFILE_LINE_MAX. False, with errno, when it failed. */
bool wif_logfile_write(int fd, const char *prefix, const char *line);

#endif
