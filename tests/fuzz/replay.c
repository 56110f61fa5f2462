/* SPDX-License-Identifier: Apache-2.0 */
/* main() for the fuzz targets when libFuzzer is not linked: replays files. */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/*
 * Usage: fuzz_<name> PATH...   (files, or directories of files)
 *
 * Each input goes through LLVMFuzzerTestOneInput exactly as libFuzzer would
 * pass it: an exact-size heap copy, so ASan sees any read past the end.
 * Exits 1 when a path cannot be read or when no input at all was replayed
 * (an empty seed folder must not pass silently).
 */

static unsigned long replayed;

static int replay_file(const char *path) {
  FILE *f = fopen(path, "rb");
  uint8_t *buf = NULL;
  long size;
  int rc = 1;

  if (f == NULL) {
    fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
    return 1;
  }
  if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
      fseek(f, 0, SEEK_SET) != 0) {
    fprintf(stderr, "replay: %s: cannot size\n", path);
    goto out;
  }
  /* malloc(0) may return NULL; keep one byte so the pointer is valid. */
  buf = malloc((size_t)size + 1);
  if (buf == NULL || fread(buf, 1, (size_t)size, f) != (size_t)size) {
    fprintf(stderr, "replay: %s: cannot read\n", path);
    goto out;
  }
  {
    /* An exact-size copy, so a one-byte over-read is caught. */
    uint8_t *exact = malloc((size_t)size ? (size_t)size : 1);
    if (exact == NULL)
      goto out;
    memcpy(exact, buf, (size_t)size);
    (void)LLVMFuzzerTestOneInput(exact, (size_t)size);
    free(exact);
  }
  replayed++;
  rc = 0;
out:
  free(buf);
  fclose(f);
  return rc;
}

static int compare_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay_dir(const char *path) {
  DIR *d = opendir(path);
  struct dirent *e;
  char **names = NULL;
  size_t n = 0, cap = 0;
  int rc = 0;

  if (d == NULL) {
    fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
    return 1;
  }
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.' || strcmp(e->d_name, "README.md") == 0)
      continue;
    if (n == cap) {
      size_t ncap = cap ? cap * 2 : 64;
      char **tmp = realloc(names, ncap * sizeof(*names));
      if (tmp == NULL) {
        rc = 1;
        break;
      }
      names = tmp;
      cap = ncap;
    }
    if ((names[n] = malloc(strlen(path) + strlen(e->d_name) + 2)) == NULL) {
      rc = 1;
      break;
    }
    (void)snprintf(names[n], strlen(path) + strlen(e->d_name) + 2, "%s/%s",
                   path, e->d_name);
    n++;
  }
  closedir(d);
  if (n > 0)
    qsort(names, n, sizeof(*names), compare_names);
  for (size_t i = 0; i < n; i++) {
    if (rc == 0)
      rc = replay_file(names[i]);
    free(names[i]);
  }
  free(names);
  return rc;
}

int main(int argc, char **argv) {
  struct stat st;

  if (LLVMFuzzerInitialize(&argc, &argv) != 0)
    return 1;
  for (int i = 1; i < argc; i++) {
    if (stat(argv[i], &st) != 0) {
      fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
      return 1;
    }
    if ((S_ISDIR(st.st_mode) ? replay_dir(argv[i]) : replay_file(argv[i])) != 0)
      return 1;
  }
  if (replayed == 0) {
    fprintf(stderr, "replay: no input replayed\n");
    return 1;
  }
  printf("replay: %lu inputs, no finding\n", replayed);
  return 0;
}
