/*
 * parley_udp: one IPv4 UDP socket read with recvmmsg(2) and written with sendmmsg(2), driven
 * by the Node event loop, for the transceiver's single shared socket (and its load generator).
 *
 * node:dgram costs one syscall and one JS callback per datagram in each direction, plus a
 * lookup() nextTick per send. Here:
 *   receive: a uv_poll_t watches the fd; on readiness recvmmsg(MSG_DONTWAIT) fills one
 *     preallocated slab (batch x maxDatagram bytes) and JS is called once per recvmmsg
 *     batch with a count; offsets/lengths/addresses are in a Uint32Array. Both live in
 *     ArrayBuffers created once and reused, so a batch allocates nothing on the JS heap.
 *     At most MAX_ROUNDS batches per readiness so one busy socket cannot starve the loop
 *     (the poll is level-triggered: what is left wakes us on the next turn).
 *   send: send() copies the datagram into a send slab and its mmsghdr; a uv_check_t (end of
 *     this loop turn) or a full queue flushes it with sendmmsg. A uv_idle_t is active while
 *     datagrams are queued only so the loop does not block in epoll before that check runs
 *     (sends queued from setImmediate or before the loop starts). On EAGAIN the rest stays
 *     queued and the poll is armed for UV_WRITABLE; when the queue is full and cannot drain,
 *     the new datagram is dropped and counted (sendErrors).
 *
 * Exceptions thrown by the JS callback are reported with napi_fatal_exception, i.e. as
 * process 'uncaughtException' exactly like a throwing node:dgram 'message' listener; if the
 * process survives (a handler is installed) the socket keeps working.
 *
 * Lifetime: while open, the socket holds a strong reference to its JS callback (and so to
 * the JS wrapper), like a bound dgram socket: it works even if the caller drops it. close()
 * stops and uv_closes the handles, closes the fd, detaches the receive slab and releases the
 * callback; the struct is freed once both the uv close callbacks have run and the JS handle
 * has been finalized. An async env cleanup hook closes a socket the process never closed
 * (worker exit, process end), and waits for the uv close callbacks, as Node requires before
 * it closes the loop.
 *
 * Plain node_api.h + uv.h (no node-addon-api): the only build inputs are Node's headers.
 */
#define _GNU_SOURCE /* recvmmsg, sendmmsg, struct mmsghdr */
#define NAPI_VERSION 8
#ifndef __linux__
#error "parley_udp needs Linux (recvmmsg/sendmmsg); other platforms use node:dgram"
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#define PARLEY_ADDON "parley_udp"
#include "napi-helpers.h"

/* recvmmsg batches per readiness before yielding to the rest of the loop. */
#define MAX_ROUNDS 8
/* recvmmsg/sendmmsg take at most UIO_MAXIOV (1024) messages per call. */
#define MAX_BATCH 1024

/* Float64Array layout shared with index.cjs (stats). */
enum { ST_RECEIVED, ST_SENT, ST_SEND_ERRORS, ST_BATCHES, ST_TRUNCATED, ST_COUNT };

typedef struct {
  napi_env env;
  int fd;
  uint32_t batch; /* datagrams per recvmmsg, and send-queue capacity */
  uint32_t maxd;  /* bytes per slab slot (largest datagram delivered / accepted) */
  int closed;
  int refed;         /* user's ref()/unref() */
  int want_writable; /* poll armed for UV_WRITABLE after EAGAIN */
  int js_alive;      /* the external has not been finalized */
  int handles;       /* uv handles not yet through their close callback */
  uv_poll_t poll;
  uv_check_t check;
  uv_idle_t idle;
  napi_ref cb_ref, data_ref, meta_ref, stats_ref;
  napi_async_context async_ctx;
  napi_async_cleanup_hook_handle cleanup_hook;
  double *stats;
  /* receive: slab and meta are the JS-visible ArrayBuffers' memory */
  uint8_t *rslab;
  uint32_t *rmeta;
  struct mmsghdr *rmsgs;
  struct iovec *riov;
  struct sockaddr_in *raddr;
  /* send: queued datagrams are [head, tail) of fixed slots */
  uint8_t *sslab;
  struct mmsghdr *smsgs;
  struct iovec *siov;
  struct sockaddr_in *saddr;
  uint32_t head, tail;
} udp_sock_t;

static const napi_type_tag SOCK_TAG = {0x7061726c65797564ULL, 0x70736f636b650001ULL};

/* An Error with .code = "EADDRINUSE" etc., like node:dgram's. */
static napi_value throw_errno(napi_env env, const char *syscall, int err) {
  const char *name = uv_err_name(uv_translate_sys_error(err));
  char msg[160];
  snprintf(msg, sizeof msg, "%s %s (%s)", syscall, name, strerror(err));
  napi_throw_error(env, name, msg);
  return NULL;
}

static udp_sock_t *get_sock(napi_env env, napi_value v) {
  return (udp_sock_t *)get_tagged_external(env, v, &SOCK_TAG);
}

static void free_sock(udp_sock_t *s) {
  /* cb/data/meta refs are released by close; stats stays valid for reads after close. */
  if (s->stats_ref) napi_delete_reference(s->env, s->stats_ref);
  free(s->rmsgs);
  free(s->riov);
  free(s->raddr);
  free(s->sslab);
  free(s->smsgs);
  free(s->siov);
  free(s->saddr);
  free(s);
}

static void on_handle_closed(uv_handle_t *h) {
  udp_sock_t *s = (udp_sock_t *)h->data;
  if (--s->handles > 0) return;
  napi_async_cleanup_hook_handle hook = s->cleanup_hook;
  s->cleanup_hook = NULL;
  if (!s->js_alive) free_sock(s);
  /* Last, and without touching s afterwards: removing the hook during env teardown can
   * drop the env's last reference, which finalizes the external (and frees s) right here. */
  if (hook) napi_remove_async_cleanup_hook(hook);
}

/* The poll handle keeps the loop alive if the user wants it, or while sends wait for
 * UV_WRITABLE (as a pending node:dgram send request would). */
static void update_poll_ref(udp_sock_t *s) {
  if (s->refed || s->want_writable)
    uv_ref((uv_handle_t *)&s->poll);
  else
    uv_unref((uv_handle_t *)&s->poll);
}

static void on_poll(uv_poll_t *h, int status, int events);

static void set_writable(udp_sock_t *s, int on) {
  if (s->want_writable == on) return;
  s->want_writable = on;
  uv_poll_start(&s->poll, on ? UV_READABLE | UV_WRITABLE : UV_READABLE, on_poll);
  update_poll_ref(s);
}

/* sendmmsg [head, tail) until done or EAGAIN. sendmmsg stops at the first failing message
 * (reporting it on the next call), so a hard error is charged to the datagram at head,
 * which is dropped, and the rest still goes out in order. */
static void flush_queue(udp_sock_t *s) {
  while (s->head < s->tail) {
    int r = sendmmsg(s->fd, s->smsgs + s->head, s->tail - s->head, MSG_DONTWAIT);
    if (r > 0) {
      s->head += (uint32_t)r;
      s->stats[ST_SENT] += r;
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      /* Socket send buffer full: keep the rest, stop the idle nudge (it would spin), and
       * come back when the kernel says the fd is writable. */
      uv_idle_stop(&s->idle);
      set_writable(s, 1);
      return;
    }
    s->head++;
    s->stats[ST_SEND_ERRORS] += 1;
  }
  s->head = s->tail = 0;
  uv_idle_stop(&s->idle);
  if (s->want_writable) set_writable(s, 0);
}

/* Moves the queued [head, tail) to the front so appends can continue (only after EAGAIN). */
static void compact_queue(udp_sock_t *s) {
  uint32_t n = s->tail - s->head;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t from = s->head + i;
    memmove(s->sslab + (size_t)i * s->maxd, s->sslab + (size_t)from * s->maxd, s->siov[from].iov_len);
    s->siov[i].iov_len = s->siov[from].iov_len;
    s->saddr[i] = s->saddr[from];
  }
  s->head = 0;
  s->tail = n;
}

/* Calls the JS callback with the batch size; 0 if it threw or JS cannot run any more. */
static int deliver(udp_sock_t *s, uint32_t count) {
  napi_env env = s->env;
  napi_value fn, recv, arg, result;
  if (napi_get_reference_value(env, s->cb_ref, &fn) != napi_ok || fn == NULL) return 0;
  napi_get_global(env, &recv); /* make_callback needs an object receiver; the closure ignores it */
  napi_create_uint32(env, count, &arg);
  /* napi_make_callback (not napi_call_function): enters the async context and, back at
   * depth 0, drains process.nextTick and microtasks, as for any Node I/O callback. */
  if (napi_make_callback(env, s->async_ctx, recv, fn, 1, &arg, &result) == napi_ok) return 1;
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) {
    napi_value exc;
    napi_get_and_clear_last_exception(env, &exc);
    /* Same path as an exception in an event handler: 'uncaughtException', or exit. */
    napi_fatal_exception(env, exc);
  }
  return 0;
}

static void receive_ready(udp_sock_t *s) {
  napi_handle_scope scope;
  if (napi_open_handle_scope(s->env, &scope) != napi_ok) return;
  for (int round = 0; round < MAX_ROUNDS && !s->closed; round++) {
    for (uint32_t i = 0; i < s->batch; i++) s->rmsgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_in);
    int n = recvmmsg(s->fd, s->rmsgs, s->batch, MSG_DONTWAIT, NULL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break; /* EAGAIN: drained. Other errors: nothing queued we can read now. */
    uint32_t k = 0;
    for (int i = 0; i < n; i++) {
      struct mmsghdr *m = &s->rmsgs[i];
      if (m->msg_hdr.msg_flags & MSG_TRUNC) {
        /* Larger than maxDatagram: the slab holds only a prefix, so never deliver it. */
        s->stats[ST_TRUNCATED] += 1;
        continue;
      }
      uint32_t *row = s->rmeta + 4 * (size_t)k++;
      row[0] = (uint32_t)i * s->maxd;
      row[1] = m->msg_len;
      row[2] = ntohl(s->raddr[i].sin_addr.s_addr);
      row[3] = ntohs(s->raddr[i].sin_port);
    }
    if (k > 0) {
      s->stats[ST_RECEIVED] += k;
      s->stats[ST_BATCHES] += 1;
      if (!deliver(s, k)) break; /* threw: let the loop turn; the rest is read next readiness */
    }
    /* A short batch means the receive queue was empty a moment ago: skip the EAGAIN call. */
    if ((uint32_t)n < s->batch) break;
  }
  napi_close_handle_scope(s->env, scope);
}

static void on_poll(uv_poll_t *h, int status, int events) {
  udp_sock_t *s = (udp_sock_t *)h->data;
  if (s->closed) return;
  if (status < 0) {
    /* libuv stops a poll handle on POLLERR. Read (and so clear) the pending socket error and
     * re-arm, so a stray ICMP error cannot silently wedge the socket. */
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    uv_poll_start(&s->poll, s->want_writable ? UV_READABLE | UV_WRITABLE : UV_READABLE, on_poll);
    return;
  }
  if (events & UV_WRITABLE) flush_queue(s);
  if (events & UV_READABLE) receive_ready(s);
}

static void on_check(uv_check_t *h) {
  udp_sock_t *s = (udp_sock_t *)h->data;
  if (!s->closed && s->head < s->tail && !s->want_writable) flush_queue(s);
}

static void on_idle(uv_idle_t *h) {
  (void)h; /* exists only to keep epoll from blocking while sends are queued */
}

/* Stops everything. from_js: called from JS (close()), so handles may be created (detach). */
static void close_sock(udp_sock_t *s, int from_js) {
  if (s->closed) return;
  napi_env env = s->env;
  if (from_js && s->head < s->tail) flush_queue(s); /* one best-effort pass, no waiting */
  s->stats[ST_SEND_ERRORS] += s->tail - s->head;
  s->head = s->tail = 0;
  s->closed = 1;
  uv_poll_stop(&s->poll);
  uv_check_stop(&s->check);
  uv_idle_stop(&s->idle);
  uv_close((uv_handle_t *)&s->poll, on_handle_closed);
  uv_close((uv_handle_t *)&s->check, on_handle_closed);
  uv_close((uv_handle_t *)&s->idle, on_handle_closed);
  close(s->fd);
  s->fd = -1;
  if (from_js) {
    /* Detaching frees the receive slab now and turns stale views into empty ones instead
     * of letting them read memory the socket no longer owns. */
    napi_value ab;
    if (napi_get_reference_value(env, s->data_ref, &ab) == napi_ok && ab) napi_detach_arraybuffer(env, ab);
    if (napi_get_reference_value(env, s->meta_ref, &ab) == napi_ok && ab) napi_detach_arraybuffer(env, ab);
    /* Needs a JS context (async hooks); at env teardown Node drops async ids anyway. */
    napi_async_destroy(env, s->async_ctx);
  }
  s->async_ctx = NULL;
  s->rslab = NULL;
  s->rmeta = NULL;
  napi_delete_reference(env, s->cb_ref);
  napi_delete_reference(env, s->data_ref);
  napi_delete_reference(env, s->meta_ref);
  s->cb_ref = s->data_ref = s->meta_ref = NULL;
  free(s->sslab);
  s->sslab = NULL;
}

static void on_env_cleanup(napi_async_cleanup_hook_handle handle, void *arg) {
  (void)handle; /* the same handle as s->cleanup_hook, removed in on_handle_closed */
  close_sock((udp_sock_t *)arg, 0);
}

static void finalize_sock(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  udp_sock_t *s = (udp_sock_t *)data;
  s->js_alive = 0;
  /* Open sockets are not collectable (they hold their callback strongly); this branch is
   * only reached when the env is torn down without its cleanup hook having closed us. */
  if (!s->closed) close_sock(s, 0);
  if (s->handles == 0) free_sock(s);
}

static int get_u32_arg(napi_env env, napi_value v, double lo, double hi, uint32_t *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) return 0;
  if (!(d >= lo && d <= hi) || d != (double)(uint32_t)d) return 0;
  *out = (uint32_t)d;
  return 1;
}

static int set_buf_size(int fd, int force_opt, int opt, uint32_t bytes) {
  int v = bytes > 0x7fffffff ? 0x7fffffff : (int)bytes;
  /* *BUFFORCE lets a privileged process exceed net.core.[rw]mem_max (the whole point when
   * a caller asks for megabytes); unprivileged, fall back to the capped plain option. */
  if (setsockopt(fd, SOL_SOCKET, force_opt, &v, sizeof v) == 0) return 0;
  return setsockopt(fd, SOL_SOCKET, opt, &v, sizeof v);
}

/* create(addressU32, port, batch, maxDatagram, recvBufferBytes, sendBufferBytes, callback)
 *   -> { handle, data: ArrayBuffer, meta: ArrayBuffer, stats: ArrayBuffer, port } */
static napi_value create(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 7) return throw_type(env, "create(address, port, batch, maxDatagram, recvBuf, sendBuf, callback)");
  uint32_t addr, port, batch, maxd, rcvbuf, sndbuf;
  if (!get_u32_arg(env, argv[0], 0, 4294967295.0, &addr)) return throw_type(env, "address must be an IPv4 u32");
  if (!get_u32_arg(env, argv[1], 0, 65535, &port)) return throw_range(env, "port must be 0..65535");
  if (!get_u32_arg(env, argv[2], 1, MAX_BATCH, &batch)) return throw_range(env, "batch must be 1..1024");
  if (!get_u32_arg(env, argv[3], 1, 65536, &maxd)) return throw_range(env, "maxDatagram must be 1..65536");
  if (!get_u32_arg(env, argv[4], 0, 4294967295.0, &rcvbuf)) return throw_range(env, "recvBufferBytes must be >= 0");
  if (!get_u32_arg(env, argv[5], 0, 4294967295.0, &sndbuf)) return throw_range(env, "sendBufferBytes must be >= 0");
  napi_valuetype t;
  CHECK(napi_typeof(env, argv[6], &t));
  if (t != napi_function) return throw_type(env, "callback must be a function");

  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));

  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  if (rcvbuf && set_buf_size(fd, SO_RCVBUFFORCE, SO_RCVBUF, rcvbuf) != 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, "setsockopt SO_RCVBUF", e);
  }
  if (sndbuf && set_buf_size(fd, SO_SNDBUFFORCE, SO_SNDBUF, sndbuf) != 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, "setsockopt SO_SNDBUF", e);
  }
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(addr);
  sa.sin_port = htons((uint16_t)port);
  socklen_t salen = sizeof sa;
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || getsockname(fd, (struct sockaddr *)&sa, &salen) != 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, "bind", e);
  }

  udp_sock_t *s = (udp_sock_t *)calloc(1, sizeof *s);
  size_t slab = (size_t)batch * maxd;
  if (s) {
    s->rmsgs = calloc(batch, sizeof *s->rmsgs);
    s->riov = calloc(batch, sizeof *s->riov);
    s->raddr = calloc(batch, sizeof *s->raddr);
    s->sslab = malloc(slab);
    s->smsgs = calloc(batch, sizeof *s->smsgs);
    s->siov = calloc(batch, sizeof *s->siov);
    s->saddr = calloc(batch, sizeof *s->saddr);
  }
  if (!s || !s->rmsgs || !s->riov || !s->raddr || !s->sslab || !s->smsgs || !s->siov || !s->saddr) {
    if (s) free_sock(s);
    close(fd);
    napi_throw_error(env, NULL, "parley_udp: out of memory");
    return NULL;
  }
  s->env = env;
  s->fd = fd;
  s->batch = batch;
  s->maxd = maxd;

  napi_value data_ab, meta_ab, stats_ab;
  void *p;
  if (napi_create_arraybuffer(env, slab, &p, &data_ab) != napi_ok) goto fail;
  s->rslab = p;
  if (napi_create_arraybuffer(env, (size_t)batch * 4 * sizeof(uint32_t), &p, &meta_ab) != napi_ok) goto fail;
  s->rmeta = p;
  if (napi_create_arraybuffer(env, ST_COUNT * sizeof(double), &p, &stats_ab) != napi_ok) goto fail;
  s->stats = p;
  memset(s->stats, 0, ST_COUNT * sizeof(double));
  if (napi_create_reference(env, data_ab, 1, &s->data_ref) != napi_ok ||
      napi_create_reference(env, meta_ab, 1, &s->meta_ref) != napi_ok ||
      napi_create_reference(env, stats_ab, 1, &s->stats_ref) != napi_ok ||
      napi_create_reference(env, argv[6], 1, &s->cb_ref) != napi_ok)
    goto fail;
  napi_value resource_name;
  if (napi_create_string_utf8(env, "ParleyUdpSocket", NAPI_AUTO_LENGTH, &resource_name) != napi_ok ||
      napi_async_init(env, NULL, resource_name, &s->async_ctx) != napi_ok)
    goto fail;

  /* Every slot's iovec and address are fixed; only lengths / addresses change per datagram. */
  for (uint32_t i = 0; i < batch; i++) {
    s->riov[i].iov_base = s->rslab + (size_t)i * maxd;
    s->riov[i].iov_len = maxd;
    s->rmsgs[i].msg_hdr.msg_iov = &s->riov[i];
    s->rmsgs[i].msg_hdr.msg_iovlen = 1;
    s->rmsgs[i].msg_hdr.msg_name = &s->raddr[i];
    s->rmsgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_in);
    s->siov[i].iov_base = s->sslab + (size_t)i * maxd;
    s->smsgs[i].msg_hdr.msg_iov = &s->siov[i];
    s->smsgs[i].msg_hdr.msg_iovlen = 1;
    s->smsgs[i].msg_hdr.msg_name = &s->saddr[i];
    s->smsgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_in);
    s->saddr[i].sin_family = AF_INET;
  }

  if (uv_poll_init(loop, &s->poll, fd) != 0) goto fail;
  /* From here the handles exist and must be uv_closed; close_sock does that. */
  s->handles = 3;
  s->js_alive = 1;
  s->refed = 1;
  s->poll.data = s->check.data = s->idle.data = s;
  uv_check_init(loop, &s->check);
  uv_idle_init(loop, &s->idle);
  uv_poll_start(&s->poll, UV_READABLE, on_poll);
  /* Always running but never keeping the process alive by itself: it is the end-of-turn flush. */
  uv_check_start(&s->check, on_check);
  uv_unref((uv_handle_t *)&s->check);
  napi_add_async_cleanup_hook(env, on_env_cleanup, s, &s->cleanup_hook);

  napi_value ext;
  if (napi_create_external(env, s, finalize_sock, NULL, &ext) != napi_ok) {
    close_sock(s, 1);
    s->js_alive = 0; /* on_handle_closed frees it */
    napi_throw_error(env, NULL, "parley_udp: napi_create_external failed");
    return NULL;
  }
  CHECK(napi_type_tag_object(env, ext, &SOCK_TAG));
  napi_value result, port_v;
  CHECK(napi_create_object(env, &result));
  CHECK(napi_create_uint32(env, ntohs(sa.sin_port), &port_v));
  CHECK(napi_set_named_property(env, result, "handle", ext));
  CHECK(napi_set_named_property(env, result, "data", data_ab));
  CHECK(napi_set_named_property(env, result, "meta", meta_ab));
  CHECK(napi_set_named_property(env, result, "stats", stats_ab));
  CHECK(napi_set_named_property(env, result, "port", port_v));
  return result;

fail:
  /* Before uv_poll_init: no handles to close, so release by hand. */
  if (s->cb_ref) napi_delete_reference(env, s->cb_ref);
  if (s->data_ref) napi_delete_reference(env, s->data_ref);
  if (s->meta_ref) napi_delete_reference(env, s->meta_ref);
  if (s->async_ctx) napi_async_destroy(env, s->async_ctx);
  free_sock(s);
  close(fd);
  napi_throw_error(env, NULL, "parley_udp: socket setup failed");
  return NULL;
}

/* send(handle, data, port, ipv4: number | string) */
static napi_value sock_send(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  udp_sock_t *s = argc == 4 ? get_sock(env, argv[0]) : NULL;
  if (!s) return throw_type(env, "send(handle, data, port, ipv4)");
  uint8_t *data;
  size_t len;
  if (!get_bytes(env, argv[1], &data, &len)) return throw_type(env, "data must be a Uint8Array");
  uint32_t port, addr;
  if (!get_u32_arg(env, argv[2], 1, 65535, &port)) return throw_range(env, "port must be 1..65535");
  napi_valuetype t;
  CHECK(napi_typeof(env, argv[3], &t));
  if (t == napi_string) {
    char text[INET_ADDRSTRLEN + 1];
    size_t n;
    struct in_addr in;
    if (napi_get_value_string_utf8(env, argv[3], text, sizeof text, &n) != napi_ok || n >= INET_ADDRSTRLEN ||
        inet_pton(AF_INET, text, &in) != 1)
      return throw_type(env, "address must be a dotted-quad IPv4 address (use node:dgram for IPv6)");
    addr = ntohl(in.s_addr);
  } else if (!get_u32_arg(env, argv[3], 0, 4294967295.0, &addr)) {
    return throw_type(env, "address must be an IPv4 string or a host-order u32");
  }
  if (s->closed) {
    s->stats[ST_SEND_ERRORS] += 1;
    return NULL;
  }
  if (len > s->maxd) return throw_range(env, "datagram is larger than maxDatagram");

  if (s->tail == s->batch) {
    /* Full: normally it was flushed when it filled, so this is the EAGAIN case. */
    flush_queue(s);
    if (s->tail == s->batch) {
      if (s->head == 0) {
        s->stats[ST_SEND_ERRORS] += 1; /* dropped: the kernel is not taking datagrams */
        return NULL;
      }
      compact_queue(s);
    }
  }
  uint32_t i = s->tail++;
  memcpy(s->sslab + (size_t)i * s->maxd, data, len);
  s->siov[i].iov_len = len;
  s->saddr[i].sin_port = htons((uint16_t)port);
  s->saddr[i].sin_addr.s_addr = htonl(addr);
  if (s->want_writable) return NULL; /* UV_WRITABLE will flush */
  if (s->tail == s->batch)
    flush_queue(s);
  else if (s->tail - s->head == 1)
    uv_idle_start(&s->idle, on_idle);
  return NULL;
}

static udp_sock_t *sock_arg(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  udp_sock_t *s = argc == 1 ? get_sock(env, argv[0]) : NULL;
  if (!s) throw_type(env, "not a UDP socket handle");
  return s;
}

static napi_value sock_flush(napi_env env, napi_callback_info info) {
  udp_sock_t *s = sock_arg(env, info);
  if (s && !s->closed) flush_queue(s);
  return NULL;
}

static napi_value sock_close(napi_env env, napi_callback_info info) {
  udp_sock_t *s = sock_arg(env, info);
  if (s) close_sock(s, 1);
  return NULL;
}

static napi_value set_ref(napi_env env, napi_callback_info info, int on) {
  udp_sock_t *s = sock_arg(env, info);
  if (s && !s->closed) {
    s->refed = on;
    update_poll_ref(s);
  }
  return NULL;
}

static napi_value sock_ref(napi_env env, napi_callback_info info) { return set_ref(env, info, 1); }
static napi_value sock_unref(napi_env env, napi_callback_info info) { return set_ref(env, info, 0); }

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      NAPI_METHOD("create", create),
      NAPI_METHOD("send", sock_send),
      NAPI_METHOD("flush", sock_flush),
      NAPI_METHOD("close", sock_close),
      NAPI_METHOD("ref", sock_ref),
      NAPI_METHOD("unref", sock_unref),
  };
  CHECK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
