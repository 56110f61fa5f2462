/* SPDX-License-Identifier: Apache-2.0 */
/* Back-off schedules for the token sources, with jitter and a time budget. */
#include "retry.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <time.h>

#include <openssl/rand.h>

#define RETRY_AFTER_MAX_MS INT64_C(3600000)

static int64_t sys_now_ms(void *ctx) {
  struct timespec ts;

  (void)ctx;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
    return 0;
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sys_sleep_ms(void *ctx, int64_t ms) {
  struct timespec ts;

  (void)ctx;
  if (ms <= 0)
    return;
  ts.tv_sec = (time_t)(ms / 1000);
  ts.tv_nsec = (long)(ms % 1000) * 1000000L;
  /* A signal cuts the wait short; the caller re-checks its budget. */
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
}

static uint32_t sys_random(void *ctx) {
  unsigned char b[4] = {0, 0, 0, 0};

  (void)ctx;
  /* Jitter only spreads load; a failed RAND_bytes leaves it fixed. */
  (void)RAND_bytes(b, (int)sizeof(b));
  return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 |
         (uint32_t)b[3];
}

static const struct wif_clock system_clock = {sys_now_ms, sys_sleep_ms,
                                              sys_random, NULL};

const struct wif_clock *wif_retry_system_clock(void) {
  return &system_clock;
}

void wif_retry_start(struct wif_retry *r, const struct wif_retry_policy *p,
                     const struct wif_clock *clock) {
  r->policy = p;
  r->clock = clock != NULL ? clock : &system_clock;
  r->start_ms = r->clock->now_ms(r->clock->ctx);
  r->retries = 0;
}

static int64_t elapsed_ms(const struct wif_retry *r) {
  int64_t d = r->clock->now_ms(r->clock->ctx) - r->start_ms;

  return d < 0 ? 0 : d;
}

int64_t wif_retry_remaining_ms(const struct wif_retry *r) {
  int64_t left = r->policy->budget_ms - elapsed_ms(r);

  return left > 0 ? left : 0;
}

static int64_t backoff_ms(struct wif_retry *r) {
  const struct wif_retry_policy *p = r->policy;
  int64_t d = p->base_ms;
  int64_t half;

  for (unsigned i = 0; i < r->retries && d < p->max_delay_ms; i++)
    d *= 2;
  if (d > p->max_delay_ms)
    d = p->max_delay_ms;
  /* Equal jitter: clients that failed together do not retry together,
   * and none retries sooner than half the nominal delay. */
  half = d / 2;
  return half +
         (int64_t)(r->clock->random(r->clock->ctx) % (uint32_t)(half + 1));
}

bool wif_retry_wait(struct wif_retry *r, enum wif_retry_kind kind,
                    int64_t retry_after_ms, int64_t *out_delay_ms) {
  const struct wif_retry_policy *p = r->policy;
  int64_t delay;
  int64_t elapsed = elapsed_ms(r);

  if (out_delay_ms != NULL)
    *out_delay_ms = 0;
  if (kind == WIF_RETRY_GONE) {
    if (p->gone_delay_ms <= 0)
      return false;
    delay = p->gone_delay_ms;
    if (elapsed + delay > p->gone_window_ms)
      return false;
  } else {
    if (r->retries >= p->max_retries)
      return false;
    delay = retry_after_ms >= 0 ? retry_after_ms : backoff_ms(r);
    r->retries++;
  }
  /* Sleeping past the budget would only end in a failure later. */
  if (elapsed + delay > p->budget_ms)
    return false;
  r->clock->sleep_ms(r->clock->ctx, delay);
  if (out_delay_ms != NULL)
    *out_delay_ms = delay;
  return true;
}

bool wif_retry_parse_after(const char *value, int64_t *out_ms) {
  char *end = NULL;
  long long s;

  *out_ms = -1;
  if (value == NULL || *value < '0' || *value > '9')
    return false;
  errno = 0;
  s = strtoll(value, &end, 10);
  while (end != NULL && (*end == ' ' || *end == '\t' || *end == '\r'))
    end++;
  if (end == NULL || *end != '\0' || (errno == ERANGE && s == LLONG_MAX))
    return false;
  if (s < 0)
    return false;
  *out_ms =
      s > RETRY_AFTER_MAX_MS / 1000 ? RETRY_AFTER_MAX_MS : (int64_t)s * 1000;
  return true;
}
