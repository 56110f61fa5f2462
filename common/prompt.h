/* SPDX-License-Identifier: Apache-2.0 */
/* The prompt protocol for long tokens (DESIGN.md): both of its sides. */
#ifndef WIF_PROMPT_H
#define WIF_PROMPT_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/*
 * ssh cuts a keyboard-interactive answer to 1023 bytes and pam_exec to
 * 511, while access tokens run to several KB. So a token travels in parts:
 * every part but the last ends with one `\` (a token never contains `\`).
 */
#define WIF_PROMPT_FIRST "Workload identity token: "
#define WIF_PROMPT_PARTS_MAX 64
#define WIF_PROMPT_PART_MAX 999 /* token bytes per part; `\` makes 1000 */

/* Where callers cut an answer: ssh's keyboard-interactive and askpass
 * reads, and pam_exec's. */
#define WIF_PROMPT_SSH_CUT 1023
#define WIF_PROMPT_EXEC_CUT 511

/* Whether a token of len bytes has exactly the length of a cut answer. */
bool wif_prompt_cut_length(size_t len);

/*
 * Whether answer (len bytes) is what sshd sends in place of the real
 * answer for an account that does not exist, or for root when
 * PermitRootLogin forbids it: "\b\n\r\177INCORRECT" repeated to the
 * answer's length (OpenSSH auth-pam.c, fake_password). A token never
 * holds those control characters.
 */
bool wif_prompt_sshd_refused(const char *answer, size_t len);

/* Whether s (len bytes) has a compact JWS or JWE's shape: only
 * base64url letters and dots, at least two dots. Not a validation: it
 * tells a token from, say, a password that an earlier module read. */
bool wif_prompt_looks_like_token(const char *s, size_t len);

/* The module's side: assembles answers into one token. */
struct wif_prompt_reader {
  char *buf;   /* NUL-terminated token so far; wiped on clear */
  size_t size; /* bytes allocated at buf: whoever takes buf wipes them */
  size_t len;
  unsigned parts; /* answers taken */
  bool done;      /* the last answer had no trailing `\` */
};

/* Allocates room for WIF_TOKEN_MAX bytes. WIF_E_NOMEM on failure. */
wif_rc wif_prompt_reader_init(struct wif_prompt_reader *r);

/*
 * Takes one answer (NUL-terminated, borrowed). A trailing `\` is dropped
 * and asks for another part; without it the token is complete (done).
 * WIF_E_TOO_LARGE when the token would pass WIF_TOKEN_MAX bytes or
 * WIF_PROMPT_PARTS_MAX parts; WIF_E_INTERNAL after done. The answer is
 * read at most WIF_TOKEN_MAX + 2 bytes far, whatever its length.
 */
wif_rc wif_prompt_reader_add(struct wif_prompt_reader *r, const char *answer,
                             struct wif_error *err);

/* The prompt for the next answer into buf (size >= 64). */
void wif_prompt_reader_prompt(const struct wif_prompt_reader *r, char *buf,
                              size_t size);

/* Wipes and frees; the reader can be initialised again. */
void wif_prompt_reader_clear(struct wif_prompt_reader *r);

/* The client's side. */

/*
 * Part number (1 for the first) of a prompt as ssh shows it: the module's
 * prompt, optionally after ssh's "(user@host) " prefix, with any trailing
 * spaces. 0 when the text is not one of our prompts. The text comes from
 * the server, so it is parsed strictly.
 */
unsigned wif_prompt_part_number(const char *prompt);

/*
 * Where part `part` (1-based) of a token of token_len bytes lies: *off and
 * *len, and *more when further parts follow (the answer then ends with
 * `\`). False when there is no such part or the token needs more than
 * WIF_PROMPT_PARTS_MAX parts.
 */
bool wif_prompt_part_span(size_t token_len, unsigned part, size_t *off,
                          size_t *len, bool *more);

#endif
