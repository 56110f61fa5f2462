/* SPDX-License-Identifier: Apache-2.0 */
/* wifctl check: the PAM stacks that load pam_wif.so. Findings are
 * warnings: they are about the host's PAM configuration, not about
 * pam_wif's own files. */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wifctl_check.h"

#define PAM_LINE_MAX 4096
#define PAM_LINES_MAX 256
#define PAM_FILES_MAX 512
#define PAM_INCLUDE_DEPTH 4

/* One line of a service file: `type control module args`, or an include. */
struct pam_line {
  char type[16];     /* auth, account, session, password; no leading '-' */
  char control[256]; /* required, sufficient, [success=done default=die] */
  char module[256];  /* basename of the module path; for includes, the
                        service included */
  bool include;      /* @include NAME, or control include/substack */
  unsigned lineno;
};

struct pam_file {
  struct pam_line lines[PAM_LINES_MAX];
  size_t n;
};

/* Modules that never prompt: pam_wif may come after them. */
static const char *const quiet_modules[] = {"pam_env.so",
                                            "pam_faildelay.so",
                                            "pam_nologin.so",
                                            "pam_succeed_if.so",
                                            "pam_permit.so",
                                            "pam_access.so",
                                            "pam_time.so",
                                            "pam_group.so",
                                            "pam_listfile.so",
                                            "pam_shells.so",
                                            "pam_securetty.so",
                                            "pam_faillock.so",
                                            "pam_limits.so",
                                            "pam_warn.so",
                                            "pam_rootok.so",
                                            "pam_localuser.so",
                                            "pam_echo.so",
                                            "pam_motd.so",
                                            NULL};

static bool is_quiet(const char *module) {
  for (size_t i = 0; quiet_modules[i] != NULL; i++)
    if (strcmp(module, quiet_modules[i]) == 0)
      return true;
  return false;
}

static const char *base(const char *path) {
  const char *s = strrchr(path, '/');

  return s != NULL ? s + 1 : path;
}

/* Next blank-separated word of *p into buf; a [ ... ] control is one
 * word. false at the end of the line. */
static bool word(const char **p, char *buf, size_t size) {
  const char *s = *p;
  size_t n = 0;
  bool bracket;

  while (*s == ' ' || *s == '\t')
    s++;
  if (*s == '\0' || *s == '\n' || *s == '#')
    return false;
  bracket = *s == '[';
  while (*s != '\0' && *s != '\n' && (bracket || (*s != ' ' && *s != '\t'))) {
    if (bracket && *s == ']')
      bracket = false;
    if (n + 1 < size)
      buf[n++] = *s;
    s++;
  }
  buf[n] = '\0';
  *p = s;
  return true;
}

/* Reads DIR/NAME into f; false when it cannot be read. */
static bool read_service(const char *dir, const char *name,
                         struct pam_file *f) {
  char path[4096];
  char line[PAM_LINE_MAX];
  unsigned lineno = 0;
  FILE *fp;

  f->n = 0;
  (void)snprintf(path, sizeof(path), "%s/%s", dir, name);
  if ((fp = fopen(path, "re")) == NULL)
    return false;
  while (f->n < PAM_LINES_MAX && fgets(line, sizeof(line), fp) != NULL) {
    struct pam_line *l = &f->lines[f->n];
    const char *p = line;
    const char *t;
    char w[256];

    lineno++;
    memset(l, 0, sizeof(*l));
    l->lineno = lineno;
    if (!word(&p, w, sizeof(w)))
      continue;
    if (strcmp(w, "@include") == 0) {
      l->include = true;
      (void)snprintf(l->type, sizeof(l->type), "*");
      if (word(&p, l->module, sizeof(l->module)))
        f->n++;
      continue;
    }
    t = w[0] == '-' ? w + 1 : w; /* -auth: the module may be missing */
    if (strlen(t) >= sizeof(l->type))
      continue; /* no PAM type is that long */
    memcpy(l->type, t, strlen(t) + 1);
    if (!word(&p, l->control, sizeof(l->control)) || !word(&p, w, sizeof(w)))
      continue;
    l->include = strcmp(l->control, "include") == 0 ||
                 strcmp(l->control, "substack") == 0;
    (void)snprintf(l->module, sizeof(l->module), "%s",
                   l->include ? w : base(w));
    f->n++;
  }
  (void)fclose(fp);
  return true;
}

static bool is_wif(const struct pam_line *l) {
  return !l->include && strcmp(l->module, "pam_wif.so") == 0;
}

/* Whether the service's stack, includes followed, has an auth pam_wif
 * line. */
static bool loads_wif(const char *dir, const char *name, int depth) {
  struct pam_file *f;
  bool found = false;

  if (depth > PAM_INCLUDE_DEPTH || strchr(name, '/') != NULL ||
      (f = malloc(sizeof(*f))) == NULL)
    return false;
  if (read_service(dir, name, f)) {
    for (size_t i = 0; !found && i < f->n; i++) {
      const struct pam_line *l = &f->lines[i];

      if (is_wif(l) && strcmp(l->type, "auth") == 0)
        found = true;
      else if (l->include &&
               (strcmp(l->type, "auth") == 0 || strcmp(l->type, "*") == 0))
        found = loads_wif(dir, l->module, depth + 1);
    }
  }
  free(f);
  return found;
}

static bool control_ignores_failure(const char *control) {
  return strcmp(control, "optional") == 0 ||
         (control[0] == '[' && strstr(control, "default=ignore") != NULL &&
          strstr(control, "auth_err=") == NULL);
}

static void judge_auth(struct check *c, const char *path,
                       const struct pam_file *f, size_t w) {
  const struct pam_line *l = &f->lines[w];

  if (control_ignores_failure(l->control))
    check_report(c, false, "pam", NULL,
                 "%s:%u: auth %s pam_wif.so: a refused token does not fail "
                 "the login; use [success=done default=die] or required",
                 path, l->lineno, l->control);
  for (size_t i = 0; i < w; i++) {
    const struct pam_line *b = &f->lines[i];

    if ((strcmp(b->type, "auth") == 0 || strcmp(b->type, "*") == 0) &&
        (b->include || !is_quiet(b->module))) {
      check_report(c, false, "pam", NULL,
                   "%s:%u: auth %s comes before pam_wif.so (line %u): it "
                   "may prompt first, and ssh's keyboard-interactive answer "
                   "goes to it instead of pam_wif",
                   path, b->lineno, b->module, l->lineno);
      break;
    }
  }
  if (strcmp(l->control, "sufficient") != 0)
    return;
  for (size_t i = w + 1; i < f->n; i++) {
    const struct pam_line *a = &f->lines[i];

    if (strcmp(a->type, "auth") != 0 && strcmp(a->type, "*") != 0)
      continue;
    if (strcmp(a->module, "pam_deny.so") != 0)
      check_report(c, false, "pam", NULL,
                   "%s:%u: auth sufficient pam_wif.so is followed by %s "
                   "(line %u): when pam_wif refuses, the login goes on "
                   "there (a password prompt for a workload account?); end "
                   "the stack with pam_deny.so or use "
                   "[success=done default=die]",
                   path, l->lineno, a->module, a->lineno);
    return;
  }
}

/* One service file that names pam_wif.so. */
static void judge_file(struct check *c, const char *path,
                       const struct pam_file *f) {
  size_t auth = f->n;
  size_t account = f->n;

  for (size_t i = 0; i < f->n; i++) {
    const struct pam_line *l = &f->lines[i];

    if (!is_wif(l))
      continue;
    if (strcmp(l->type, "auth") == 0 && auth == f->n)
      auth = i;
    else if (strcmp(l->type, "account") == 0 && account == f->n)
      account = i;
    else if (strcmp(l->type, "password") == 0)
      check_report(c, false, "pam", NULL,
                   "%s:%u: password pam_wif.so: pam_wif has no password "
                   "phase (it answers PAM_IGNORE)",
                   path, l->lineno);
  }
  if (auth < f->n)
    judge_auth(c, path, f, auth);
  if (auth < f->n && account == f->n)
    check_report(c, false, "pam", NULL,
                 "%s: auth uses pam_wif.so but no account line does: add "
                 "\"account required pam_wif.so\" so that the account "
                 "phase checks the login pam_wif granted",
                 path);
  if (account < f->n && (strcmp(f->lines[account].control, "required") != 0 &&
                         strcmp(f->lines[account].control, "requisite") != 0 &&
                         f->lines[account].control[0] != '['))
    check_report(c, false, "pam", NULL,
                 "%s:%u: account %s pam_wif.so: its answer does not decide "
                 "the login; use required",
                 path, f->lines[account].lineno, f->lines[account].control);
  if (auth == f->n && account < f->n)
    check_report(c, false, "pam", NULL,
                 "%s:%u: account pam_wif.so without an auth line in this "
                 "file",
                 path, f->lines[account].lineno);
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

void check_pam(struct check *c, const char *pam_dir, const char *service) {
  struct pam_file *f = malloc(sizeof(*f));
  char *names[PAM_FILES_MAX];
  size_t n = 0;
  size_t with_wif = 0;
  DIR *d = NULL;
  struct dirent *e;

  if (f == NULL || (d = opendir(pam_dir)) == NULL) {
    check_report(c, false, "pam", NULL, "cannot read %s", pam_dir);
    goto out;
  }
  while (n < PAM_FILES_MAX && (e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.' || (names[n] = strdup(e->d_name)) == NULL)
      continue;
    n++;
  }
  qsort(names, n, sizeof(names[0]), cmp_names);
  for (size_t i = 0; i < n; i++) {
    char path[4096];
    bool has = false;

    if (!read_service(pam_dir, names[i], f))
      continue;
    for (size_t j = 0; !has && j < f->n; j++)
      has = is_wif(&f->lines[j]);
    if (!has)
      continue;
    with_wif++;
    (void)snprintf(path, sizeof(path), "%s/%s", pam_dir, names[i]);
    check_note(c, "pam", NULL, "%s loads pam_wif.so", path);
    judge_file(c, path, f);
  }
  if (!loads_wif(pam_dir, service, 0))
    check_report(c, false, "pam", NULL,
                 "service %s does not load pam_wif.so for auth (%s/%s and "
                 "the files it includes)%s",
                 service, pam_dir, service,
                 with_wif == 0 ? "; no service in the directory does" : "");
out:
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  if (d != NULL)
    (void)closedir(d);
  free(f);
}
