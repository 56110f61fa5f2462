/* SPDX-License-Identifier: Apache-2.0 */
/* Running a program from inside someone else's process, with a start
 * state we define rather than the caller's. */
#ifndef WIF_SUBPROCESS_H
#define WIF_SUBPROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/* Fixed limits of a clean start (DESIGN.md, "The privileged boundary"). */
#define WIF_SUBPROCESS_NOFILE 1024
#define WIF_SUBPROCESS_STDERR_LINE_MAX 256

/* What to run. Everything is borrowed for the duration of the call. */
struct wif_subprocess {
  const char *path; /* absolute; opened once and executed by descriptor */
  const char *const *argv; /* argv[0] included, NULL-terminated */
  const char *const *envp; /* the whole environment, NULL-terminated */
  /*
   * The program must pass the trusted-file checks (file.h) for `owner`,
   * up to /. Without it, it is opened as it is (a user's own wifctl,
   * exec:./my-script), still once and executed by descriptor.
   */
  bool trusted;
  uid_t owner;
  /*
   * A clean start: real, effective and saved uids set to the effective
   * one, and the gids to root's group 0 for root (groups: 0 alone), else
   * to the effective gid, / as working directory, umask 077, limits reset
   * (RLIMIT_NOFILE WIF_SUBPROCESS_NOFILE, RLIMIT_CORE 0, FSIZE, CPU, AS and
   * DATA unlimited), no_new_privs. Without it the program keeps the
   * caller's directory, ids and limits (wifctl run by a user).
   */
  bool clean;
  long timeout_ms; /* from the start until stdout and stderr close and
                      the program has exited */
  size_t out_max;  /* stdout bytes kept; more is a failure */
};

/* What came back. out is owned (wipe and free with
 * wif_subprocess_result_clear). */
struct wif_subprocess_result {
  char *out; /* NUL-terminated, out_len bytes */
  size_t out_len;
  /* The first line of stderr, control characters as '?'. */
  char err_line[WIF_SUBPROCESS_STDERR_LINE_MAX];
  bool exited;     /* the exit status is known (a host reaping its
                      children itself may take it first) */
  int exit_status; /* with exited: the status when it exited normally */
  int signal;      /* with exited: the signal that killed it, else 0 */
};

/*
 * Runs s->path with every signal disposition at its default, an empty
 * signal mask, a session of its own (terminal signals of the caller never
 * reach it), stdin on /dev/null, stdout and stderr on pipes of ours and no
 * other descriptor. The host's own signal dispositions are never changed;
 * only this child is waited for, by its pid.
 *
 * WIF_OK when the program ran to its end within the time (whatever its
 * status: see *out). WIF_E_CONFIG_INSECURE / WIF_E_CONFIG_INVALID when
 * the program is not trusted or cannot be executed, WIF_E_TOO_LARGE when
 * it wrote more than out_max bytes, WIF_E_UNAVAILABLE on timeout (the
 * program's session is then killed and reaped), WIF_E_NOMEM /
 * WIF_E_SYSTEM. *out is cleared first; on failure it keeps err_line
 * (often the reason) but no output. A #! script is the one descriptor
 * left open in the program: its interpreter reads it as /dev/fd/3.
 */
wif_rc wif_subprocess_run(const struct wif_subprocess *s,
                          struct wif_subprocess_result *out,
                          struct wif_error *err);

void wif_subprocess_result_clear(struct wif_subprocess_result *r);

#endif
