/*
 * Node-API helpers shared by the three addons (srtp, opus, udp). Plain node_api.h, static
 * inline only, so each addon still compiles from its one .c file.
 *
 * Before including: define NAPI_VERSION, and PARLEY_ADDON as the addon's name string
 * ("parley_srtp"), which prefixes CHECK's error message.
 */
#ifndef PARLEY_NAPI_HELPERS_H
#define PARLEY_NAPI_HELPERS_H

#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

#ifndef PARLEY_ADDON
#error "define PARLEY_ADDON (the addon's name, e.g. \"parley_srtp\") before including napi-helpers.h"
#endif

/* Throws `msg` and returns NULL from the calling napi_value function when `call` fails. */
#define CHECK_MSG(call, msg)                \
  do {                                      \
    if ((call) != napi_ok) {                \
      napi_throw_error(env, NULL, (msg));   \
      return NULL;                          \
    }                                       \
  } while (0)

/* "parley_xxx: N-API call failed: <the call as written>" (stringified here, unexpanded). */
#define CHECK(call) CHECK_MSG(call, PARLEY_ADDON ": N-API call failed: " #call)

/* One entry of the exports' property table: a plain method. */
#define NAPI_METHOD(name, fn) {(name), NULL, (fn), NULL, NULL, NULL, napi_default, NULL}

static inline napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

static inline napi_value throw_range(napi_env env, const char *msg) {
  napi_throw_range_error(env, NULL, msg);
  return NULL;
}

static inline napi_value make_int(napi_env env, int v) {
  napi_value r;
  napi_create_int32(env, v, &r);
  return r;
}

/* Bytes of a Buffer / Uint8Array / any TypedArray, by byte length. */
static inline int get_bytes(napi_env env, napi_value v, uint8_t **data, size_t *len) {
  bool is_ta = false;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) return 0;
  napi_typedarray_type type;
  size_t count;
  void *p;
  if (napi_get_typedarray_info(env, v, &type, &count, &p, NULL, NULL) != napi_ok) return 0;
  size_t el = 1;
  switch (type) {
    case napi_int16_array: case napi_uint16_array: el = 2; break;
    case napi_int32_array: case napi_uint32_array: case napi_float32_array: el = 4; break;
    case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: el = 8; break;
    default: el = 1;
  }
  *data = (uint8_t *)p;
  *len = count * el;
  return 1;
}

/* The data pointer of an external carrying `tag`, or NULL for anything else. */
static inline void *get_tagged_external(napi_env env, napi_value v, const napi_type_tag *tag) {
  bool ok = false;
  if (napi_check_object_type_tag(env, v, tag, &ok) != napi_ok || !ok) return NULL;
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok) return NULL;
  return p;
}

#endif /* PARLEY_NAPI_HELPERS_H */
