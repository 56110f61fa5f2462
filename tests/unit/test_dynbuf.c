/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for dynbuf.c and wipe.c: the size cap, growth, sticky
 * failures, and that a secret's memory is wiped before it is freed.
 *
 * Linked with -Wl,--wrap=free,--wrap=malloc,--wrap=realloc (CMake): free
 * copies a watched allocation before releasing it, so a test can see what
 * it held when it was freed; malloc and realloc fail when told to. */
#include "testutil.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dynbuf.h"
#include "wipe.h"

void *__real_malloc(size_t n);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_realloc(void *p, size_t n);
void __wrap_free(void *p);

#define SNAPSHOT_MAX 4096

static const void *watch_ptr; /* the allocation to copy when freed */
static size_t watch_len;      /* how many of its bytes */
static bool watch_hit;        /* it was freed */
static unsigned char snapshot[SNAPSHOT_MAX];
static bool fail_alloc; /* the next malloc or realloc fails */

void *__wrap_malloc(size_t n) {
  if (fail_alloc) {
    fail_alloc = false;
    return NULL;
  }
  return __real_malloc(n);
}

void *__wrap_realloc(void *p, size_t n) {
  if (fail_alloc) {
    fail_alloc = false;
    return NULL;
  }
  return __real_realloc(p, n);
}

void __wrap_free(void *p) {
  if (p != NULL && p == watch_ptr) {
    memcpy(snapshot, p, watch_len);
    watch_hit = true;
    watch_ptr = NULL;
  }
  __real_free(p);
}

static void watch(const void *p, size_t n) {
  assert_true(n <= SNAPSHOT_MAX);
  watch_ptr = p;
  watch_len = n;
  watch_hit = false;
  memset(snapshot, 0xAA, sizeof(snapshot));
}

/* The watched allocation was freed holding only zero bytes. */
static void assert_wiped(void) {
  assert_true(watch_hit);
  for (size_t i = 0; i < watch_len; i++)
    if (snapshot[i] != 0)
      fail_msg("byte %zu of %zu was 0x%02x when freed", i, watch_len,
               snapshot[i]);
}

static void test_add(void **state) {
  struct wif_dynbuf b;
  char *out;
  size_t len;

  (void)state;
  wif_dynbuf_init(&b, 1024, false);
  assert_null(b.p);
  assert_int_equal(wif_dynbuf_add(&b, "ab", 2), WIF_OK);
  assert_int_equal(wif_dynbuf_add(&b, NULL, 0), WIF_OK);
  assert_int_equal(wif_dynbuf_add_str(&b, "cd"), WIF_OK);
  assert_int_equal(wif_dynbuf_addf(&b, "-%d-%s", 42, "x"), WIF_OK);
  assert_int_equal(b.len, 9);
  assert_string_equal(b.p, "abcd-42-x");
  /* Bytes, not strings: a NUL inside is kept. */
  assert_int_equal(wif_dynbuf_add(&b, "\0z", 2), WIF_OK);
  assert_int_equal(b.len, 11);
  assert_memory_equal(b.p + 9, "\0z", 3);
  assert_int_equal(wif_dynbuf_take(&b, &out, &len), WIF_OK);
  assert_int_equal(len, 11);
  assert_memory_equal(out, "abcd-42-x\0z", 12);
  assert_null(b.p);
  assert_int_equal(b.len, 0);
  free(out);
  /* Reusable after take. */
  assert_int_equal(wif_dynbuf_add_str(&b, "again"), WIF_OK);
  assert_string_equal(b.p, "again");
  wif_dynbuf_free(&b);
  assert_null(b.p);
}

static void test_take_empty(void **state) {
  struct wif_dynbuf b;
  char *out = NULL;
  size_t len = 99;

  (void)state;
  wif_dynbuf_init(&b, 0, true);
  assert_int_equal(wif_dynbuf_take(&b, &out, &len), WIF_OK);
  assert_non_null(out);
  assert_string_equal(out, "");
  assert_int_equal(len, 0);
  free(out);
  /* max 0: nothing at all fits. */
  assert_int_equal(wif_dynbuf_add(&b, "x", 1), WIF_E_TOO_LARGE);
  wif_dynbuf_free(&b);
}

static void test_cap(void **state) {
  struct wif_dynbuf b;
  static char sentinel[] = "untouched";
  char *out = sentinel;
  size_t len = 7;

  (void)state;
  wif_dynbuf_init(&b, 10, false);
  assert_int_equal(wif_dynbuf_add(&b, "0123456789", 10), WIF_OK);
  assert_true(b.cap <= 11);
  assert_int_equal(wif_dynbuf_add(&b, "x", 1), WIF_E_TOO_LARGE);
  /* The failure is remembered and the content is gone. */
  assert_null(b.p);
  assert_int_equal(b.len, 0);
  assert_int_equal(b.failed, WIF_E_TOO_LARGE);
  assert_int_equal(wif_dynbuf_add(&b, "", 0), WIF_E_TOO_LARGE);
  assert_int_equal(wif_dynbuf_add_str(&b, "y"), WIF_E_TOO_LARGE);
  assert_int_equal(wif_dynbuf_take(&b, &out, &len), WIF_E_TOO_LARGE);
  assert_null(out);
  assert_int_equal(len, 0);
  /* Freeing forgets the failure. */
  wif_dynbuf_free(&b);
  assert_int_equal(wif_dynbuf_add_str(&b, "fine"), WIF_OK);
  assert_string_equal(b.p, "fine");
  wif_dynbuf_free(&b);
}

static void test_addf_cap(void **state) {
  struct wif_dynbuf b;

  (void)state;
  wif_dynbuf_init(&b, 8, false);
  assert_int_equal(wif_dynbuf_addf(&b, "%s", "12345678"), WIF_OK);
  wif_dynbuf_free(&b);
  assert_int_equal(wif_dynbuf_addf(&b, "%s", "123456789"), WIF_E_TOO_LARGE);
  assert_null(b.p);
  wif_dynbuf_free(&b);
}

/* Growth doubles but never allocates past max + 1, one byte at a time or
 * in large steps. */
static void test_growth_bounded(void **state) {
  struct wif_dynbuf b;
  char big[3000];

  (void)state;
  memset(big, 'q', sizeof(big));
  wif_dynbuf_init(&b, 1000, false);
  for (size_t i = 0; i < 1000; i++) {
    assert_int_equal(wif_dynbuf_add(&b, "z", 1), WIF_OK);
    assert_true(b.cap >= b.len + 1);
    assert_true(b.cap <= 1001);
  }
  assert_int_equal(b.len, 1000);
  assert_int_equal(b.p[1000], '\0');
  wif_dynbuf_free(&b);
  assert_int_equal(wif_dynbuf_add(&b, big, 999), WIF_OK);
  assert_true(b.cap <= 1001);
  assert_int_equal(wif_dynbuf_add(&b, big, 2), WIF_E_TOO_LARGE);
  wif_dynbuf_free(&b);
}

/* Lengths near SIZE_MAX fail cleanly instead of wrapping around. */
static void test_overflow(void **state) {
  struct wif_dynbuf b;
  char c = 'c';

  (void)state;
  wif_dynbuf_init(&b, SIZE_MAX, false);
  assert_true(b.max < SIZE_MAX / 2);
  assert_int_equal(wif_dynbuf_add(&b, &c, 1), WIF_OK);
  assert_int_equal(wif_dynbuf_reserve(&b, SIZE_MAX), WIF_E_TOO_LARGE);
  wif_dynbuf_free(&b);
  assert_int_equal(wif_dynbuf_add(&b, &c, 1), WIF_OK);
  assert_int_equal(wif_dynbuf_reserve(&b, SIZE_MAX - 1), WIF_E_TOO_LARGE);
  wif_dynbuf_free(&b);
  assert_int_equal(wif_dynbuf_reserve(&b, SIZE_MAX / 2), WIF_E_TOO_LARGE);
  wif_dynbuf_free(&b);
}

static void test_reserve(void **state) {
  struct wif_dynbuf b;

  (void)state;
  wif_dynbuf_init(&b, 100, false);
  assert_int_equal(wif_dynbuf_reserve(&b, 80), WIF_OK);
  assert_true(b.cap >= 81);
  assert_true(b.cap <= 101);
  assert_int_equal(b.len, 0);
  assert_string_equal(b.p, "");
  assert_int_equal(wif_dynbuf_add(&b, "abc", 3), WIF_OK);
  assert_int_equal(wif_dynbuf_reserve(&b, 98), WIF_E_TOO_LARGE);
  wif_dynbuf_free(&b);
}

static void test_nomem(void **state) {
  struct wif_dynbuf b;
  char *out = NULL;
  size_t len = 0;

  (void)state;
  /* A first allocation (malloc for a secret, realloc otherwise). */
  for (int secret = 0; secret <= 1; secret++) {
    wif_dynbuf_init(&b, 1 << 20, secret != 0);
    fail_alloc = true;
    assert_int_equal(wif_dynbuf_add_str(&b, "a"), WIF_E_NOMEM);
    assert_false(fail_alloc);
    assert_int_equal(wif_dynbuf_add_str(&b, "b"), WIF_E_NOMEM);
    assert_int_equal(wif_dynbuf_take(&b, &out, &len), WIF_E_NOMEM);
    assert_null(out);
    wif_dynbuf_free(&b);
  }
  /* A growth: the content already there is released, wiped if secret. */
  wif_dynbuf_init(&b, 1 << 20, true);
  assert_int_equal(wif_dynbuf_add_str(&b, "secret"), WIF_OK);
  watch(b.p, b.cap);
  fail_alloc = true;
  assert_int_equal(wif_dynbuf_reserve(&b, 4096), WIF_E_NOMEM);
  assert_wiped();
  assert_null(b.p);
  wif_dynbuf_free(&b);
  /* take after an empty buffer whose only allocation fails. */
  wif_dynbuf_init(&b, 16, false);
  fail_alloc = true;
  assert_int_equal(wif_dynbuf_take(&b, &out, &len), WIF_E_NOMEM);
  assert_null(out);
  wif_dynbuf_free(&b);
}

/* A secret's outgrown allocation is wiped before it is freed. */
static void test_secret_growth_wipes(void **state) {
  struct wif_dynbuf b;
  char chunk[40];
  size_t old_cap;

  (void)state;
  memset(chunk, 'S', sizeof(chunk));
  wif_dynbuf_init(&b, 4096, true);
  assert_int_equal(wif_dynbuf_add(&b, chunk, sizeof(chunk)), WIF_OK);
  old_cap = b.cap;
  watch(b.p, old_cap);
  while (b.cap == old_cap)
    assert_int_equal(wif_dynbuf_add(&b, chunk, sizeof(chunk)), WIF_OK);
  assert_wiped();
  /* The content moved intact. */
  for (size_t i = 0; i < b.len; i++)
    assert_int_equal(b.p[i], 'S');
  watch(b.p, b.cap);
  wif_dynbuf_free(&b);
  assert_wiped();
}

/* A failure on a secret wipes what the buffer held. */
static void test_secret_failure_wipes(void **state) {
  struct wif_dynbuf b;

  (void)state;
  wif_dynbuf_init(&b, 10, true);
  assert_int_equal(wif_dynbuf_add_str(&b, "hunter2"), WIF_OK);
  watch(b.p, b.cap);
  assert_int_equal(wif_dynbuf_add_str(&b, "toolong"), WIF_E_TOO_LARGE);
  assert_wiped();
  wif_dynbuf_free(&b);
}

/* Not a secret: realloc keeps the content (nothing to wipe). */
static void test_plain_free(void **state) {
  struct wif_dynbuf b;

  (void)state;
  wif_dynbuf_init(&b, 100, false);
  assert_int_equal(wif_dynbuf_add_str(&b, "public"), WIF_OK);
  watch(b.p, 6);
  wif_dynbuf_free(&b);
  assert_true(watch_hit);
  assert_memory_equal(snapshot, "public", 6);
  wif_dynbuf_free(NULL);
}

static void test_wipe_free(void **state) {
  unsigned char *p = malloc(64);
  char *s = strdup("a token");

  (void)state;
  assert_non_null(p);
  assert_non_null(s);
  memset(p, 0x5A, 64);
  watch(p, 64);
  wif_wipe_free(p, 64);
  assert_wiped();
  /* The string and its terminator. */
  s[7] = '\0';
  watch(s, 8);
  wif_wipe_free_str(s);
  assert_wiped();
  /* NULL does nothing. */
  watch(NULL, 0);
  wif_wipe_free(NULL, 100);
  wif_wipe_free_str(NULL);
  assert_false(watch_hit);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_add),
      cmocka_unit_test(test_take_empty),
      cmocka_unit_test(test_cap),
      cmocka_unit_test(test_addf_cap),
      cmocka_unit_test(test_growth_bounded),
      cmocka_unit_test(test_overflow),
      cmocka_unit_test(test_reserve),
      cmocka_unit_test(test_nomem),
      cmocka_unit_test(test_secret_growth_wipes),
      cmocka_unit_test(test_secret_failure_wipes),
      cmocka_unit_test(test_plain_free),
      cmocka_unit_test(test_wipe_free),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
