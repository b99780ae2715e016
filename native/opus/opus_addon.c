/*
 * parley_opus: a minimal Node-API binding of the system libopus (Debian libopus-dev).
 *
 * Encoder and decoder handles are tagged externals; every call writes into a
 * caller-provided buffer (Uint8Array for packets, Int16Array for PCM) and
 * returns the number of bytes / samples-per-channel, or a negative OPUS_*
 * error code. Plain node_api.h, no node-addon-api.
 */
#define NAPI_VERSION 8
#define PARLEY_ADDON "parley_opus"
#include "napi-helpers.h"
#include <opus/opus.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
  OpusEncoder *enc;
  int channels;
} encoder_t;

typedef struct {
  OpusDecoder *dec;
  int channels;
} decoder_t;

static const napi_type_tag ENC_TAG = {0x7061726c65796f70ULL, 0x7573656e63000001ULL};
static const napi_type_tag DEC_TAG = {0x7061726c65796f70ULL, 0x7573646563000001ULL};

static int get_typed(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *count) {
  bool is_ta = false;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) return 0;
  napi_typedarray_type type;
  if (napi_get_typedarray_info(env, v, &type, count, data, NULL, NULL) != napi_ok) return 0;
  if (type == want) return 1;
  /* Buffers are Uint8Arrays; accept Uint8ClampedArray too for bytes. */
  return want == napi_uint8_array && (type == napi_int8_array || type == napi_uint8_clamped_array);
}

static void finalize_encoder(napi_env env, void *data, void *hint) {
  encoder_t *e = (encoder_t *)data;
  if (e->enc) opus_encoder_destroy(e->enc);
  free(e);
}

static void finalize_decoder(napi_env env, void *data, void *hint) {
  decoder_t *d = (decoder_t *)data;
  if (d->dec) opus_decoder_destroy(d->dec);
  free(d);
}

static napi_value throw_opus(napi_env env, const char *what, int code) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s", what, opus_strerror(code));
  napi_value m, c, err;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  napi_create_int32(env, code, &c);
  napi_create_error(env, NULL, m, &err);
  napi_set_named_property(env, err, "code", c);
  napi_throw(env, err);
  return NULL;
}

/* encoderCreate(rate, channels, application, bitrate, complexity, inbandFec, packetLossPercent, dtx) */
static napi_value encoder_create(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 8) return throw_type(env, "encoderCreate(rate, channels, application, bitrate, complexity, fec, lossPercent, dtx)");
  int32_t v[8];
  for (int i = 0; i < 8; i++)
    if (napi_get_value_int32(env, argv[i], &v[i]) != napi_ok) return throw_type(env, "encoderCreate: arguments must be numbers");
  int err = OPUS_OK;
  OpusEncoder *enc = opus_encoder_create(v[0], v[1], v[2], &err);
  if (err != OPUS_OK || !enc) return throw_opus(env, "opus_encoder_create", err);
  int rc = OPUS_OK;
  if (rc == OPUS_OK) rc = opus_encoder_ctl(enc, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
  if (rc == OPUS_OK) rc = opus_encoder_ctl(enc, OPUS_SET_BITRATE(v[3]));
  if (rc == OPUS_OK) rc = opus_encoder_ctl(enc, OPUS_SET_COMPLEXITY(v[4]));
  if (rc == OPUS_OK) rc = opus_encoder_ctl(enc, OPUS_SET_INBAND_FEC(v[5]));
  if (rc == OPUS_OK) rc = opus_encoder_ctl(enc, OPUS_SET_PACKET_LOSS_PERC(v[6]));
  if (rc == OPUS_OK) rc = opus_encoder_ctl(enc, OPUS_SET_DTX(v[7]));
  if (rc != OPUS_OK) {
    opus_encoder_destroy(enc);
    return throw_opus(env, "opus_encoder_ctl", rc);
  }
  encoder_t *e = (encoder_t *)malloc(sizeof *e);
  if (!e) {
    opus_encoder_destroy(enc);
    return throw_opus(env, "encoderCreate", OPUS_ALLOC_FAIL);
  }
  e->enc = enc;
  e->channels = v[1];
  napi_value ext;
  if (napi_create_external(env, e, finalize_encoder, NULL, &ext) != napi_ok) {
    finalize_encoder(env, e, NULL);
    napi_throw_error(env, NULL, "napi_create_external failed");
    return NULL;
  }
  CHECK(napi_type_tag_object(env, ext, &ENC_TAG));
  return ext;
}

/* encode(enc, pcm: Int16Array (interleaved), out: Uint8Array) -> bytes or -error */
static napi_value encode(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  encoder_t *e = argc >= 3 ? (encoder_t *)get_tagged_external(env, argv[0], &ENC_TAG) : NULL;
  if (!e) return throw_type(env, "encode(encoder, pcm, out)");
  if (!e->enc) return throw_opus(env, "encode", OPUS_INVALID_STATE);
  void *pcm, *out;
  size_t samples, out_len;
  if (!get_typed(env, argv[1], napi_int16_array, &pcm, &samples)) return throw_type(env, "pcm must be an Int16Array");
  if (!get_typed(env, argv[2], napi_uint8_array, &out, &out_len)) return throw_type(env, "out must be a Uint8Array");
  if (samples % (size_t)e->channels) return make_int(env, OPUS_BAD_ARG);
  if (out_len > 0x7fffffff) out_len = 0x7fffffff;
  int n = opus_encode(e->enc, (const opus_int16 *)pcm, (int)(samples / e->channels), (unsigned char *)out, (opus_int32)out_len);
  return make_int(env, n);
}

/* encoderCtlGet(enc, request) for the few GET ctls we need (lookahead, final range). */
static napi_value encoder_get(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  encoder_t *e = argc >= 2 ? (encoder_t *)get_tagged_external(env, argv[0], &ENC_TAG) : NULL;
  if (!e) return throw_type(env, "encoderGet(encoder, request)");
  if (!e->enc) return throw_opus(env, "encoderGet", OPUS_INVALID_STATE);
  int32_t req;
  if (napi_get_value_int32(env, argv[1], &req) != napi_ok) return throw_type(env, "request must be a number");
  opus_int32 val = 0;
  int rc;
  switch (req) {
    case OPUS_GET_LOOKAHEAD_REQUEST: rc = opus_encoder_ctl(e->enc, OPUS_GET_LOOKAHEAD(&val)); break;
    case OPUS_GET_BITRATE_REQUEST: rc = opus_encoder_ctl(e->enc, OPUS_GET_BITRATE(&val)); break;
    default: return throw_opus(env, "encoderGet", OPUS_UNIMPLEMENTED);
  }
  if (rc != OPUS_OK) return throw_opus(env, "opus_encoder_ctl", rc);
  return make_int(env, val);
}

/* encoderSet(enc, request, value) for integer SET ctls (bitrate, complexity, fec, loss %, dtx, reset). */
static napi_value encoder_set(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  encoder_t *e = argc >= 3 ? (encoder_t *)get_tagged_external(env, argv[0], &ENC_TAG) : NULL;
  if (!e) return throw_type(env, "encoderSet(encoder, request, value)");
  if (!e->enc) return throw_opus(env, "encoderSet", OPUS_INVALID_STATE);
  int32_t req, val;
  if (napi_get_value_int32(env, argv[1], &req) != napi_ok || napi_get_value_int32(env, argv[2], &val) != napi_ok)
    return throw_type(env, "request and value must be numbers");
  int rc;
  switch (req) {
    case OPUS_SET_BITRATE_REQUEST: rc = opus_encoder_ctl(e->enc, OPUS_SET_BITRATE(val)); break;
    case OPUS_SET_COMPLEXITY_REQUEST: rc = opus_encoder_ctl(e->enc, OPUS_SET_COMPLEXITY(val)); break;
    case OPUS_SET_INBAND_FEC_REQUEST: rc = opus_encoder_ctl(e->enc, OPUS_SET_INBAND_FEC(val)); break;
    case OPUS_SET_PACKET_LOSS_PERC_REQUEST: rc = opus_encoder_ctl(e->enc, OPUS_SET_PACKET_LOSS_PERC(val)); break;
    case OPUS_SET_DTX_REQUEST: rc = opus_encoder_ctl(e->enc, OPUS_SET_DTX(val)); break;
    case OPUS_RESET_STATE: rc = opus_encoder_ctl(e->enc, OPUS_RESET_STATE); break;
    default: return throw_opus(env, "encoderSet", OPUS_UNIMPLEMENTED);
  }
  if (rc != OPUS_OK) return throw_opus(env, "opus_encoder_ctl", rc);
  return NULL;
}

static napi_value decoder_create(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t rate, channels;
  if (argc < 2 || napi_get_value_int32(env, argv[0], &rate) != napi_ok ||
      napi_get_value_int32(env, argv[1], &channels) != napi_ok)
    return throw_type(env, "decoderCreate(rate, channels)");
  int err = OPUS_OK;
  OpusDecoder *dec = opus_decoder_create(rate, channels, &err);
  if (err != OPUS_OK || !dec) return throw_opus(env, "opus_decoder_create", err);
  decoder_t *d = (decoder_t *)malloc(sizeof *d);
  if (!d) {
    opus_decoder_destroy(dec);
    return throw_opus(env, "decoderCreate", OPUS_ALLOC_FAIL);
  }
  d->dec = dec;
  d->channels = channels;
  napi_value ext;
  if (napi_create_external(env, d, finalize_decoder, NULL, &ext) != napi_ok) {
    finalize_decoder(env, d, NULL);
    napi_throw_error(env, NULL, "napi_create_external failed");
    return NULL;
  }
  CHECK(napi_type_tag_object(env, ext, &DEC_TAG));
  return ext;
}

/*
 * decode(dec, packet: Uint8Array | null, pcmOut: Int16Array, frameSize, fec) -> samples per channel or -error.
 * packet null = packet-loss concealment of frameSize samples; fec = 1 decodes the in-band FEC copy of
 * the frame BEFORE `packet` (frameSize must then be exactly that frame's duration).
 */
static napi_value decode(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  decoder_t *d = argc >= 5 ? (decoder_t *)get_tagged_external(env, argv[0], &DEC_TAG) : NULL;
  if (!d) return throw_type(env, "decode(decoder, packet|null, pcmOut, frameSize, fec)");
  if (!d->dec) return throw_opus(env, "decode", OPUS_INVALID_STATE);
  napi_valuetype t;
  CHECK(napi_typeof(env, argv[1], &t));
  void *pkt = NULL;
  size_t pkt_len = 0;
  if (t != napi_null && t != napi_undefined && !get_typed(env, argv[1], napi_uint8_array, &pkt, &pkt_len))
    return throw_type(env, "packet must be a Uint8Array or null");
  void *pcm;
  size_t pcm_len;
  if (!get_typed(env, argv[2], napi_int16_array, &pcm, &pcm_len)) return throw_type(env, "pcmOut must be an Int16Array");
  int32_t frame, fec;
  if (napi_get_value_int32(env, argv[3], &frame) != napi_ok || napi_get_value_int32(env, argv[4], &fec) != napi_ok)
    return throw_type(env, "frameSize and fec must be numbers");
  if (frame <= 0 || (size_t)frame * (size_t)d->channels > pcm_len) return make_int(env, OPUS_BUFFER_TOO_SMALL);
  if (pkt_len > 0x7fffffff) return make_int(env, OPUS_INVALID_PACKET);
  int n = opus_decode(d->dec, pkt_len ? (const unsigned char *)pkt : NULL, (opus_int32)pkt_len, (opus_int16 *)pcm, frame, fec ? 1 : 0);
  return make_int(env, n);
}

static napi_value close_handle(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) return throw_type(env, "close(handle)");
  encoder_t *e = (encoder_t *)get_tagged_external(env, argv[0], &ENC_TAG);
  if (e) {
    if (e->enc) opus_encoder_destroy(e->enc);
    e->enc = NULL;
    return NULL;
  }
  decoder_t *d = (decoder_t *)get_tagged_external(env, argv[0], &DEC_TAG);
  if (d) {
    if (d->dec) opus_decoder_destroy(d->dec);
    d->dec = NULL;
    return NULL;
  }
  return throw_type(env, "not an Opus handle");
}

static napi_value version(napi_env env, napi_callback_info info) {
  napi_value r;
  napi_create_string_utf8(env, opus_get_version_string(), NAPI_AUTO_LENGTH, &r);
  return r;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      NAPI_METHOD("encoderCreate", encoder_create),
      NAPI_METHOD("encode", encode),
      NAPI_METHOD("encoderGet", encoder_get),
      NAPI_METHOD("encoderSet", encoder_set),
      NAPI_METHOD("decoderCreate", decoder_create),
      NAPI_METHOD("decode", decode),
      NAPI_METHOD("close", close_handle),
      NAPI_METHOD("version", version),
  };
  CHECK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
