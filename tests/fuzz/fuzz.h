/* SPDX-License-Identifier: Apache-2.0 */
/* Shared declarations of the libFuzzer targets and their replay driver. */
#ifndef WIF_FUZZ_H
#define WIF_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/*
 * Each fuzz_<name>.c defines LLVMFuzzerTestOneInput and may define
 * LLVMFuzzerInitialize. Built with -DWIF_BUILD_FUZZ=ON they link against
 * libFuzzer; otherwise replay.c supplies main() and feeds them files, so
 * the seed corpus and every regression input run in the ordinary test pass.
 *
 * A target reports a broken invariant with fuzz_fail(), which aborts: the
 * one place in the project where abort() is right, since libFuzzer and the
 * replay driver both treat it as a finding.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)))
__attribute__((noreturn));

#endif
