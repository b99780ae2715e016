/*
 * parley_srtp: a minimal Node-API binding of libsrtp2 (Debian libsrtp2-dev).
 *
 * One handle = one srtp_t for ONE direction (ssrc_any_outbound for protect,
 * ssrc_any_inbound for unprotect), keyed with one master key+salt. libsrtp
 * works in place and assumes it may write past the packet, so every call
 * copies the input into a caller-provided output buffer that we have checked
 * is large enough, then protects/unprotects that buffer. Returns the output
 * length, or -(srtp_err_status_t) on failure (never throws for bad packets).
 *
 * Plain node_api.h (no node-addon-api) so the only build inputs are Node's
 * headers and the Debian -dev package.
 */
#define NAPI_VERSION 8
#define PARLEY_ADDON "parley_srtp"
#include "napi-helpers.h"
#include <srtp2/srtp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* DTLS-SRTP protection profile ids (RFC 5764 / RFC 7714), same numbers werift uses. */
#define PROFILE_AES_CM_128_HMAC_SHA1_80 1
#define PROFILE_AEAD_AES_128_GCM 7

typedef struct {
  srtp_t ctx;
  int rtp_overhead;  /* bytes srtp_protect appends */
  int rtcp_overhead; /* bytes srtp_protect_rtcp appends (tag + E|index) */
  int outbound;
} session_t;

static const napi_type_tag SESSION_TAG = {0x7061726c65797372ULL, 0x7470736573730001ULL};

static session_t *get_session(napi_env env, napi_value v) {
  return (session_t *)get_tagged_external(env, v, &SESSION_TAG);
}

static void finalize_session(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  session_t *s = (session_t *)data;
  if (s->ctx) srtp_dealloc(s->ctx);
  free(s);
}

/* create(profile: number, keyAndSalt: Uint8Array, outbound: boolean, windowSize: number, allowRepeatTx: boolean) */
static napi_value create(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5) return throw_type(env, "create(profile, keyAndSalt, outbound, windowSize, allowRepeatTx)");
  int32_t profile, window;
  bool outbound, repeat;
  uint8_t *key;
  size_t key_len;
  if (napi_get_value_int32(env, argv[0], &profile) != napi_ok) return throw_type(env, "profile must be a number");
  if (!get_bytes(env, argv[1], &key, &key_len)) return throw_type(env, "keyAndSalt must be a Uint8Array");
  if (napi_get_value_bool(env, argv[2], &outbound) != napi_ok) return throw_type(env, "outbound must be a boolean");
  if (napi_get_value_int32(env, argv[3], &window) != napi_ok) return throw_type(env, "windowSize must be a number");
  if (napi_get_value_bool(env, argv[4], &repeat) != napi_ok) return throw_type(env, "allowRepeatTx must be a boolean");

  srtp_policy_t policy;
  memset(&policy, 0, sizeof policy);
  int tag;
  size_t want;
  if (profile == PROFILE_AES_CM_128_HMAC_SHA1_80) {
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
    want = SRTP_AES_ICM_128_KEY_LEN_WSALT; /* 30 */
    tag = 10;
  } else if (profile == PROFILE_AEAD_AES_128_GCM) {
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
    want = SRTP_AES_GCM_128_KEY_LEN_WSALT; /* 28 */
    tag = 16;
  } else {
    napi_throw_range_error(env, NULL, "unsupported SRTP profile (1 = AES_CM_128_HMAC_SHA1_80, 7 = AEAD_AES_128_GCM)");
    return NULL;
  }
  if (key_len != want) {
    napi_throw_range_error(env, NULL, "master key+salt has the wrong length for this profile (30 for profile 1, 28 for 7)");
    return NULL;
  }
  if (window != 0 && (window < 64 || window >= 0x8000)) {
    napi_throw_range_error(env, NULL, "windowSize must be 0 (default 128) or 64..32767");
    return NULL;
  }
  policy.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
  policy.ssrc.value = 0;
  policy.key = key; /* copied by srtp_create */
  policy.window_size = (unsigned long)window;
  policy.allow_repeat_tx = repeat ? 1 : 0;
  policy.next = NULL;

  session_t *s = (session_t *)calloc(1, sizeof *s);
  if (!s) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  srtp_err_status_t st = srtp_create(&s->ctx, &policy);
  if (st != srtp_err_status_ok) {
    free(s);
    char msg[64];
    snprintf(msg, sizeof msg, "srtp_create failed: status %d", (int)st);
    napi_throw_error(env, NULL, msg);
    return NULL;
  }
  s->rtp_overhead = tag;
  s->rtcp_overhead = tag + 4;
  s->outbound = outbound ? 1 : 0;

  napi_value ext;
  if (napi_create_external(env, s, finalize_session, NULL, &ext) != napi_ok) {
    srtp_dealloc(s->ctx);
    free(s);
    napi_throw_error(env, NULL, "napi_create_external failed");
    return NULL;
  }
  CHECK(napi_type_tag_object(env, ext, &SESSION_TAG));
  return ext;
}

enum op { OP_PROTECT, OP_UNPROTECT, OP_PROTECT_RTCP, OP_UNPROTECT_RTCP };

/* (handle, input, output) -> length written to output, or -status. */
static napi_value run(napi_env env, napi_callback_info info, enum op op) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) return throw_type(env, "expected (session, input, output)");
  session_t *s = get_session(env, argv[0]);
  if (!s) return throw_type(env, "not an SRTP session handle");
  if (!s->ctx) {
    napi_throw_error(env, NULL, "SRTP session is closed");
    return NULL;
  }
  int wants_out = (op == OP_PROTECT || op == OP_PROTECT_RTCP);
  if (wants_out != s->outbound) return throw_type(env, wants_out ? "protect on an inbound session" : "unprotect on an outbound session");
  uint8_t *in, *out;
  size_t in_len, out_len;
  if (!get_bytes(env, argv[1], &in, &in_len)) return throw_type(env, "input must be a Uint8Array");
  if (!get_bytes(env, argv[2], &out, &out_len)) return throw_type(env, "output must be a Uint8Array");
  /* Unprotect sees untrusted datagrams: oversize input is a rejected packet, not an exception. */
  if (!wants_out && in_len > 0xffff) return make_int(env, -(int)srtp_err_status_bad_param);
  size_t need = in_len + (op == OP_PROTECT ? s->rtp_overhead : op == OP_PROTECT_RTCP ? s->rtcp_overhead : 0);
  if (in_len > 0xffff || out_len < need) {
    napi_throw_range_error(env, NULL, "output buffer too small (protect needs input + 10/16 bytes for RTP, +14/20 for RTCP)");
    return NULL;
  }
  /* libsrtp reads the fixed header before checking lengths; reject runts here. */
  if (in_len < (op == OP_PROTECT || op == OP_UNPROTECT ? 12u : 8u)) return make_int(env, -(int)srtp_err_status_bad_param);
  if (out != in) memmove(out, in, in_len);
  int len = (int)in_len;
  srtp_err_status_t st;
  switch (op) {
    case OP_PROTECT: st = srtp_protect(s->ctx, out, &len); break;
    case OP_UNPROTECT: st = srtp_unprotect(s->ctx, out, &len); break;
    case OP_PROTECT_RTCP: st = srtp_protect_rtcp(s->ctx, out, &len); break;
    default: st = srtp_unprotect_rtcp(s->ctx, out, &len); break;
  }
  return make_int(env, st == srtp_err_status_ok ? len : -(int)st);
}

static napi_value protect(napi_env env, napi_callback_info info) { return run(env, info, OP_PROTECT); }
static napi_value unprotect(napi_env env, napi_callback_info info) { return run(env, info, OP_UNPROTECT); }
static napi_value protect_rtcp(napi_env env, napi_callback_info info) { return run(env, info, OP_PROTECT_RTCP); }
static napi_value unprotect_rtcp(napi_env env, napi_callback_info info) { return run(env, info, OP_UNPROTECT_RTCP); }

static napi_value close_session(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  session_t *s = argc ? get_session(env, argv[0]) : NULL;
  if (!s) return throw_type(env, "not an SRTP session handle");
  if (s->ctx) srtp_dealloc(s->ctx);
  s->ctx = NULL;
  return NULL;
}

static napi_value version(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value r;
  napi_create_string_utf8(env, srtp_get_version_string(), NAPI_AUTO_LENGTH, &r);
  return r;
}

static napi_value init(napi_env env, napi_value exports) {
  /* srtp_init is idempotent after the first call; safe across worker threads. */
  srtp_err_status_t st = srtp_init();
  if (st != srtp_err_status_ok) {
    napi_throw_error(env, NULL, "srtp_init failed");
    return NULL;
  }
  napi_property_descriptor props[] = {
      NAPI_METHOD("create", create),
      NAPI_METHOD("protect", protect),
      NAPI_METHOD("unprotect", unprotect),
      NAPI_METHOD("protectRtcp", protect_rtcp),
      NAPI_METHOD("unprotectRtcp", unprotect_rtcp),
      NAPI_METHOD("close", close_session),
      NAPI_METHOD("version", version),
  };
  CHECK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
