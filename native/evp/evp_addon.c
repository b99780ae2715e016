/*
 * Per-key SRTP crypto on OpenSSL's EVP API, for the JavaScript SrtpSession (shared/src/srtp),
 * which keeps the packet bookkeeping (header parsing, ROC, replay window) and calls in here
 * for the cipher and MAC only.
 *
 * Why: libsrtp2 on Debian runs on NSS, whose per-packet context setup walks NSS lists under a
 * lock, so it slows down as live keys grow (3.6-5 us per packet with 1 context, 14-16 us with
 * 600); node:crypto cannot change a GCM cipher's IV, so it builds a cipher object per packet.
 * Here every key owns its contexts for its whole life:
 *  - AEAD_AES_128_GCM: two EVP_CIPHER_CTX (seal, open), keyed once; a packet only sets the
 *    IV (EVP_CipherInit_ex with NULL cipher and key keeps the key schedule).
 *  - AES_CM_128_HMAC_SHA1_80: one AES-128-CTR EVP_CIPHER_CTX, re-IVed per packet the same way,
 *    and HMAC-SHA1 as two SHA_CTX states precomputed over key^ipad and key^opad, copied by
 *    value per packet (SHA1_* are deprecated in OpenSSL 3 but exported; EVP_MAC/HMAC_CTX
 *    re-init copies an EVP_MD_CTX, which allocates).
 * No call allocates: the caller passes its input and output buffers.
 */
#define NAPI_VERSION 8
#define PARLEY_ADDON "parley_evp"
#include "napi-helpers.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#define GCM_TAG 16
#define GCM_IV 12
#define CM_IV 16
#define HMAC_BLOCK 64
#define SHA1_LEN 20

typedef struct {
  EVP_CIPHER_CTX *seal;
  EVP_CIPHER_CTX *open;
} gcm_t;

typedef struct {
  EVP_CIPHER_CTX *ctr;
  SHA_CTX inner;
  SHA_CTX outer;
} cm_t;

static const napi_type_tag GCM_TAG_T = {0x7061726c65796576ULL, 0x7067636d00000001ULL};
static const napi_type_tag CM_TAG_T = {0x7061726c65796576ULL, 0x70636d0000000001ULL};

static void finalize_gcm(napi_env env, void *data, void *hint) {
  gcm_t *g = data;
  EVP_CIPHER_CTX_free(g->seal);
  EVP_CIPHER_CTX_free(g->open);
  free(g);
}

static void finalize_cm(napi_env env, void *data, void *hint) {
  cm_t *c = data;
  EVP_CIPHER_CTX_free(c->ctr);
  OPENSSL_cleanse(&c->inner, sizeof c->inner);
  OPENSSL_cleanse(&c->outer, sizeof c->outer);
  free(c);
}

static const EVP_CIPHER *gcm_cipher(size_t key_len) {
  return key_len == 16 ? EVP_aes_128_gcm() : key_len == 32 ? EVP_aes_256_gcm() : NULL;
}

static napi_value wrap(napi_env env, void *p, napi_finalize fin, const napi_type_tag *tag) {
  napi_value ext;
  if (napi_create_external(env, p, fin, NULL, &ext) != napi_ok) {
    fin(env, p, NULL);
    napi_throw_error(env, NULL, "napi_create_external failed");
    return NULL;
  }
  CHECK(napi_type_tag_object(env, ext, tag));
  return ext;
}

/* gcmCreate(key: 16 or 32 bytes) -> handle */
static napi_value gcm_create(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint8_t *key;
  size_t key_len;
  if (argc < 1 || !get_bytes(env, argv[0], &key, &key_len)) return throw_type(env, "key must be a Uint8Array");
  const EVP_CIPHER *cipher = gcm_cipher(key_len);
  if (!cipher) return throw_range(env, "GCM key must be 16 or 32 bytes");
  gcm_t *g = calloc(1, sizeof *g);
  if (!g) return throw_range(env, "out of memory");
  g->seal = EVP_CIPHER_CTX_new();
  g->open = EVP_CIPHER_CTX_new();
  if (!g->seal || !g->open || EVP_EncryptInit_ex(g->seal, cipher, NULL, key, NULL) != 1 ||
      EVP_DecryptInit_ex(g->open, cipher, NULL, key, NULL) != 1) {
    finalize_gcm(env, g, NULL);
    napi_throw_error(env, NULL, "parley_evp: cannot set up AES-GCM");
    return NULL;
  }
  return wrap(env, g, finalize_gcm, &GCM_TAG_T);
}

/*
 * Arguments shared by gcmSeal/gcmOpen:
 *   (handle, iv[12], src, aadLen, end, extraAad | null, dst)
 * AAD = src[0, aadLen) || extraAad; the text is src[aadLen, end); the tag sits at [end, end+16)
 * (written to dst by seal, read from src by open). src[0, aadLen) is copied to dst.
 */
typedef struct {
  void *h;
  uint8_t *iv, *src, *extra, *dst;
  size_t src_len, dst_len, extra_len;
  uint32_t aad_len, end;
} gcm_args;

static int gcm_parse(napi_env env, napi_callback_info info, gcm_args *a, int open) {
  size_t argc = 7;
  napi_value argv[7];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 7) {
    throw_type(env, "gcmSeal/gcmOpen take 7 arguments");
    return 0;
  }
  gcm_t *g = get_tagged_external(env, argv[0], &GCM_TAG_T);
  size_t iv_len;
  napi_valuetype t;
  if (!g) return throw_type(env, "not a GCM handle"), 0;
  if (!get_bytes(env, argv[1], &a->iv, &iv_len) || iv_len != GCM_IV) return throw_type(env, "iv must be 12 bytes"), 0;
  if (!get_bytes(env, argv[2], &a->src, &a->src_len)) return throw_type(env, "src must be a Uint8Array"), 0;
  if (napi_get_value_uint32(env, argv[3], &a->aad_len) != napi_ok ||
      napi_get_value_uint32(env, argv[4], &a->end) != napi_ok)
    return throw_type(env, "aadLen and end must be numbers"), 0;
  a->extra = NULL;
  a->extra_len = 0;
  if (napi_typeof(env, argv[5], &t) != napi_ok) return 0;
  if (t != napi_null && t != napi_undefined && !get_bytes(env, argv[5], &a->extra, &a->extra_len))
    return throw_type(env, "extraAad must be a Uint8Array or null"), 0;
  if (!get_bytes(env, argv[6], &a->dst, &a->dst_len)) return throw_type(env, "dst must be a Uint8Array"), 0;
  if (a->aad_len > a->end || (size_t)a->end + GCM_TAG > (open ? a->src_len : a->src_len + GCM_TAG) ||
      a->end > a->src_len || (size_t)a->end + (open ? 0 : GCM_TAG) > a->dst_len)
    return throw_range(env, "aadLen/end out of range for src/dst"), 0;
  a->h = g;
  return 1;
}

static void copy_prefix(uint8_t *dst, const uint8_t *src, size_t n) {
  if (dst != src && n) memmove(dst, src, n);
}

static napi_value gcm_seal(napi_env env, napi_callback_info info) {
  gcm_args a;
  if (!gcm_parse(env, info, &a, 0)) return NULL;
  EVP_CIPHER_CTX *ctx = ((gcm_t *)a.h)->seal;
  int n;
  copy_prefix(a.dst, a.src, a.aad_len);
  int ok = EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, a.iv) == 1 &&
           EVP_EncryptUpdate(ctx, NULL, &n, a.src, (int)a.aad_len) == 1 &&
           (a.extra_len == 0 || EVP_EncryptUpdate(ctx, NULL, &n, a.extra, (int)a.extra_len) == 1) &&
           (a.end == a.aad_len ||
            EVP_EncryptUpdate(ctx, a.dst + a.aad_len, &n, a.src + a.aad_len, (int)(a.end - a.aad_len)) == 1) &&
           EVP_EncryptFinal_ex(ctx, a.dst + a.end, &n) == 1 &&
           EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, GCM_TAG, a.dst + a.end) == 1;
  if (!ok) {
    napi_throw_error(env, NULL, "parley_evp: AES-GCM seal failed");
    return NULL;
  }
  return NULL;
}

/* -> true, or false when the tag does not verify (dst[aadLen, end) is then garbage). */
static napi_value gcm_open(napi_env env, napi_callback_info info) {
  gcm_args a;
  if (!gcm_parse(env, info, &a, 1)) return NULL;
  EVP_CIPHER_CTX *ctx = ((gcm_t *)a.h)->open;
  int n;
  uint8_t tag[GCM_TAG];
  uint8_t sink[GCM_TAG];
  memcpy(tag, a.src + a.end, GCM_TAG); /* before dst (possibly src) is written */
  int ok = EVP_DecryptInit_ex(ctx, NULL, NULL, NULL, a.iv) == 1 &&
           EVP_DecryptUpdate(ctx, NULL, &n, a.src, (int)a.aad_len) == 1 &&
           (a.extra_len == 0 || EVP_DecryptUpdate(ctx, NULL, &n, a.extra, (int)a.extra_len) == 1) &&
           (a.end == a.aad_len ||
            EVP_DecryptUpdate(ctx, a.dst + a.aad_len, &n, a.src + a.aad_len, (int)(a.end - a.aad_len)) == 1) &&
           EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, GCM_TAG, tag) == 1 &&
           EVP_DecryptFinal_ex(ctx, sink, &n) == 1;
  if (ok) copy_prefix(a.dst, a.src, a.aad_len);
  napi_value r;
  napi_get_boolean(env, ok, &r);
  return r;
}

/* cmCreate(aesKey: 16/24/32 bytes, authKey: any length) -> handle */
static napi_value cm_create(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint8_t *key, *auth;
  size_t key_len, auth_len;
  if (argc < 2 || !get_bytes(env, argv[0], &key, &key_len) || !get_bytes(env, argv[1], &auth, &auth_len))
    return throw_type(env, "cmCreate(aesKey, authKey) takes two Uint8Arrays");
  const EVP_CIPHER *cipher = key_len == 16   ? EVP_aes_128_ctr()
                             : key_len == 24 ? EVP_aes_192_ctr()
                             : key_len == 32 ? EVP_aes_256_ctr()
                                             : NULL;
  if (!cipher) return throw_range(env, "AES-CM key must be 16, 24 or 32 bytes");
  cm_t *c = calloc(1, sizeof *c);
  if (!c) return throw_range(env, "out of memory");
  c->ctr = EVP_CIPHER_CTX_new();
  if (!c->ctr || EVP_EncryptInit_ex(c->ctr, cipher, NULL, key, NULL) != 1) {
    finalize_cm(env, c, NULL);
    napi_throw_error(env, NULL, "parley_evp: cannot set up AES-CTR");
    return NULL;
  }
  /* RFC 2104: keys longer than a block are hashed first. */
  uint8_t k[HMAC_BLOCK] = {0}, pad[HMAC_BLOCK];
  if (auth_len > HMAC_BLOCK) SHA1(auth, auth_len, k);
  else memcpy(k, auth, auth_len);
  for (int i = 0; i < HMAC_BLOCK; i++) pad[i] = k[i] ^ 0x36;
  SHA1_Init(&c->inner);
  SHA1_Update(&c->inner, pad, HMAC_BLOCK);
  for (int i = 0; i < HMAC_BLOCK; i++) pad[i] = k[i] ^ 0x5c;
  SHA1_Init(&c->outer);
  SHA1_Update(&c->outer, pad, HMAC_BLOCK);
  OPENSSL_cleanse(k, sizeof k);
  OPENSSL_cleanse(pad, sizeof pad);
  return wrap(env, c, finalize_cm, &CM_TAG_T);
}

/* HMAC-SHA1(data[0, len) || roc as 4 bytes big-endian when roc >= 0) into mac. */
static void cm_mac(const cm_t *c, const uint8_t *data, size_t len, int64_t roc, uint8_t mac[SHA1_LEN]) {
  SHA_CTX s = c->inner;
  SHA1_Update(&s, data, len);
  if (roc >= 0) {
    uint8_t r[4] = {(uint8_t)(roc >> 24), (uint8_t)(roc >> 16), (uint8_t)(roc >> 8), (uint8_t)roc};
    SHA1_Update(&s, r, 4);
  }
  SHA1_Final(mac, &s);
  s = c->outer;
  SHA1_Update(&s, mac, SHA1_LEN);
  SHA1_Final(mac, &s);
}

/*
 * Arguments shared by cmSeal/cmOpen:
 *   (handle, iv[16], src, start, end, dst, authEnd, roc, tagLen[, decrypt])
 * src[0, start) is copied to dst and src[start, end) XORed with the keystream into dst.
 * seal: then the tag of dst[0, authEnd) || roc goes to dst[authEnd, authEnd+tagLen).
 * open: first checks the tag at src[authEnd] over src[0, authEnd) || roc; decrypt=false
 * copies src[start, end) unchanged (an SRTCP packet sent with E=0).
 */
typedef struct {
  cm_t *c;
  uint8_t *iv, *src, *dst;
  size_t src_len, dst_len;
  uint32_t start, end, auth_end, tag_len;
  int64_t roc;
  bool decrypt;
} cm_args;

static int cm_parse(napi_env env, napi_callback_info info, cm_args *a, int open) {
  size_t argc = 10;
  napi_value argv[10];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 9) {
    throw_type(env, "cmSeal/cmOpen take 9 or 10 arguments");
    return 0;
  }
  size_t iv_len;
  a->c = get_tagged_external(env, argv[0], &CM_TAG_T);
  if (!a->c) return throw_type(env, "not an AES-CM handle"), 0;
  if (!get_bytes(env, argv[1], &a->iv, &iv_len) || iv_len != CM_IV) return throw_type(env, "iv must be 16 bytes"), 0;
  if (!get_bytes(env, argv[2], &a->src, &a->src_len)) return throw_type(env, "src must be a Uint8Array"), 0;
  if (napi_get_value_uint32(env, argv[3], &a->start) != napi_ok ||
      napi_get_value_uint32(env, argv[4], &a->end) != napi_ok)
    return throw_type(env, "start and end must be numbers"), 0;
  if (!get_bytes(env, argv[5], &a->dst, &a->dst_len)) return throw_type(env, "dst must be a Uint8Array"), 0;
  if (napi_get_value_uint32(env, argv[6], &a->auth_end) != napi_ok ||
      napi_get_value_int64(env, argv[7], &a->roc) != napi_ok ||
      napi_get_value_uint32(env, argv[8], &a->tag_len) != napi_ok)
    return throw_type(env, "authEnd, roc and tagLen must be numbers"), 0;
  a->decrypt = true;
  if (argc >= 10 && napi_get_value_bool(env, argv[9], &a->decrypt) != napi_ok)
    return throw_type(env, "decrypt must be a boolean"), 0;
  size_t tag_end = (size_t)a->auth_end + a->tag_len;
  if (a->tag_len > SHA1_LEN || a->start > a->end || a->end > a->src_len || a->end > a->dst_len ||
      tag_end > (open ? a->src_len : a->dst_len) || a->auth_end > (open ? a->src_len : a->dst_len))
    return throw_range(env, "start/end/authEnd out of range for src/dst"), 0;
  return 1;
}

static int cm_xor(cm_args *a) {
  int n;
  if (a->end == a->start) return 1;
  return EVP_EncryptInit_ex(a->c->ctr, NULL, NULL, NULL, a->iv) == 1 &&
         EVP_EncryptUpdate(a->c->ctr, a->dst + a->start, &n, a->src + a->start, (int)(a->end - a->start)) == 1;
}

static napi_value cm_seal(napi_env env, napi_callback_info info) {
  cm_args a;
  if (!cm_parse(env, info, &a, 0)) return NULL;
  copy_prefix(a.dst, a.src, a.start);
  if (!cm_xor(&a)) {
    napi_throw_error(env, NULL, "parley_evp: AES-CTR failed");
    return NULL;
  }
  uint8_t mac[SHA1_LEN];
  cm_mac(a.c, a.dst, a.auth_end, a.roc, mac);
  memcpy(a.dst + a.auth_end, mac, a.tag_len);
  return NULL;
}

static napi_value cm_open(napi_env env, napi_callback_info info) {
  cm_args a;
  if (!cm_parse(env, info, &a, 1)) return NULL;
  uint8_t mac[SHA1_LEN];
  cm_mac(a.c, a.src, a.auth_end, a.roc, mac);
  bool ok = CRYPTO_memcmp(mac, a.src + a.auth_end, a.tag_len) == 0;
  if (ok) {
    copy_prefix(a.dst, a.src, a.start);
    if (!a.decrypt) copy_prefix(a.dst + a.start, a.src + a.start, a.end - a.start);
    else if (!cm_xor(&a)) {
      napi_throw_error(env, NULL, "parley_evp: AES-CTR failed");
      return NULL;
    }
  }
  napi_value r;
  napi_get_boolean(env, ok, &r);
  return r;
}

static napi_value version(napi_env env, napi_callback_info info) {
  napi_value r;
  napi_create_string_utf8(env, OpenSSL_version(OPENSSL_VERSION), NAPI_AUTO_LENGTH, &r);
  return r;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      NAPI_METHOD("gcmCreate", gcm_create), NAPI_METHOD("gcmSeal", gcm_seal), NAPI_METHOD("gcmOpen", gcm_open),
      NAPI_METHOD("cmCreate", cm_create),   NAPI_METHOD("cmSeal", cm_seal),   NAPI_METHOD("cmOpen", cm_open),
      NAPI_METHOD("version", version),
  };
  CHECK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
