/* SPDX-License-Identifier: Apache-2.0 */
/* A library that pam_wif_missing_dep.so needs and, at run time, never
 * finds. */
int wif_missing_dep_marker(void);

int wif_missing_dep_marker(void) {
  return 7;
}
