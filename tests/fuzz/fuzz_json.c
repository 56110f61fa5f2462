/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the strict JSON parser, differentially against jansson. */
#include "fuzz.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "json.h"

/*
 * Our parser is stricter than jansson (json.h), never looser: whatever it
 * accepts, jansson with JSON_REJECT_DUPLICATES must accept too, with the
 * same tree: same types, same member names, same string bytes, the same
 * integer or double for each number. The only allowed difference is a
 * number jansson cannot hold (json_error_numeric_overflow), which our
 * parser keeps as a literal. Lookup by name and by JSON pointer are
 * exercised on the way.
 */

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  return 0;
}

static void compare(const struct wif_json_doc *doc, const struct wif_json *v,
                    const json_t *j, unsigned depth);

static void compare_number(const struct wif_json *v, const json_t *j) {
  int64_t i;

  if (json_is_integer(j)) {
    if (!wif_json_int64(v, &i) || i != json_integer_value(j))
      fuzz_fail("integer %s differs from jansson's", v->str);
  } else if (json_is_real(j)) {
    double d;
    errno = 0;
    d = strtod(v->str, NULL);
    if (memcmp(&d, &(double){json_real_value(j)}, sizeof(d)) != 0)
      fuzz_fail("real %s differs from jansson's", v->str);
    if (wif_json_int64(v, &i))
      fuzz_fail("real %s taken as an integer", v->str);
  } else {
    fuzz_fail("number where jansson has another type");
  }
}

static void compare_object(const struct wif_json_doc *doc,
                           const struct wif_json *v, const json_t *j,
                           unsigned depth) {
  const struct wif_json *name = wif_json_first(doc, v);

  if (!json_is_object(j) || json_object_size(j) != v->count)
    fuzz_fail("object differs from jansson's");
  for (uint32_t k = 0; k < v->count; k++) {
    const struct wif_json *val;
    const json_t *jv;
    if (name == NULL || name->type != WIF_JSON_STRING)
      fuzz_fail("object member without a name");
    val = wif_json_next(doc, v, name);
    if (val == NULL)
      fuzz_fail("object member without a value");
    jv = json_object_getn(j, name->str, name->len);
    if (jv == NULL)
      fuzz_fail("member missing in jansson's object");
    if (wif_json_get(doc, v, name->str) != val)
      fuzz_fail("wif_json_get does not find a member");
    compare(doc, val, jv, depth + 1);
    name = wif_json_next(doc, v, val);
  }
  if (name != NULL)
    fuzz_fail("object has more members than its count");
}

static void compare_array(const struct wif_json_doc *doc,
                          const struct wif_json *v, const json_t *j,
                          unsigned depth) {
  const struct wif_json *e = wif_json_first(doc, v);

  if (!json_is_array(j) || json_array_size(j) != v->count)
    fuzz_fail("array differs from jansson's");
  for (uint32_t k = 0; k < v->count; k++) {
    if (e == NULL)
      fuzz_fail("array shorter than its count");
    compare(doc, e, json_array_get(j, k), depth + 1);
    e = wif_json_next(doc, v, e);
  }
  if (e != NULL)
    fuzz_fail("array longer than its count");
}

static void compare(const struct wif_json_doc *doc, const struct wif_json *v,
                    const json_t *j, unsigned depth) {
  if (depth > WIF_JSON_DEPTH_MAX)
    fuzz_fail("deeper than the depth limit");
  switch (v->type) {
  case WIF_JSON_NULL:
    if (!json_is_null(j))
      fuzz_fail("null differs");
    break;
  case WIF_JSON_TRUE:
    if (!json_is_true(j))
      fuzz_fail("true differs");
    break;
  case WIF_JSON_FALSE:
    if (!json_is_false(j))
      fuzz_fail("false differs");
    break;
  case WIF_JSON_NUMBER:
    compare_number(v, j);
    break;
  case WIF_JSON_STRING:
    if (!json_is_string(j) || json_string_length(j) != v->len ||
        memcmp(json_string_value(j), v->str, v->len) != 0 ||
        strlen(v->str) != v->len)
      fuzz_fail("string differs from jansson's");
    break;
  case WIF_JSON_ARRAY:
    compare_array(doc, v, j, depth);
    break;
  case WIF_JSON_OBJECT:
    compare_object(doc, v, j, depth);
    break;
  default:
    fuzz_fail("unknown type");
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct wif_json_doc *doc = NULL;
  struct wif_error err;
  json_error_t jerr;
  json_t *j;

  if (wif_json_parse((const char *)data, size, WIF_JSON_DEPTH_MAX, &doc,
                     &err) != WIF_OK) {
    if (doc != NULL)
      fuzz_fail("failed parse left an output");
    return 0;
  }
  j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
  if (j == NULL) {
    if (json_error_code(&jerr) != json_error_numeric_overflow)
      fuzz_fail("accepted what jansson rejects: %s", jerr.text);
  } else {
    compare(doc, wif_json_root(doc), j, 1);
    (void)wif_json_pointer(doc, wif_json_root(doc), "/a/0/~1b~0");
    json_decref(j);
  }
  wif_json_free(doc);
  return 0;
}
