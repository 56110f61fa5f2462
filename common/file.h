/* SPDX-License-Identifier: Apache-2.0 */
/* Checked reads of root-owned files, and atomic writes. */
#ifndef WIF_FILE_H
#define WIF_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
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
 * The walk of wif_file_read_trusted up to the last component of path:
 * *out_dirfd is the directory holding it (O_PATH), checked with every one
 * above it, and *out_name a new copy of that component (free it), for a
 * file the caller opens itself with openat (an append-only log).
 */
wif_rc wif_file_open_parent_trusted(const char *path, uid_t owner,
                                    int *out_dirfd, char **out_name,
                                    struct wif_error *err);

/* The ownership and mode rule of wif_file_read_trusted, on a file the
 * caller opened; err names path. */
wif_rc wif_file_check_stat(const struct stat *st, uid_t owner, const char *path,
                           struct wif_error *err);

/*
 * A directory root writes into (the key cache): path and every directory
 * above it pass the checks of wif_file_read_trusted, and path itself,
 * created with mode 0700 when missing, must be owned by `owner` exactly
 * and not writable by group or others. *out_fd is the directory
 * (O_RDONLY | O_DIRECTORY | O_CLOEXEC), for wif_file_write_atomic_at.
 * Unsafe ownership or mode: WIF_E_CONFIG_INSECURE.
 */
wif_rc wif_file_open_dir_trusted(const char *path, uid_t owner, int *out_fd,
                                 struct wif_error *err);

/*
 * Replaces name in the directory dirfd atomically: writes a temporary
 * file beside it (O_CREAT | O_EXCL | O_NOFOLLOW, then exactly `mode`,
 * whatever the umask), fsyncs it, renames it over name and fsyncs the
 * directory. On failure name is untouched and the temporary is removed,
 * so a limit or a signal mid-write never leaves a truncated file in its
 * place. dir names the directory in messages.
 */
wif_rc wif_file_write_atomic_at(int dirfd, const char *dir, const char *name,
                                const void *data, size_t len, mode_t mode,
                                struct wif_error *err);

/*
 * Removes the temporaries of name that writers killed before their rename
 * left in dirfd. Only for a caller holding the lock every writer of name
 * takes, so none of them is in use; best effort (a failure only leaves
 * them).
 */
void wif_file_remove_temps_at(int dirfd, const char *name);

/*
 * The names in directory dir that end in suffix (and hold more than it),
 * in strcmp order, for drop-in files: dir and every directory above it
 * pass the checks of wif_file_read_trusted. Names starting with "." are
 * skipped (editors' and packagers' leftovers). A missing dir is no error:
 * *out_n is 0. More than max matching names is WIF_E_CONFIG_INVALID.
 * The entries themselves are not checked here: read each with
 * wif_file_read_trusted. Free *out with wif_file_free_names.
 */
wif_rc wif_file_list_trusted(const char *dir, uid_t owner, const char *suffix,
                             size_t max, char ***out, size_t *out_n,
                             struct wif_error *err);

void wif_file_free_names(char **names, size_t n);

/*
 * Opens (creating, 0600 whatever the umask) the lock file name in the
 * checked directory dirfd and takes an exclusive flock, polling until
 * wait_ms have passed (no alarm() inside a PAM host). The file must be a
 * regular file of owner with one link, writable by nobody else
 * (WIF_E_CONFIG_INSECURE); opened O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, so
 * a FIFO never blocks and the descriptor never reaches a child.
 * WIF_E_UNAVAILABLE when the wait timed out. dir names the directory in
 * messages. Release with wif_file_unlock (the kernel releases it when the
 * process dies).
 */
wif_rc wif_file_lock_at(int dirfd, const char *dir, const char *name,
                        uid_t owner, long wait_ms, int *out_fd,
                        struct wif_error *err);

/* Releases and closes; *fd becomes -1. A negative *fd does nothing. */
void wif_file_unlock(int *fd);

/*
 * The paths of a cache file and of its lock file in dir:
 * "dir/<base><ext>" and "dir/<base><lock_ext>". Both new (free them), or
 * neither and WIF_E_NOMEM.
 */
wif_rc wif_file_cache_paths(const char *dir, const char *base, const char *ext,
                            const char *lock_ext, char **out_path,
                            char **out_lock, struct wif_error *err);

/* wif_file_write_atomic_at in the directory part of an absolute path. */
wif_rc wif_file_write_atomic(const char *path, const void *data, size_t len,
                             mode_t mode, struct wif_error *err);

#endif
