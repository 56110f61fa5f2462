/* SPDX-License-Identifier: Apache-2.0 */
/* The monotonic clock every deadline and cooldown is measured on. */
#include "clock.h"

#include <time.h>

int64_t wif_clock_mono_ms(void) {
  struct timespec ts;

  (void)clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void wif_clock_sleep_ms(int64_t ms) {
  struct timespec ts;

  if (ms <= 0)
    return;
  ts.tv_sec = (time_t)(ms / 1000);
  ts.tv_nsec = (long)(ms % 1000) * 1000000L;
  (void)nanosleep(&ts, NULL);
}
