/* SPDX-License-Identifier: Apache-2.0 */
/* pam_wif.conf syntax: sections, key = value lines, comments, and the
 * checked read of the file. What keys mean is config.c's. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "dropin.h"
#include "file.h"
#include "text.h"

enum section { SECT_NONE, SECT_GLOBAL, SECT_PROVIDER };

struct parser {
  struct wif_config *cfg;
  enum section sect;
  size_t provider; /* index: the array moves as providers are added */
  bool seen_global;
  const char *file; /* a drop-in's path for its providers; NULL: main */
};

static wif_rc parse_section(struct parser *ps, char *line, unsigned lineno,
                            struct wif_error *err) {
  char qb[WIF_TEXT_QUOTE_MAX + 4];
  size_t n = strlen(line);
  char *inner;
  struct wif_provider *p = NULL;
  wif_rc rc;

  if (line[n - 1] != ']')
    return wif_error_set(err, WIF_E_CONFIG_INVALID,
                         "section header must end with \"]\"");
  line[n - 1] = '\0';
  inner = wif_config_trim(line + 1);
  if (strcmp(inner, "global") == 0) {
    if (ps->seen_global)
      return wif_error_set(err, WIF_E_CONFIG_INVALID,
                           "duplicate section [global]");
    ps->seen_global = true;
    ps->sect = SECT_GLOBAL;
    return WIF_OK;
  }
  if (strncmp(inner, "provider", 8) == 0 &&
      (inner[8] == '\0' || inner[8] == ' ' || inner[8] == '\t')) {
    rc = wif_config_add_provider(ps->cfg, wif_config_trim(inner + 8), &p, err);
    if (rc != WIF_OK)
      return rc;
    p->line = lineno;
    p->file = ps->file;
    ps->provider = ps->cfg->n_providers - 1;
    ps->sect = SECT_PROVIDER;
    return WIF_OK;
  }
  return wif_error_set(err, WIF_E_CONFIG_INVALID, "unknown section [%s]",
                       wif_text_quote(inner, qb, sizeof(qb)));
}

static wif_rc parse_line(struct parser *ps, char *line, unsigned lineno,
                         struct wif_error *err) {
  char qb[WIF_TEXT_QUOTE_MAX + 4];
  char *key;
  const char *value;
  char *eq;

  /* `#` opens a comment at the start or after a blank, so that values
   * such as URLs with fragments keep an inner `#`. */
  for (char *c = line; *c != '\0'; c++) {
    if (*c == '#' && (c == line || c[-1] == ' ' || c[-1] == '\t')) {
      *c = '\0';
      break;
    }
  }
  key = wif_config_trim(line);
  if (key[0] == '\0')
    return WIF_OK;
  if (key[0] == '[')
    return parse_section(ps, key, lineno, err);
  eq = strchr(key, '=');
  if (eq == NULL)
    return wif_error_set(err, WIF_E_CONFIG_INVALID, "expected \"key = value\"");
  *eq = '\0';
  value = wif_config_trim(eq + 1);
  key = wif_config_trim(key);
  if (key[0] == '\0')
    return wif_error_set(err, WIF_E_CONFIG_INVALID, "missing key before \"=\"");
  if (ps->sect == SECT_NONE)
    return wif_error_set(err, WIF_E_CONFIG_INVALID,
                         "key \"%s\" before any section",
                         wif_text_quote(key, qb, sizeof(qb)));
  return wif_config_set(
      ps->cfg,
      ps->sect == SECT_PROVIDER ? &ps->cfg->providers[ps->provider] : NULL, key,
      value, err);
}

/* Parses one file's text into cfg, without the final checks. */
static wif_rc parse_into(struct wif_config *cfg, const char *text, size_t len,
                         const char *name, const char *file,
                         struct wif_error *err) {
  wif_rc rc = WIF_OK;
  struct parser ps = {cfg, SECT_NONE, 0, false, file};
  char line[WIF_CONFIG_LINE_MAX + 1];
  unsigned lineno = 0;
  size_t pos = 0;

  while (pos < len) {
    lineno++;
    rc = wif_text_next_line(text, len, &pos, WIF_CONFIG_LINE_MAX, line, err);
    if (rc == WIF_OK)
      rc = parse_line(&ps, line, lineno, err);
    if (rc != WIF_OK) {
      wif_text_prefix_error(err, name, lineno);
      break;
    }
  }
  return rc;
}

wif_rc wif_config_parse(const char *text, size_t len, const char *name,
                        struct wif_config **out, struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;
  struct wif_config *cfg = NULL;

  if (out != NULL)
    *out = NULL;
  wif_error_clear(err);
  if (out == NULL || (text == NULL && len > 0)) {
    rc = wif_error_set(err, WIF_E_INTERNAL, "wif_config_parse: bad call");
    goto out;
  }
  if ((cfg = wif_config_new(name)) == NULL) {
    rc = wif_error_set(err, WIF_E_NOMEM, "out of memory");
    goto out;
  }
  if ((rc = parse_into(cfg, text, len, name, NULL, err)) != WIF_OK)
    goto out;
  if ((rc = wif_config_finish(cfg, err)) != WIF_OK)
    goto out;
  *out = cfg;
  cfg = NULL;
  rc = WIF_OK;
out:
  wif_config_free(cfg);
  return rc;
}

char *wif_config_dropin_dir(const char *path) {
  const char *slash = path != NULL ? strrchr(path, '/') : NULL;
  size_t dlen = slash != NULL ? (size_t)(slash - path) : 0;
  size_t size = dlen + sizeof("/" WIF_DROPIN_DIR_NAME);
  char *dir;

  if (path == NULL || (dir = malloc(size)) == NULL)
    return NULL;
  if (dlen > 0)
    memcpy(dir, path, dlen);
  memcpy(dir + dlen, "/" WIF_DROPIN_DIR_NAME, sizeof("/" WIF_DROPIN_DIR_NAME));
  return dir;
}

/* A too-large file is a configuration error (config.h); with drop-ins the
 * limit is what the earlier files left. */
static wif_rc read_config_file(const char *path, uid_t owner, char **text,
                               size_t *len, struct wif_error *err) {
  wif_rc rc =
      wif_file_read_trusted(path, owner, WIF_CONFIG_SIZE_MAX, text, len, err);

  if (rc == WIF_E_TOO_LARGE) {
    rc = WIF_E_CONFIG_INVALID;
    if (err != NULL)
      err->rc = rc;
  }
  return rc;
}

static wif_rc parse_dropin(void *ctx, const char *path, const char *text,
                           size_t len, struct wif_error *err) {
  return parse_into(ctx, text, len, path, path, err);
}

/* Reads DIR/pam_wif.d/NAME.conf into cfg, in order. */
static wif_rc load_dropins(struct wif_config *cfg, uid_t owner, size_t budget,
                           struct wif_error *err) {
  if ((cfg->dropin_dir = wif_config_dropin_dir(cfg->path)) == NULL ||
      (cfg->files = calloc(WIF_DROPIN_FILES_MAX, sizeof(*cfg->files))) == NULL)
    return wif_error_set(err, WIF_E_NOMEM, "out of memory");
  return wif_dropin_load(cfg->dropin_dir, ".conf", "configuration",
                         WIF_CONFIG_SIZE_MAX, owner, budget, cfg->files,
                         &cfg->n_files, parse_dropin, cfg, err);
}

wif_rc wif_config_load(const char *path, uid_t owner, struct wif_config **out,
                       struct wif_error *err) {
  wif_rc rc = WIF_E_INTERNAL;
  struct wif_config *cfg = NULL;
  char *text = NULL;
  size_t len = 0;

  if (out != NULL)
    *out = NULL;
  wif_error_clear(err);
  if (out == NULL || path == NULL) {
    rc = wif_error_set(err, WIF_E_INTERNAL, "wif_config_load: bad call");
    goto out;
  }
  rc = read_config_file(path, owner, &text, &len, err);
  if (rc != WIF_OK)
    goto out;
  if ((cfg = wif_config_new(path)) == NULL) {
    rc = wif_error_set(err, WIF_E_NOMEM, "out of memory");
    goto out;
  }
  if ((rc = parse_into(cfg, text, len, path, NULL, err)) != WIF_OK)
    goto out;
  if ((rc = load_dropins(cfg, owner, WIF_CONFIG_SIZE_MAX - len, err)) != WIF_OK)
    goto out;
  if ((rc = wif_config_finish(cfg, err)) != WIF_OK)
    goto out;
  *out = cfg;
  cfg = NULL;
out:
  wif_config_free(cfg);
  wif_file_free_buffer(text, len);
  return rc;
}
