/* SPDX-License-Identifier: Apache-2.0 */
/* Retry schedules: exponential back-off with jitter on an injectable clock. */
#ifndef WIF_RETRY_H
#define WIF_RETRY_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Time and randomness for retry loops. Tests inject a clock whose sleep
 * only advances a counter, so a 70-second schedule runs in microseconds and
 * its delays can be asserted. All members are required.
 */
struct wif_clock {
  int64_t (*now_ms)(void *ctx);            /* monotonic milliseconds */
  void (*sleep_ms)(void *ctx, int64_t ms); /* may return early on EINTR */
  uint32_t (*random)(void *ctx);           /* uniform, for jitter */
  void *ctx;
};

/* CLOCK_MONOTONIC, nanosleep and OpenSSL's RAND_bytes. Static storage. */
const struct wif_clock *wif_retry_system_clock(void);

/*
 * A source's schedule. Ordinary retries (429, 5xx, Azure's 404) wait
 * base_ms, 2 * base_ms, 4 * base_ms, ... (at most max_delay_ms each) with
 * "equal jitter" (half fixed, half random), at most max_retries times.
 * "Gone" retries (Azure's 410, SECURITY-CASES K1) wait gone_delay_ms each
 * and go on while the elapsed time stays within gone_window_ms. Nothing
 * ever sleeps past budget_ms after wif_retry_start: a wait that would end
 * later is not started.
 */
struct wif_retry_policy {
  unsigned max_retries;
  int64_t base_ms;
  int64_t max_delay_ms;
  int64_t gone_delay_ms;  /* 0: a 410 is not retried */
  int64_t gone_window_ms; /* e.g. 70000 for Azure IMDS */
  int64_t budget_ms;      /* the whole operation, requests included */
};

enum wif_retry_kind {
  WIF_RETRY_BACKOFF, /* 404 (Azure), 429, 5xx */
  WIF_RETRY_GONE     /* 410 (Azure) */
};

/* State of one retry loop; policy and clock are borrowed for its life. */
struct wif_retry {
  const struct wif_retry_policy *policy;
  const struct wif_clock *clock;
  int64_t start_ms;
  unsigned retries; /* ordinary retries done */
};

/* Starts the budget now. clock NULL means the system clock. */
void wif_retry_start(struct wif_retry *r, const struct wif_retry_policy *p,
                     const struct wif_clock *clock);

/*
 * Decides on one more attempt after a retryable answer and waits for it.
 * retry_after_ms is the server's Retry-After (negative when absent); it
 * replaces the computed back-off. Returns true after waiting (the delay in
 * *out_delay_ms when not NULL); false, without waiting, when the count or
 * the budget would be exceeded.
 */
bool wif_retry_wait(struct wif_retry *r, enum wif_retry_kind kind,
                    int64_t retry_after_ms, int64_t *out_delay_ms);

/* Milliseconds left of the budget (0 when spent). */
int64_t wif_retry_remaining_ms(const struct wif_retry *r);

/*
 * Parses a Retry-After value given in seconds (RFC 9110 delay-seconds; an
 * HTTP-date is not accepted and gives false). Values above one hour are
 * clamped to one hour.
 */
bool wif_retry_parse_after(const char *value, int64_t *out_ms);

#endif
