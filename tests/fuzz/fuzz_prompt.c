/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes both sides of the prompt protocol: assembling answers into a
 * token, and reading a part number out of a server's prompt. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "jwt.h"
#include "prompt.h"

/*
 * The input is a run of answers separated by newlines, as a person or
 * askpass would give them. Invariants: the token never passes its limits;
 * a finished token split back into parts and reassembled is the same; a
 * part number is always within 0..WIF_PROMPT_PARTS_MAX.
 */

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  return 0;
}

static void round_trip(const char *token, size_t len) {
  struct wif_prompt_reader r;
  char answer[WIF_PROMPT_PART_MAX + 2];
  size_t off, n;
  bool more = true;

  if (wif_prompt_reader_init(&r) != WIF_OK)
    return;
  for (unsigned part = 1; more; part++) {
    if (!wif_prompt_part_span(len, part, &off, &n, &more))
      fuzz_fail("no part %u of a %zu-byte token", part, len);
    memcpy(answer, token + off, n);
    if (more)
      answer[n++] = '\\';
    answer[n] = '\0';
    if (wif_prompt_reader_add(&r, answer, NULL) != WIF_OK)
      fuzz_fail("part %u of a valid split refused", part);
  }
  if (!r.done || r.len != len || memcmp(r.buf, token, len) != 0)
    fuzz_fail("split and reassembly changed the token");
  wif_prompt_reader_clear(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct wif_prompt_reader r;
  char *text = malloc(size + 1);
  char *line, *next;
  wif_rc rc = WIF_OK;

  if (text == NULL)
    return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  if (wif_prompt_part_number(text) > WIF_PROMPT_PARTS_MAX)
    fuzz_fail("part number out of range");
  if (wif_prompt_reader_init(&r) != WIF_OK) {
    free(text);
    return 0;
  }
  for (line = text; line != NULL && !r.done && rc == WIF_OK; line = next) {
    next = strchr(line, '\n');
    if (next != NULL)
      *next++ = '\0';
    rc = wif_prompt_reader_add(&r, line, NULL);
    if (r.len > WIF_TOKEN_MAX || r.parts > WIF_PROMPT_PARTS_MAX)
      fuzz_fail("limits passed: %zu bytes, %u parts", r.len, r.parts);
  }
  if (rc == WIF_OK && r.done && strchr(r.buf, '\\') == NULL)
    round_trip(r.buf, r.len);
  wif_prompt_reader_clear(&r);
  free(text);
  return 0;
}
