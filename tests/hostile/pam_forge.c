/* SPDX-License-Identifier: Apache-2.0 */
/* pam_forge.so: a test module of the hostile-caller suite that puts
 * variables a user controls into the PAM environment, the way pam_env
 * with user_readenv does from ~/.pam_environment.
 *
 *   account required pam_forge.so envfile=/path/owned/by/the/user
 *
 * Every line NAME=VALUE of the file is put with pam_putenv, in whichever
 * phase the module is called; it always returns PAM_IGNORE, so it never
 * decides anything itself. Not installed; loaded by absolute path.
 */
#include <stdio.h>
#include <string.h>

#define PAM_SM_AUTH
#define PAM_SM_ACCOUNT
#define PAM_SM_SESSION
#include <security/pam_modules.h>

static void forge(pam_handle_t *pamh, int argc, const char **argv) {
  char line[4096];
  FILE *f = NULL;

  for (int i = 0; i < argc; i++)
    if (strncmp(argv[i], "envfile=", 8) == 0)
      f = fopen(argv[i] + 8, "re");
  if (f == NULL)
    return;
  while (fgets(line, sizeof(line), f) != NULL) {
    line[strcspn(line, "\r\n")] = '\0';
    if (strchr(line, '=') != NULL)
      (void)pam_putenv(pamh, line);
  }
  fclose(f);
}

int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc,
                        const char **argv) {
  (void)flags;
  forge(pamh, argc, argv);
  return PAM_IGNORE;
}

int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv) {
  (void)flags;
  forge(pamh, argc, argv);
  return PAM_IGNORE;
}

int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc,
                     const char **argv) {
  (void)flags;
  forge(pamh, argc, argv);
  return PAM_IGNORE;
}

int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc,
                        const char **argv) {
  (void)flags;
  forge(pamh, argc, argv);
  return PAM_IGNORE;
}

int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc,
                         const char **argv) {
  (void)flags;
  (void)pamh;
  (void)argc;
  (void)argv;
  return PAM_IGNORE;
}
