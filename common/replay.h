/* SPDX-License-Identifier: Apache-2.0 */
/* The replay store: one-time tokens (`one_time = yes`) already accepted. */
#ifndef WIF_REPLAY_H
#define WIF_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "error.h"
#include "json.h"

/* Bytes of a jti claim; longer is TOO_LARGE. */
#define WIF_REPLAY_JTI_MAX 1024
/* Live entries per provider. A full store refuses one-time logins
 * (WIF_E_REPLAY_FULL) until entries expire; it never forgets one early. */
#define WIF_REPLAY_ENTRIES_MAX 65536
/* How long a login waits for another process holding the store. */
#define WIF_REPLAY_LOCK_WAIT_MS 2000

/*
 * The file format, all integers little-endian:
 *   header  8  magic "WIFRPL\0\2" (format version 2: version 1, still
 *              read, is the same layout from before the journal)
 *          32  SHA-256 of the provider's issuer (replay_issuer_hash)
 *           4  entry count
 *           4  zero
 *   entries, count times, strictly ascending by key (memcmp):
 *          32  key: SHA-256 of the issuer and the jti (wif_replay_key)
 *           8  until: the entry is live while now < until (exp plus
 *              clock_skew, when the token stops being accepted anyway)
 * The file size is exactly header + count * entry. No raw jti is stored.
 */
#define WIF_REPLAY_KEY_LEN 32
#define WIF_REPLAY_HEADER_LEN 48
#define WIF_REPLAY_ENTRY_LEN 40
#define WIF_REPLAY_FILE_MAX                                                    \
  (WIF_REPLAY_HEADER_LEN +                                                     \
   (size_t)WIF_REPLAY_ENTRIES_MAX * WIF_REPLAY_ENTRY_LEN)

/*
 * A login does not rewrite the store: it appends its entry to a journal
 * beside it, "<h>.replay.journal", and syncs those bytes alone.
 *   header  8  magic "WIFRPJ\0\1" (format version 1)
 *          32  SHA-256 of the provider's issuer, as in the store
 *           8  zero
 *   records, in the order their logins were accepted:
 *          40  an entry, as in the store
 *           8  check: FNV-1a (64 bits) of those 40 bytes
 * A record is on disk before its login proceeds, so only the records of
 * logins that never completed can be torn by a crash: damaged records
 * after the last good one (and a partial one) are ignored and cut off by
 * the next append, while a damaged record before a good one, or more than
 * one record's worth of damage at the end, is corruption.
 * When the journal holds WIF_REPLAY_JOURNAL_MAX records, the next login
 * merges it into a new store (written atomically) and then starts an empty
 * journal; a crash between the two leaves entries in both, each counted
 * once.
 */
#define WIF_REPLAY_JOURNAL_MAX 1024
#define WIF_REPLAY_RECORD_LEN 48
#define WIF_REPLAY_JOURNAL_FILE_MAX                                            \
  (WIF_REPLAY_HEADER_LEN +                                                     \
   (size_t)(WIF_REPLAY_JOURNAL_MAX + 1) * WIF_REPLAY_RECORD_LEN)

/*
 * The jti of a verified claims set, borrowed from claims. WIF_E_JTI_MISSING
 * when absent or empty, WIF_E_CLAIM_TYPE when not a string, WIF_E_TOO_LARGE
 * over WIF_REPLAY_JTI_MAX bytes.
 */
wif_rc wif_replay_jti(const struct wif_json_doc *claims, const char **out,
                      size_t *out_len, struct wif_error *err);

/* The entry key of (issuer, jti): SHA-256 over a domain string, the
 * issuer's length and bytes, and the jti. */
wif_rc wif_replay_key(const char *issuer, const char *jti, size_t jti_len,
                      unsigned char out[WIF_REPLAY_KEY_LEN],
                      struct wif_error *err);

/*
 * The store file and its lock file of provider p in dir:
 * "<dir>/<h>.replay" and "<dir>/<h>.replay.lock", h the hex SHA-256 of the
 * configured issuer (never anything from a token); the journal is the
 * store's name with ".journal" added. Both new (free).
 */
wif_rc wif_replay_paths(const char *dir, const struct wif_provider *p,
                        char **out_store, char **out_lock,
                        struct wif_error *err);

/*
 * Checks a file image written for the provider whose issuer is `issuer`:
 * magic, issuer hash, exact size, count within WIF_REPLAY_ENTRIES_MAX,
 * keys strictly ascending, every until positive. WIF_E_REPLAY_CORRUPT with
 * the reason in err otherwise. *out_count is the number of entries.
 */
wif_rc wif_replay_decode(const unsigned char *data, size_t len,
                         const char *issuer, size_t *out_count,
                         struct wif_error *err);

/* Whether a decoded image (count entries) holds key live at now. */
bool wif_replay_contains(const unsigned char *data, size_t count,
                         const unsigned char key[WIF_REPLAY_KEY_LEN],
                         int64_t now);

/*
 * Checks a journal image for the provider whose issuer is `issuer`: magic,
 * issuer hash, size within WIF_REPLAY_JOURNAL_FILE_MAX, no damaged record
 * before a good one and at most WIF_REPLAY_RECORD_LEN bytes after the last.
 * WIF_E_REPLAY_CORRUPT with the reason in err otherwise. *out_count is the
 * number of good records, which come first.
 */
wif_rc wif_replay_journal_decode(const unsigned char *data, size_t len,
                                 const char *issuer, size_t *out_count,
                                 struct wif_error *err);

/* Whether a decoded journal (count good records) holds key live at now. */
bool wif_replay_journal_contains(const unsigned char *data, size_t count,
                                 const unsigned char key[WIF_REPLAY_KEY_LEN],
                                 int64_t now);

/* A journal with no records (WIF_REPLAY_HEADER_LEN bytes) into out. */
wif_rc wif_replay_journal_header(const char *issuer, unsigned char *out,
                                 struct wif_error *err);

/* The record of key, live until `until`, into out. */
void wif_replay_journal_record(const unsigned char key[WIF_REPLAY_KEY_LEN],
                               int64_t until,
                               unsigned char out[WIF_REPLAY_RECORD_LEN]);

/*
 * A new store image (free) holding the live entries of a decoded store
 * (data may be NULL when count is 0) and of a decoded journal (jdata may
 * be NULL when jcount is 0), each key once with its latest until.
 * WIF_E_REPLAY_FULL when that is more than WIF_REPLAY_ENTRIES_MAX.
 */
wif_rc wif_replay_merge(const unsigned char *data, size_t count,
                        const unsigned char *jdata, size_t jcount,
                        const char *issuer, int64_t now, unsigned char **out,
                        size_t *out_len, struct wif_error *err);

/*
 * A new image (free) from a decoded one (data may be NULL when count is
 * 0): entries no longer live at now are dropped, key is added with until.
 * WIF_E_REPLAYED when key is live already; WIF_E_REPLAY_FULL when
 * WIF_REPLAY_ENTRIES_MAX live entries remain. *out is NULL on failure.
 */
wif_rc wif_replay_insert(const unsigned char *data, size_t count,
                         const char *issuer,
                         const unsigned char key[WIF_REPLAY_KEY_LEN],
                         int64_t until, int64_t now, unsigned char **out,
                         size_t *out_len, struct wif_error *err);

/*
 * What wif_replay_use does besides the lookup: record the jti (the
 * module), or only look (`wifctl verify`, which must not burn a token).
 */
enum wif_replay_mode { WIF_REPLAY_RECORD, WIF_REPLAY_PEEK };

/*
 * Accepts jti of provider p once: under the lock file (bounded wait,
 * WIF_E_UNAVAILABLE after WIF_REPLAY_LOCK_WAIT_MS), reads the store and its
 * journal, refuses a live entry (WIF_E_REPLAYED) and, with
 * WIF_REPLAY_RECORD, records this one, live until exp + clock_skew
 * (saturating): appended to the journal and synced, or, when the journal
 * is missing or full, merged with it into a new store (temporary file,
 * fsync, rename, fsync of the directory) before an empty journal is
 * started the same way; all relative to the directory's descriptor. dir is
 * created 0700 when missing and must be a directory owned by owner that group
 * and others cannot write; the files are created 0600 (set explicitly, whatever
 * the umask) and must be regular, owned by owner and private (else
 * WIF_E_CONFIG_INSECURE). A file that does not parse is WIF_E_REPLAY_CORRUPT:
 * every one-time login of p is refused until an administrator removes it (an
 * empty store would accept replays again). err names the file.
 */
wif_rc wif_replay_use(const char *dir, uid_t owner,
                      const struct wif_provider *p, const char *jti,
                      size_t jti_len, int64_t exp, int64_t clock_skew,
                      int64_t now, enum wif_replay_mode mode,
                      struct wif_error *err);

/*
 * For `wifctl check`: the live entries of p's store and journal at now (0
 * when there is no store or no directory yet). Takes the lock like a
 * login; the same failures as wif_replay_use (REPLAY_CORRUPT, CONFIG_INSECURE,
 * ...).
 */
wif_rc wif_replay_count(const char *dir, uid_t owner,
                        const struct wif_provider *p, int64_t now,
                        size_t *out_live, struct wif_error *err);

#endif
