/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the replay store's file formats (replay.h): each input is read as
 * a store and as a journal. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "replay.h"

/*
 * A decoded store has exactly the size its count says, at most
 * WIF_REPLAY_ENTRIES_MAX entries, and a lookup never reads past it. Adding
 * a key to it gives a store that decodes again and holds the key; adding
 * it twice is a replay.
 *
 * A decoded journal has no more good records than fit in it; merged into
 * an empty store it gives a store that decodes and holds exactly the keys
 * the journal holds live.
 */

static struct wif_config *cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  cfg = fuzz_config();
  return cfg == NULL ? -1 : 0;
}

#define NOW INT64_C(1767225600)

static void journal(const uint8_t *data, size_t size, const char *iss) {
  unsigned char *merged = NULL;
  size_t count = 0, merged_len = 0, n = 0;
  struct wif_error err;
  wif_rc rc;

  rc = wif_replay_journal_decode(data, size, iss, &count, &err);
  if (rc != WIF_OK) {
    if (rc != WIF_E_REPLAY_CORRUPT || count != 0)
      fuzz_fail("a failed journal decode said %d with %zu records", (int)rc,
                count);
    return;
  }
  if (size < WIF_REPLAY_HEADER_LEN || size > WIF_REPLAY_JOURNAL_FILE_MAX ||
      WIF_REPLAY_HEADER_LEN + count * WIF_REPLAY_RECORD_LEN > size)
    fuzz_fail("decoded %zu records from %zu bytes", count, size);
  rc = wif_replay_merge(NULL, 0, data, count, iss, NOW, &merged, &merged_len,
                        &err);
  if (rc != WIF_OK)
    fuzz_fail("merging a journal said %d: %s", (int)rc, err.msg);
  if (wif_replay_decode(merged, merged_len, iss, &n, &err) != WIF_OK)
    fuzz_fail("a merged store does not decode: %s", err.msg);
  for (size_t i = 0; i < count; i++) {
    const unsigned char *key =
        data + WIF_REPLAY_HEADER_LEN + i * WIF_REPLAY_RECORD_LEN;

    if (wif_replay_journal_contains(data, count, key, NOW) !=
        wif_replay_contains(merged, n, key, NOW))
      fuzz_fail("record %zu: the merged store disagrees", i);
  }
  free(merged);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *iss = cfg->providers[0].issuer;
  unsigned char key[WIF_REPLAY_KEY_LEN];
  unsigned char *next = NULL, *again = NULL;
  size_t count = 0, next_len = 0, again_len = 0, n2 = 0;
  struct wif_error err;
  wif_rc rc;

  journal(data, size, iss);
  rc = wif_replay_decode(data, size, iss, &count, &err);
  if (rc != WIF_OK) {
    if (rc != WIF_E_REPLAY_CORRUPT || count != 0)
      fuzz_fail("a failed decode said %d with %zu entries", (int)rc, count);
    return 0;
  }
  if (count > WIF_REPLAY_ENTRIES_MAX ||
      size != WIF_REPLAY_HEADER_LEN + count * WIF_REPLAY_ENTRY_LEN)
    fuzz_fail("decoded %zu entries from %zu bytes", count, size);
  if (wif_replay_key(iss, "fuzz-jti", 8, key, &err) != WIF_OK)
    fuzz_fail("no key");
  rc = wif_replay_insert(data, count, iss, key, NOW + 600, NOW, &next,
                         &next_len, &err);
  if (rc == WIF_E_REPLAYED) {
    if (!wif_replay_contains(data, count, key, NOW))
      fuzz_fail("a replay of a key the store does not hold");
    return 0;
  }
  if (rc == WIF_E_REPLAY_FULL)
    return 0;
  if (rc != WIF_OK)
    fuzz_fail("insert said %d", (int)rc);
  if (wif_replay_decode(next, next_len, iss, &n2, &err) != WIF_OK)
    fuzz_fail("an inserted store does not decode: %s", err.msg);
  if (n2 == 0 || n2 > count + 1 || !wif_replay_contains(next, n2, key, NOW))
    fuzz_fail("the inserted key is missing");
  if (wif_replay_insert(next, n2, iss, key, NOW + 600, NOW, &again, &again_len,
                        &err) != WIF_E_REPLAYED ||
      again != NULL)
    fuzz_fail("the same key was accepted twice");
  free(next);
  return 0;
}
