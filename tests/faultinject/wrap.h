/* SPDX-License-Identifier: Apache-2.0 */
/* Fault injection: fail the Nth wrapped call, and watch what is freed. */
#ifndef WIF_FI_WRAP_H
#define WIF_FI_WRAP_H

#include <stdbool.h>
#include <stddef.h>

/*
 * wrap.c defines __wrap_X for each function named in WIF_FI_WRAPPED
 * (tests/faultinject/CMakeLists.txt links with -Wl,--wrap=X for each).
 * Only calls made from objects linked with those flags are seen: the core
 * (built again here without _FORTIFY_SOURCE, whose __read_chk and friends
 * would slip past --wrap), the CLI and the harness, never calls inside
 * libcrypto, libcurl or libc.
 *
 * While armed, every wrapped call is counted, and call number fail_at
 * fails the way the real function documents (NULL / -1 with errno, or a
 * curl or PAM error code). fail_at 0 only counts.
 */
void wif_fi_arm(unsigned long fail_at);
void wif_fi_disarm(void);

/* Calls counted since the last arm. */
unsigned long wif_fi_calls(void);

/* Whether call number fail_at was reached (and so made to fail), and the
 * name of the function that failed ("" when none). */
bool wif_fi_injected(void);
const char *wif_fi_injected_name(void);

/* For call sites the linker cannot wrap (a PAM conversation callback, the
 * fake PAM functions of fi_pam.c): counts one call named name and says
 * whether it must fail. */
bool wif_fi_hit(const char *name);

/*
 * Secret residue check: while a watch is set, every block passed to the
 * wrapped free() is scanned (malloc_usable_size bytes) for each needle;
 * a block that still holds one counts as unwiped. Up to WIF_FI_WATCH_MAX
 * needles, borrowed until wif_fi_watch_clear. Needles shorter than 8
 * bytes are refused (false).
 */
#define WIF_FI_WATCH_MAX 8
bool wif_fi_watch(const void *needle, size_t len);
void wif_fi_watch_clear(void);
unsigned long wif_fi_unwiped(void);
/* Blocks scanned since the watch was set (so a test can tell that the
 * scan saw something at all). */
unsigned long wif_fi_scanned(void);

#endif
