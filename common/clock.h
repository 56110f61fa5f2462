/* SPDX-License-Identifier: Apache-2.0 */
/* The monotonic clock every deadline and cooldown is measured on. */
#ifndef WIF_CLOCK_H
#define WIF_CLOCK_H

#include <stdint.h>

/* Milliseconds of CLOCK_MONOTONIC: immune to wall-clock jumps. */
int64_t wif_clock_mono_ms(void);

/* Sleeps ms milliseconds (a signal may cut it short). */
void wif_clock_sleep_ms(int64_t ms);

#endif
