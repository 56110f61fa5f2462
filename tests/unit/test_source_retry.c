/* SPDX-License-Identifier: Apache-2.0 */
/* Retry schedules of the token sources (SECURITY-CASES K1, K2): back-off
 * with jitter, Retry-After, the 410 window and the time budget, on a fake
 * clock so nothing really waits. */
#include "source_testutil.h"

#include "retry.h"

static const struct wif_retry_policy azure = {3,     1000,  8000,
                                              10000, 70000, 75000};

/* K2: 1 -> 2 -> 4 s nominal, at most 3 retries; equal jitter keeps each
 * delay within [d/2, d]. */
static void test_backoff_bounds(void **state) {
  struct fake_clock fc = {0};
  struct wif_clock k = fake_clock_of(&fc);
  struct wif_retry r;
  int64_t d = 0;

  (void)state;
  for (uint32_t rnd = 0; rnd < 3; rnd++) {
    memset(&fc, 0, sizeof(fc));
    fc.rnd = rnd == 0 ? 0 : (rnd == 1 ? 0xffffffffu : 12345u);
    wif_retry_start(&r, &azure, &k);
    for (int i = 0; i < 3; i++) {
      int64_t nominal = 1000 << i;

      assert_true(wif_retry_wait(&r, WIF_RETRY_BACKOFF, -1, &d));
      assert_true(d >= nominal / 2 && d <= nominal);
    }
    assert_false(wif_retry_wait(&r, WIF_RETRY_BACKOFF, -1, &d));
    assert_int_equal(d, 0);
    assert_int_equal(fc.n_delays, 3);
  }
}

static void test_backoff_exact_with_zero_jitter(void **state) {
  struct fake_clock fc = {0};
  struct wif_clock k = fake_clock_of(&fc);
  struct wif_retry r;

  (void)state;
  wif_retry_start(&r, &azure, &k);
  for (int i = 0; i < 3; i++)
    assert_true(wif_retry_wait(&r, WIF_RETRY_BACKOFF, -1, NULL));
  assert_int_equal(fc.delays[0], 500);
  assert_int_equal(fc.delays[1], 1000);
  assert_int_equal(fc.delays[2], 2000);
}

/* 429 with Retry-After: the server's delay replaces the back-off. */
static void test_retry_after_honoured(void **state) {
  struct fake_clock fc = {0};
  struct wif_clock k = fake_clock_of(&fc);
  struct wif_retry r;
  int64_t d = 0;

  (void)state;
  wif_retry_start(&r, &azure, &k);
  assert_true(wif_retry_wait(&r, WIF_RETRY_BACKOFF, 7000, &d));
  assert_int_equal(d, 7000);
  assert_int_equal(fc.now, 7000);
}

/* A Retry-After beyond the budget ends the loop without sleeping. */
static void test_retry_after_beyond_budget(void **state) {
  struct fake_clock fc = {0};
  struct wif_clock k = fake_clock_of(&fc);
  struct wif_retry r;

  (void)state;
  wif_retry_start(&r, &azure, &k);
  assert_false(wif_retry_wait(&r, WIF_RETRY_BACKOFF, 3600000, NULL));
  assert_int_equal(fc.n_delays, 0);
  assert_int_equal(fc.now, 0);
}

/* K1: 410 retried every 10 s while within 70 s: 7 retries, then stop. */
static void test_gone_window(void **state) {
  struct fake_clock fc = {0};
  struct wif_clock k = fake_clock_of(&fc);
  struct wif_retry r;
  int n = 0;

  (void)state;
  wif_retry_start(&r, &azure, &k);
  while (wif_retry_wait(&r, WIF_RETRY_GONE, -1, NULL))
    n++;
  assert_int_equal(n, 7);
  for (size_t i = 0; i < fc.n_delays; i++)
    assert_int_equal(fc.delays[i], 10000);
  assert_int_equal(fc.now, 70000);
}

/* Requests take time too: elapsed time counts against the window. */
static void test_gone_window_counts_request_time(void **state) {
  struct fake_clock fc = {0};
  struct wif_clock k = fake_clock_of(&fc);
  struct wif_retry r;
  int n = 0;

  (void)state;
  wif_retry_start(&r, &azure, &k);
  for (;;) {
    fc.now += 2000; /* each request takes 2 s */
    if (!wif_retry_wait(&r, WIF_RETRY_GONE, -1, NULL))
      break;
    n++;
  }
  assert_int_equal(n, 5); /* 12, 24, 36, 48, 60; 72 > 70 */
  assert_true(fc.now <= 72000);
}

/* K1 "only if the time budget allows": a smaller budget (pam_wif's) cuts
 * the 410 schedule short. */
static void test_budget_limits_gone(void **state) {
  struct wif_retry_policy p = azure;
  struct fake_clock fc = {0};
  struct wif_clock k = fake_clock_of(&fc);
  struct wif_retry r;
  int n = 0;

  (void)state;
  p.budget_ms = 25000;
  wif_retry_start(&r, &p, &k);
  while (wif_retry_wait(&r, WIF_RETRY_GONE, -1, NULL))
    n++;
  assert_int_equal(n, 2);
  assert_int_equal(wif_retry_remaining_ms(&r), 5000);
}

/* No 410 retries for sources without a gone policy (GCP, GitHub). */
static void test_gone_disabled(void **state) {
  struct wif_retry_policy p = azure;
  struct fake_clock fc = {0};
  struct wif_clock k = fake_clock_of(&fc);
  struct wif_retry r;

  (void)state;
  p.gone_delay_ms = 0;
  wif_retry_start(&r, &p, &k);
  assert_false(wif_retry_wait(&r, WIF_RETRY_GONE, -1, NULL));
}

static void test_max_delay_cap(void **state) {
  struct wif_retry_policy p = {10, 1000, 3000, 0, 0, 1000000};
  struct fake_clock fc = {0};
  struct wif_clock k = fake_clock_of(&fc);
  struct wif_retry r;

  (void)state;
  fc.rnd = 0xffffffffu;
  wif_retry_start(&r, &p, &k);
  for (int i = 0; i < 10; i++)
    assert_true(wif_retry_wait(&r, WIF_RETRY_BACKOFF, -1, NULL));
  for (size_t i = 0; i < fc.n_delays; i++)
    assert_true(fc.delays[i] <= 3000);
  assert_false(wif_retry_wait(&r, WIF_RETRY_BACKOFF, -1, NULL));
}

static void test_parse_retry_after(void **state) {
  int64_t ms = 0;

  (void)state;
  assert_true(wif_retry_parse_after("2", &ms));
  assert_int_equal(ms, 2000);
  assert_true(wif_retry_parse_after("0", &ms));
  assert_int_equal(ms, 0);
  assert_true(wif_retry_parse_after("30 \r", &ms));
  assert_int_equal(ms, 30000);
  assert_true(wif_retry_parse_after("999999999999", &ms));
  assert_int_equal(ms, 3600000);
  assert_false(wif_retry_parse_after("-1", &ms));
  assert_int_equal(ms, -1);
  assert_false(wif_retry_parse_after("Wed, 21 Oct 2015 07:28:00 GMT", &ms));
  assert_false(wif_retry_parse_after("1.5", &ms));
  assert_false(wif_retry_parse_after("", &ms));
  assert_false(wif_retry_parse_after(NULL, &ms));
  assert_false(wif_retry_parse_after("99999999999999999999999", &ms));
}

/* The system clock is monotonic and really sleeps. */
static void test_system_clock(void **state) {
  const struct wif_clock *c = wif_retry_system_clock();
  int64_t a = c->now_ms(c->ctx);

  (void)state;
  c->sleep_ms(c->ctx, 20);
  assert_true(c->now_ms(c->ctx) - a >= 20);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_backoff_bounds),
      cmocka_unit_test(test_backoff_exact_with_zero_jitter),
      cmocka_unit_test(test_retry_after_honoured),
      cmocka_unit_test(test_retry_after_beyond_budget),
      cmocka_unit_test(test_gone_window),
      cmocka_unit_test(test_gone_window_counts_request_time),
      cmocka_unit_test(test_budget_limits_gone),
      cmocka_unit_test(test_gone_disabled),
      cmocka_unit_test(test_max_delay_cap),
      cmocka_unit_test(test_parse_retry_after),
      cmocka_unit_test(test_system_clock),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
