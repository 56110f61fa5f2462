/* Checked reads of root-owned files, and atomic writes. */
#ifndef WIF_FILE_H
#define WIF_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/*
 * Reads a whole file that must be trusted: opened with O_NOFOLLOW,
 * O_CLOEXEC, O_NOCTTY and O_NONBLOCK (a FIFO never blocks), then checked on
 * the descriptor: a regular file, owned by `owner` or root, not writable by
 * group or others, at most max_size bytes. Every directory from the file
 * up to / is checked the same way (owner or root, not group/other
 * writable; sticky directories are not accepted). path must be absolute.
 *
 * Unsafe ownership or mode gives WIF_E_CONFIG_INSECURE; a missing file or
 * a read error WIF_E_SYSTEM; too large WIF_E_TOO_LARGE. err names the path.
 * On success *out is a new NUL-terminated buffer of *out_len bytes (free it
 * with wif_file_free_buffer).
 */
wif_rc wif_file_read_trusted(const char *path, uid_t owner, size_t max_size,
                             char **out, size_t *out_len,
                             struct wif_error *err);

/*
 * The checks of wif_file_read_trusted without the read: *out_fd is the
 * file opened read-only (O_NONBLOCK, O_CLOEXEC), for a caller that uses
 * the very file it checked (a program it executes by descriptor).
 */
wif_rc wif_file_open_trusted(const char *path, uid_t owner, int *out_fd,
                             struct wif_error *err);

/*
 * Reads a whole file with no ownership rules (a token file chosen by the
 * user running wifctl): O_NOFOLLOW is not used, but the file must be
 * regular and at most max_size bytes.
 */
wif_rc wif_file_read(const char *path, size_t max_size, char **out,
                     size_t *out_len, struct wif_error *err);

/* Wipes (the content may be secret) and frees; NULL does nothing. */
void wif_file_free_buffer(char *buf, size_t len);

/*
 * Replaces path atomically: writes a temporary file in the same directory
 * (mkstemp, mode `mode`), fsyncs it, renames it over path and fsyncs the
 * directory. On failure path is untouched and the temporary is removed.
 */
wif_rc wif_file_write_atomic(const char *path, const void *data, size_t len,
                             mode_t mode, struct wif_error *err);

#endif
