/* A library that pam_wif_h7_dep.so needs and, at run time, never finds. */
int wif_h7_dep_marker(void);

int wif_h7_dep_marker(void) {
  return 7;
}
