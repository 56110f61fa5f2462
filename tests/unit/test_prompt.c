/* SPDX-License-Identifier: Apache-2.0 */
/* The prompt protocol: assembling parts, limits, prompts, splitting. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "jwt.h"
#include "prompt.h"

static void test_one_part(void **state) {
  struct wif_prompt_reader r;
  char prompt[64];
  (void)state;
  assert_int_equal(wif_prompt_reader_init(&r), WIF_OK);
  wif_prompt_reader_prompt(&r, prompt, sizeof(prompt));
  assert_string_equal(prompt, "Workload identity token: ");
  assert_int_equal(wif_prompt_reader_add(&r, "a.b.c", NULL), WIF_OK);
  assert_true(r.done);
  assert_string_equal(r.buf, "a.b.c");
  assert_int_equal(r.parts, 1);
  /* Nothing more is taken once the token is complete. */
  assert_int_equal(wif_prompt_reader_add(&r, "x", NULL), WIF_E_INTERNAL);
  wif_prompt_reader_clear(&r);
}

static void test_parts_and_prompts(void **state) {
  static const char *answers[] = {"aa\\", "bb\\", "", "\\", "cc"};
  struct wif_prompt_reader r;
  char prompt[64];
  (void)state;
  assert_int_equal(wif_prompt_reader_init(&r), WIF_OK);
  for (size_t i = 0; i < 3; i++) {
    assert_int_equal(wif_prompt_reader_add(&r, answers[i], NULL), WIF_OK);
    assert_int_equal(r.done, i == 2);
  }
  /* "" ends the token: an empty last part is allowed. */
  assert_true(r.done);
  assert_string_equal(r.buf, "aabb");
  wif_prompt_reader_clear(&r);

  assert_int_equal(wif_prompt_reader_init(&r), WIF_OK);
  assert_int_equal(wif_prompt_reader_add(&r, "\\", NULL), WIF_OK);
  wif_prompt_reader_prompt(&r, prompt, sizeof(prompt));
  assert_string_equal(prompt, "Workload identity token (part 2): ");
  assert_int_equal(wif_prompt_reader_add(&r, answers[4], NULL), WIF_OK);
  assert_string_equal(r.buf, "cc");
  wif_prompt_reader_clear(&r);
}

static void test_64_parts_and_no_more(void **state) {
  struct wif_prompt_reader r;
  (void)state;
  assert_int_equal(wif_prompt_reader_init(&r), WIF_OK);
  for (int i = 1; i < 64; i++)
    assert_int_equal(wif_prompt_reader_add(&r, "x\\", NULL), WIF_OK);
  assert_int_equal(wif_prompt_reader_add(&r, "y", NULL), WIF_OK);
  assert_true(r.done);
  assert_int_equal(r.parts, 64);
  wif_prompt_reader_clear(&r);

  assert_int_equal(wif_prompt_reader_init(&r), WIF_OK);
  for (int i = 1; i < 64; i++)
    assert_int_equal(wif_prompt_reader_add(&r, "x\\", NULL), WIF_OK);
  assert_int_equal(wif_prompt_reader_add(&r, "x\\", NULL), WIF_E_TOO_LARGE);
  wif_prompt_reader_clear(&r);
}

static void test_16_kib_limit(void **state) {
  struct wif_prompt_reader r;
  char *big = malloc(WIF_TOKEN_MAX + 3);
  struct wif_error err;
  (void)state;
  memset(big, 'a', WIF_TOKEN_MAX + 2);
  big[WIF_TOKEN_MAX] = '\0';
  assert_int_equal(wif_prompt_reader_init(&r), WIF_OK);
  assert_int_equal(wif_prompt_reader_add(&r, big, NULL), WIF_OK);
  assert_int_equal(r.len, WIF_TOKEN_MAX);
  wif_prompt_reader_clear(&r);

  /* One byte over, in two parts. */
  assert_int_equal(wif_prompt_reader_init(&r), WIF_OK);
  big[WIF_TOKEN_MAX] = '\\';
  big[WIF_TOKEN_MAX + 1] = '\0';
  assert_int_equal(wif_prompt_reader_add(&r, big, NULL), WIF_OK);
  assert_int_equal(wif_prompt_reader_add(&r, "a", &err), WIF_E_TOO_LARGE);
  assert_non_null(strstr(err.msg, "16384"));
  wif_prompt_reader_clear(&r);

  /* A huge single answer is refused without reading it all. */
  big[WIF_TOKEN_MAX] = 'a';
  big[WIF_TOKEN_MAX + 2] = '\0';
  assert_int_equal(wif_prompt_reader_init(&r), WIF_OK);
  assert_int_equal(wif_prompt_reader_add(&r, big, NULL), WIF_E_TOO_LARGE);
  wif_prompt_reader_clear(&r);
  free(big);
}

static void test_part_numbers(void **state) {
  (void)state;
  assert_int_equal(wif_prompt_part_number("Workload identity token: "), 1);
  assert_int_equal(wif_prompt_part_number("Workload identity token:"), 1);
  assert_int_equal(
      wif_prompt_part_number("(alice@db1) Workload identity token: "), 1);
  assert_int_equal(wif_prompt_part_number("Workload identity token (part 2): "),
                   2);
  assert_int_equal(
      wif_prompt_part_number("(a@h) Workload identity token (part 64): "), 64);
  assert_int_equal(
      wif_prompt_part_number("Workload identity token (part 65): "), 0);
  assert_int_equal(wif_prompt_part_number("Workload identity token (part 1): "),
                   0);
  assert_int_equal(
      wif_prompt_part_number("Workload identity token (part 02): "), 0);
  assert_int_equal(
      wif_prompt_part_number("Workload identity token (part 2): x"), 0);
  assert_int_equal(wif_prompt_part_number("Password: "), 0);
  assert_int_equal(wif_prompt_part_number("(alice@db1 Password: "), 0);
  assert_int_equal(
      wif_prompt_part_number("Are you sure you want to continue connecting"),
      0);
  assert_int_equal(wif_prompt_part_number(NULL), 0);
}

static void test_split_and_reassemble(void **state) {
  static const size_t sizes[] = {0, 1, 998, 999, 1000, 2500, 16384};
  char *token = malloc(16385);
  (void)state;
  for (size_t i = 0; i < 16384; i++)
    token[i] = (char)('a' + i % 26);
  for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
    struct wif_prompt_reader r;
    size_t off, n;
    bool more = true;
    char answer[WIF_PROMPT_PART_MAX + 2];

    assert_int_equal(wif_prompt_reader_init(&r), WIF_OK);
    for (unsigned part = 1; more; part++) {
      assert_true(wif_prompt_part_span(sizes[s], part, &off, &n, &more));
      assert_true(n <= WIF_PROMPT_PART_MAX);
      memcpy(answer, token + off, n);
      if (more)
        answer[n++] = '\\';
      answer[n] = '\0';
      assert_true(strlen(answer) <= 1000);
      assert_int_equal(wif_prompt_reader_add(&r, answer, NULL), WIF_OK);
    }
    assert_true(r.done);
    assert_int_equal(r.len, sizes[s]);
    assert_memory_equal(r.buf, token, sizes[s]);
    wif_prompt_reader_clear(&r);
  }
  /* 64 parts of 999 bytes is the most a client can send. */
  size_t off, n;
  bool more;
  assert_true(wif_prompt_part_span(64 * 999, 64, &off, &n, &more));
  assert_false(more);
  assert_false(wif_prompt_part_span(64 * 999 + 1, 1, &off, &n, &more));
  assert_false(wif_prompt_part_span(10, 2, &off, &n, &more));
  assert_false(wif_prompt_part_span(10, 0, &off, &n, &more));
  free(token);
}

/* sshd's stand-in answer, cut lengths, and a token's shape. */
static void test_caller_signs(void **state) {
  static const char junk[] = "\b\n\r\177INCORRECT";
  char buf[40];

  (void)state;
  for (size_t i = 0; i < sizeof(buf); i++)
    buf[i] = junk[i % 13];
  assert_true(wif_prompt_sshd_refused(buf, 1));
  assert_true(wif_prompt_sshd_refused(buf, 13));
  assert_true(wif_prompt_sshd_refused(buf, sizeof(buf)));
  assert_false(wif_prompt_sshd_refused(buf, 0));
  assert_false(wif_prompt_sshd_refused(NULL, 3));
  assert_false(wif_prompt_sshd_refused("\b\n\rX", 4));
  assert_false(wif_prompt_sshd_refused("INCORRECT", 9)); /* not at 0 */
  buf[20] = 'x';
  assert_false(wif_prompt_sshd_refused(buf, sizeof(buf)));

  assert_true(wif_prompt_cut_length(1023));
  assert_true(wif_prompt_cut_length(511));
  assert_false(wif_prompt_cut_length(1022));
  assert_false(wif_prompt_cut_length(1024));
  assert_false(wif_prompt_cut_length(512));

  assert_true(wif_prompt_looks_like_token("a.b.c", 5));
  assert_true(wif_prompt_looks_like_token("eyJ-_9.x.", 9));
  assert_true(wif_prompt_looks_like_token("a.b.c.d.e", 9)); /* JWE */
  assert_false(wif_prompt_looks_like_token("a.b", 3));
  assert_false(wif_prompt_looks_like_token("", 0));
  assert_false(wif_prompt_looks_like_token("pass word.x.y", 13));
  assert_false(wif_prompt_looks_like_token("a.b.c=", 6));
  assert_false(wif_prompt_looks_like_token("a.b.c\n", 6));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_one_part),
      cmocka_unit_test(test_parts_and_prompts),
      cmocka_unit_test(test_64_parts_and_no_more),
      cmocka_unit_test(test_16_kib_limit),
      cmocka_unit_test(test_part_numbers),
      cmocka_unit_test(test_split_and_reassemble),
      cmocka_unit_test(test_caller_signs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
