/* SPDX-License-Identifier: Apache-2.0 */
/* wifctl check: the effective sshd settings that decide whether a token
 * ever reaches pam_wif (`sshd -T`, with -C for Match blocks). Findings are
 * warnings: they are about sshd, not about pam_wif's own files. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "subprocess.h"
#include "wifctl_check.h"

#define SSHD_OUT_MAX (256 * 1024)
#define SSHD_TIMEOUT_MS 10000L
#define SETTING_MAX 1024

/* The value of `key` in sshd -T output (lower-case keys, one a line),
 * copied into buf; false when absent. */
static bool setting(const char *out, const char *key, char *buf, size_t size) {
  size_t klen = strlen(key);
  const char *line = out;

  while (line != NULL && *line != '\0') {
    const char *nl = strchr(line, '\n');
    size_t len = nl != NULL ? (size_t)(nl - line) : strlen(line);

    if (len > klen && strncmp(line, key, klen) == 0 && line[klen] == ' ') {
      size_t vlen = len - klen - 1;

      if (vlen >= size)
        vlen = size - 1;
      memcpy(buf, line + klen + 1, vlen);
      buf[vlen] = '\0';
      return true;
    }
    line = nl != NULL ? nl + 1 : NULL;
  }
  return false;
}

/* True when one of the space-separated method lists lets a login reach
 * keyboard-interactive. */
static bool methods_reach_kbdint(const char *v) {
  return strcmp(v, "any") == 0 || strstr(v, "keyboard-interactive") != NULL;
}

/* The Match conditions go to sshd as one argument; nothing in them may
 * look like an option or hold a blank. */
static bool match_valid(const char *m) {
  if (m[0] == '\0' || m[0] == '-' || strchr(m, '=') == NULL)
    return false;
  for (const char *s = m; *s != '\0'; s++)
    if ((unsigned char)*s <= 0x20 || *s == 0x7f)
      return false;
  return true;
}

static void judge(struct check *c, const char *out, const char *where) {
  char v[SETTING_MAX];

  if (setting(out, "usepam", v, sizeof(v)) && strcmp(v, "yes") != 0)
    check_report(c, false, "sshd", NULL,
                 "sshd%s: UsePAM %s: sshd never calls PAM, so pam_wif is "
                 "never asked; set UsePAM yes",
                 where, v);
  if ((setting(out, "kbdinteractiveauthentication", v, sizeof(v)) ||
       setting(out, "challengeresponseauthentication", v, sizeof(v))) &&
      strcmp(v, "yes") != 0)
    check_report(c, false, "sshd", NULL,
                 "sshd%s: KbdInteractiveAuthentication %s: the token reaches "
                 "PAM only through keyboard-interactive; set it to yes (in a "
                 "Match block for workload accounts, see pam_wif(8))",
                 where, v);
  if (setting(out, "authenticationmethods", v, sizeof(v))) {
    if (!methods_reach_kbdint(v))
      check_report(c, false, "sshd", NULL,
                   "sshd%s: AuthenticationMethods %s never uses "
                   "keyboard-interactive: pam_wif cannot be reached",
                   where, v);
    else if (strcmp(v, "any") == 0)
      check_note(c, "sshd", NULL,
                 "sshd%s: AuthenticationMethods any: a workload may also "
                 "log in by any other method sshd allows",
                 where);
    else
      check_note(c, "sshd", NULL, "sshd%s: AuthenticationMethods %s", where, v);
  }
  if (setting(out, "passwordauthentication", v, sizeof(v)) &&
      strcmp(v, "yes") == 0)
    check_note(c, "sshd", NULL,
               "sshd%s: PasswordAuthentication yes: a token sent as a "
               "password is cut at 1023 bytes by ssh; use "
               "keyboard-interactive (wifctl ssh, wifctl askpass)",
               where);
}

void check_sshd(struct check *c, const char *sshd, const char *sshd_config,
                const char *match) {
  static const char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
                                     "LC_ALL=C", NULL};
  const char *argv[8];
  size_t n = 0;
  struct wif_subprocess s;
  struct wif_subprocess_result r;
  struct wif_error err;
  char where[512] = "";
  wif_rc rc;

  if (match != NULL && !match_valid(match)) {
    check_report(c, false, "sshd", NULL,
                 "--match \"%s\" is not a list of user=,host=,addr= "
                 "conditions",
                 match);
    return;
  }
  argv[n++] = "sshd";
  argv[n++] = "-T";
  if (sshd_config != NULL) {
    argv[n++] = "-f";
    argv[n++] = sshd_config;
  }
  if (match != NULL) {
    argv[n++] = "-C";
    argv[n++] = match;
    (void)snprintf(where, sizeof(where), " (Match %s)", match);
  }
  argv[n] = NULL;
  memset(&s, 0, sizeof(s));
  s.path = sshd;
  s.argv = argv;
  s.envp = envp;
  s.timeout_ms = SSHD_TIMEOUT_MS;
  s.out_max = SSHD_OUT_MAX;
  wif_error_clear(&err);
  rc = wif_subprocess_run(&s, &r, &err);
  if (rc != WIF_OK || !r.exited || r.exit_status != 0 || r.out_len == 0) {
    check_report(c, false, "sshd", NULL,
                 "cannot read sshd's settings with `%s -T%s%s%s%s`: %s", sshd,
                 sshd_config != NULL ? " -f " : "",
                 sshd_config != NULL ? sshd_config : "",
                 match != NULL ? " -C " : "", match != NULL ? match : "",
                 rc != WIF_OK         ? err.msg
                 : r.err_line[0] != 0 ? r.err_line
                                      : "it failed");
    if (rc == WIF_OK)
      wif_subprocess_result_clear(&r);
    return;
  }
  judge(c, r.out, where);
  wif_subprocess_result_clear(&r);
}
