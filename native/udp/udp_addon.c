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
#include <linux/filter.h>
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

/* What a socket and a group share: the receive ring JS reads (slab, meta rows, stats: the
 * JS-visible ArrayBuffers' memory), the references that keep those buffers and the callback
 * alive, and the async context the callback runs in. */
typedef struct {
  napi_ref cb_ref, data_ref, meta_ref, stats_ref;
  napi_async_context async_ctx;
  double *stats;
  uint8_t *rslab;
  uint32_t *rmeta;
  struct mmsghdr *rmsgs;
  struct iovec *riov;
  struct sockaddr_in *raddr;
} recv_ring_t;

/* The per-slot arrays; 0 when out of memory (ring_free releases what was allocated). */
static int ring_alloc(recv_ring_t *r, uint32_t batch) {
  r->rmsgs = calloc(batch, sizeof *r->rmsgs);
  r->riov = calloc(batch, sizeof *r->riov);
  r->raddr = calloc(batch, sizeof *r->raddr);
  return r->rmsgs && r->riov && r->raddr;
}

/* The JS side: slab (batch * maxd bytes), meta (batch rows of meta_row u32), stats (nstats
 * doubles, zeroed), references to them and to cb, the async context, and every slot's iovec
 * and address wired once (only lengths change per datagram). 0 on failure: ring_release_failed. */
static int ring_init_js(napi_env env, recv_ring_t *r, uint32_t batch, uint32_t maxd, size_t meta_row,
                        size_t nstats, napi_value cb, const char *name, napi_value *data_ab,
                        napi_value *meta_ab, napi_value *stats_ab) {
  void *p;
  if (napi_create_arraybuffer(env, (size_t)batch * maxd, &p, data_ab) != napi_ok) return 0;
  r->rslab = p;
  if (napi_create_arraybuffer(env, (size_t)batch * meta_row * sizeof(uint32_t), &p, meta_ab) != napi_ok) return 0;
  r->rmeta = p;
  if (napi_create_arraybuffer(env, nstats * sizeof(double), &p, stats_ab) != napi_ok) return 0;
  r->stats = p;
  memset(r->stats, 0, nstats * sizeof(double));
  if (napi_create_reference(env, *data_ab, 1, &r->data_ref) != napi_ok ||
      napi_create_reference(env, *meta_ab, 1, &r->meta_ref) != napi_ok ||
      napi_create_reference(env, *stats_ab, 1, &r->stats_ref) != napi_ok ||
      napi_create_reference(env, cb, 1, &r->cb_ref) != napi_ok)
    return 0;
  napi_value resource_name;
  if (napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource_name) != napi_ok ||
      napi_async_init(env, NULL, resource_name, &r->async_ctx) != napi_ok)
    return 0;
  for (uint32_t i = 0; i < batch; i++) {
    r->riov[i].iov_base = r->rslab + (size_t)i * maxd;
    r->riov[i].iov_len = maxd;
    r->rmsgs[i].msg_hdr.msg_iov = &r->riov[i];
    r->rmsgs[i].msg_hdr.msg_iovlen = 1;
    r->rmsgs[i].msg_hdr.msg_name = &r->raddr[i];
    r->rmsgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_in);
  }
  return 1;
}

/* Setup failed before any uv handle existed: release what ring_init_js made (not stats_ref,
 * which ring_free releases with the memory). */
static void ring_release_failed(napi_env env, recv_ring_t *r) {
  if (r->cb_ref) napi_delete_reference(env, r->cb_ref);
  if (r->data_ref) napi_delete_reference(env, r->data_ref);
  if (r->meta_ref) napi_delete_reference(env, r->meta_ref);
  if (r->async_ctx) napi_async_destroy(env, r->async_ctx);
  r->cb_ref = r->data_ref = r->meta_ref = NULL;
  r->async_ctx = NULL;
}

/* close(): detaching (from JS) frees the slab and meta now and turns stale views into empty
 * ones instead of letting them read memory the owner no longer has; stats stays readable. */
static void ring_release(napi_env env, recv_ring_t *r, int from_js) {
  if (from_js) {
    napi_value ab;
    if (napi_get_reference_value(env, r->data_ref, &ab) == napi_ok && ab) napi_detach_arraybuffer(env, ab);
    if (napi_get_reference_value(env, r->meta_ref, &ab) == napi_ok && ab) napi_detach_arraybuffer(env, ab);
    /* Needs a JS context (async hooks); at env teardown Node drops async ids anyway. */
    napi_async_destroy(env, r->async_ctx);
  }
  r->async_ctx = NULL;
  r->rslab = NULL;
  r->rmeta = NULL;
  napi_delete_reference(env, r->cb_ref);
  napi_delete_reference(env, r->data_ref);
  napi_delete_reference(env, r->meta_ref);
  r->cb_ref = r->data_ref = r->meta_ref = NULL;
}

/* With the owner's memory: the stats reference (kept past close for reads) and the slot arrays. */
static void ring_free(napi_env env, recv_ring_t *r) {
  if (r->stats_ref) napi_delete_reference(env, r->stats_ref);
  free(r->rmsgs);
  free(r->riov);
  free(r->raddr);
}

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
  napi_async_cleanup_hook_handle cleanup_hook;
  recv_ring_t ring;
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
  ring_free(s->env, &s->ring);
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
      s->ring.stats[ST_SENT] += r;
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
    s->ring.stats[ST_SEND_ERRORS] += 1;
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
  if (napi_get_reference_value(env, s->ring.cb_ref, &fn) != napi_ok || fn == NULL) return 0;
  napi_get_global(env, &recv); /* make_callback needs an object receiver; the closure ignores it */
  napi_create_uint32(env, count, &arg);
  /* napi_make_callback (not napi_call_function): enters the async context and, back at
   * depth 0, drains process.nextTick and microtasks, as for any Node I/O callback. */
  if (napi_make_callback(env, s->ring.async_ctx, recv, fn, 1, &arg, &result) == napi_ok) return 1;
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
    for (uint32_t i = 0; i < s->batch; i++) s->ring.rmsgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_in);
    int n = recvmmsg(s->fd, s->ring.rmsgs, s->batch, MSG_DONTWAIT, NULL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break; /* EAGAIN: drained. Other errors: nothing queued we can read now. */
    uint32_t k = 0;
    for (int i = 0; i < n; i++) {
      struct mmsghdr *m = &s->ring.rmsgs[i];
      if (m->msg_hdr.msg_flags & MSG_TRUNC) {
        /* Larger than maxDatagram: the slab holds only a prefix, so never deliver it. */
        s->ring.stats[ST_TRUNCATED] += 1;
        continue;
      }
      uint32_t *row = s->ring.rmeta + 4 * (size_t)k++;
      row[0] = (uint32_t)i * s->maxd;
      row[1] = m->msg_len;
      row[2] = ntohl(s->ring.raddr[i].sin_addr.s_addr);
      row[3] = ntohs(s->ring.raddr[i].sin_port);
    }
    if (k > 0) {
      s->ring.stats[ST_RECEIVED] += k;
      s->ring.stats[ST_BATCHES] += 1;
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
  s->ring.stats[ST_SEND_ERRORS] += s->tail - s->head;
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
  ring_release(env, &s->ring, from_js);
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

/* Flags of create()'s optional 8th argument. */
#define CREATE_REUSEPORT 1u

/* create(addressU32, port, batch, maxDatagram, recvBufferBytes, sendBufferBytes, callback[, flags])
 *   -> { handle, data: ArrayBuffer, meta: ArrayBuffer, stats: ArrayBuffer, port } */
static napi_value create(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
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
  uint32_t flags = 0;
  if (argc >= 8 && !get_u32_arg(env, argv[7], 0, 255, &flags)) return throw_type(env, "flags must be 0..255");

  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));

  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  if (flags & CREATE_REUSEPORT) {
    /* Before bind: a sibling (or the next version of this process) may share the port. */
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
      int e = errno;
      close(fd);
      return throw_errno(env, "setsockopt SO_REUSEPORT", e);
    }
  }
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
  int ring_ok = 0;
  if (s) {
    ring_ok = ring_alloc(&s->ring, batch);
    s->sslab = malloc(slab);
    s->smsgs = calloc(batch, sizeof *s->smsgs);
    s->siov = calloc(batch, sizeof *s->siov);
    s->saddr = calloc(batch, sizeof *s->saddr);
  }
  if (!s || !ring_ok || !s->sslab || !s->smsgs || !s->siov || !s->saddr) {
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
  if (!ring_init_js(env, &s->ring, batch, maxd, 4, ST_COUNT, argv[6], "ParleyUdpSocket", &data_ab, &meta_ab,
                    &stats_ab))
    goto fail;

  /* Every send slot's iovec and address are fixed too; only lengths / addresses change per datagram. */
  for (uint32_t i = 0; i < batch; i++) {
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
  ring_release_failed(env, &s->ring);
  free_sock(s);
  close(fd);
  napi_throw_error(env, NULL, "parley_udp: socket setup failed");
  return NULL;
}

/* Queues one datagram (len <= maxd, socket open); flushes when the queue fills. */
static void enqueue(udp_sock_t *s, const uint8_t *data, size_t len, uint32_t port, uint32_t addr) {
  if (s->tail == s->batch) {
    /* Full: normally it was flushed when it filled, so this is the EAGAIN case. */
    flush_queue(s);
    if (s->tail == s->batch) {
      if (s->head == 0) {
        s->ring.stats[ST_SEND_ERRORS] += 1; /* dropped: the kernel is not taking datagrams */
        return;
      }
      compact_queue(s);
    }
  }
  uint32_t i = s->tail++;
  memcpy(s->sslab + (size_t)i * s->maxd, data, len);
  s->siov[i].iov_len = len;
  s->saddr[i].sin_port = htons((uint16_t)port);
  s->saddr[i].sin_addr.s_addr = htonl(addr);
  if (s->want_writable) return; /* UV_WRITABLE will flush */
  if (s->tail == s->batch)
    flush_queue(s);
  else if (s->tail - s->head == 1)
    uv_idle_start(&s->idle, on_idle);
}

/* bytes [offset, offset + length) of argv[off_i], argv[off_i + 1] within (data, len); 0 if out of range. */
static int get_range(napi_env env, napi_value *argv, uint8_t **data, size_t *len) {
  uint32_t off, n;
  if (!get_u32_arg(env, argv[0], 0, 4294967295.0, &off) || !get_u32_arg(env, argv[1], 0, 4294967295.0, &n))
    return 0;
  if ((size_t)off > *len || (size_t)n > *len - off) return 0;
  *data += off;
  *len = n;
  return 1;
}

/* send(handle, data, port, ipv4: number | string[, offset, length]) */
static napi_value sock_send(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  udp_sock_t *s = argc == 4 || argc == 6 ? get_sock(env, argv[0]) : NULL;
  if (!s) return throw_type(env, "send(handle, data, port, ipv4[, offset, length])");
  uint8_t *data;
  size_t len;
  if (!get_bytes(env, argv[1], &data, &len)) return throw_type(env, "data must be a Uint8Array");
  /* A slice of a larger buffer (another socket's receive slab) without a JS view per datagram. */
  if (argc == 6 && !get_range(env, argv + 4, &data, &len))
    return throw_range(env, "offset/length must lie within data");
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
    s->ring.stats[ST_SEND_ERRORS] += 1;
    return NULL;
  }
  if (len > s->maxd) return throw_range(env, "datagram is larger than maxDatagram");
  enqueue(s, data, len, port, addr);
  return NULL;
}

/* The typed array's elements as u32 rows (a Uint32Array), or NULL. */
static uint32_t *get_u32_rows(napi_env env, napi_value v, size_t *count) {
  bool is_ta = false;
  napi_typedarray_type type;
  void *p;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) return NULL;
  if (napi_get_typedarray_info(env, v, &type, count, &p, NULL, NULL) != napi_ok || type != napi_uint32_array)
    return NULL;
  return (uint32_t *)p;
}

/* sendMany(handle, data, rows: Uint32Array, count): `count` rows of 4 u32 (offset, length, port,
 * ipv4) of `data`, each queued as send() would: one call per batch instead of one per datagram.
 * Every row is checked before any is queued (a bad row throws and nothing is sent). */
static napi_value sock_send_many(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  udp_sock_t *s = argc == 4 ? get_sock(env, argv[0]) : NULL;
  if (!s) return throw_type(env, "sendMany(handle, data, rows, count)");
  uint8_t *data;
  size_t len, nrows;
  uint32_t count;
  if (!get_bytes(env, argv[1], &data, &len)) return throw_type(env, "data must be a Uint8Array");
  uint32_t *rows = get_u32_rows(env, argv[2], &nrows);
  if (!rows) return throw_type(env, "rows must be a Uint32Array");
  if (!get_u32_arg(env, argv[3], 0, (double)(nrows / 4), &count)) return throw_range(env, "count exceeds rows");
  for (uint32_t k = 0; k < count; k++) {
    const uint32_t *r = rows + 4 * (size_t)k;
    if ((size_t)r[0] > len || (size_t)r[1] > len - r[0] || r[1] > s->maxd || r[2] < 1 || r[2] > 65535)
      return throw_range(env, "a row lies outside data, exceeds maxDatagram or has port 0");
  }
  if (s->closed) {
    s->ring.stats[ST_SEND_ERRORS] += count;
    return NULL;
  }
  for (uint32_t k = 0; k < count; k++) {
    const uint32_t *r = rows + 4 * (size_t)k;
    enqueue(s, data + r[0], r[1], r[2], r[3]);
  }
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


/* ---- SO_REUSEPORT steering --------------------------------------------------------------
 * steer(handle, index): attaches to the socket's SO_REUSEPORT group a classic BPF program that
 * returns `index`, so the kernel hands every new datagram for the port to the group's socket
 * at that index (sockets are indexed in the order they joined; an index past the end falls
 * back to the usual hash). A planned restart binds the new process's socket (the last one,
 * index n - 1) and steers to it; the old process then only drains what was already queued. */
static napi_value sock_steer(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  udp_sock_t *s = argc == 2 ? get_sock(env, argv[0]) : NULL;
  if (!s) return throw_type(env, "steer(handle, index)");
  uint32_t index;
  if (!get_u32_arg(env, argv[1], 0, 65535, &index)) return throw_range(env, "index must be 0..65535");
  if (s->closed) return throw_type(env, "socket is closed");
  struct sock_filter code[] = {{BPF_RET | BPF_K, 0, 0, index}};
  struct sock_fprog prog = {1, code};
  if (setsockopt(s->fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof prog) != 0)
    return throw_errno(env, "setsockopt SO_ATTACH_REUSEPORT_CBPF", errno);
  return NULL;
}

/* ---- Socket group ------------------------------------------------------------------------
 * Many small sockets (a relay's per-flow upstream sockets, one per client) sharing one
 * receive slab, one JS callback and one end-of-turn delivery, so that N sockets cost N fds
 * and N poll handles but not N slabs, N check handles or N JS calls per loop turn:
 *   receive: each member's uv_poll readiness runs recvmmsg into the free tail of the shared
 *     slab; the rows (offset, length, address, port, member id) are delivered to JS once the
 *     slab is full or in the group's uv_check at the end of the loop turn.
 *   send: sendto(MSG_DONTWAIT) at once (datagrams of different members cannot share a
 *     sendmmsg); a datagram the kernel refuses (EAGAIN included) is dropped and counted.
 * Member ids are small integers reused after close; closing a member also blanks its rows
 * still waiting for delivery, so a reused id never receives its predecessor's datagrams. */

enum { GST_RECEIVED, GST_SENT, GST_SEND_ERRORS, GST_BATCHES, GST_TRUNCATED, GST_OPEN, GST_COUNT };
#define GROUP_ROW 5
#define NO_MEMBER 0xffffffffu

struct udp_group;
typedef struct {
  struct udp_group *g;
  int fd;
  uint32_t id;
  uv_poll_t poll;
} udp_member_t;

typedef struct udp_group {
  napi_env env;
  uint32_t batch, maxd;
  int closed;
  int js_alive;
  int handles; /* check + members whose poll handle is not closed yet */
  uv_check_t check;
  napi_async_cleanup_hook_handle cleanup_hook;
  recv_ring_t ring;
  uint32_t slots; /* slab slots filled since the last delivery */
  uint32_t rows;  /* rows of rmeta filled (truncated datagrams take a slot, not a row) */
  udp_member_t **members;
  uint32_t cap;
  uint32_t *free_ids;
  uint32_t nfree;
  uint32_t next_id;
} udp_group_t;

static const napi_type_tag GROUP_TAG = {0x7061726c65797564ULL, 0x67726f7570000001ULL};

static udp_group_t *get_group(napi_env env, napi_value v) {
  return (udp_group_t *)get_tagged_external(env, v, &GROUP_TAG);
}

static void free_group(udp_group_t *g) {
  ring_free(g->env, &g->ring);
  free(g->members);
  free(g->free_ids);
  free(g);
}

static void group_handle_closed(udp_group_t *g) {
  if (--g->handles > 0) return;
  napi_async_cleanup_hook_handle hook = g->cleanup_hook;
  g->cleanup_hook = NULL;
  if (!g->js_alive) free_group(g);
  if (hook) napi_remove_async_cleanup_hook(hook);
}

static void on_member_closed(uv_handle_t *h) {
  udp_member_t *m = (udp_member_t *)h->data;
  udp_group_t *g = m->g;
  free(m);
  group_handle_closed(g);
}

static void on_group_check_closed(uv_handle_t *h) { group_handle_closed((udp_group_t *)h->data); }

/* Calls JS with the pending rows (if any); 0 if it threw or JS cannot run. */
static int group_deliver(udp_group_t *g) {
  uint32_t rows = g->rows;
  g->slots = g->rows = 0;
  if (rows == 0 || g->closed) return 1;
  g->ring.stats[GST_RECEIVED] += rows;
  g->ring.stats[GST_BATCHES] += 1;
  napi_env env = g->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return 0;
  int ok = 0;
  napi_value fn, recv, arg, result;
  if (napi_get_reference_value(env, g->ring.cb_ref, &fn) == napi_ok && fn != NULL) {
    napi_get_global(env, &recv);
    napi_create_uint32(env, rows, &arg);
    if (napi_make_callback(env, g->ring.async_ctx, recv, fn, 1, &arg, &result) == napi_ok) {
      ok = 1;
    } else {
      bool pending = false;
      napi_is_exception_pending(env, &pending);
      if (pending) {
        napi_value exc;
        napi_get_and_clear_last_exception(env, &exc);
        napi_fatal_exception(env, exc);
      }
    }
  }
  napi_close_handle_scope(env, scope);
  return ok;
}

static void on_member_poll(uv_poll_t *h, int status, int events) {
  udp_member_t *m = (udp_member_t *)h->data;
  udp_group_t *g = m->g;
  if (m->fd < 0 || g->closed) return;
  if (status < 0) {
    /* As for a single socket: clear the pending error (an ICMP port unreachable) and re-arm. */
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(m->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    uv_poll_start(&m->poll, UV_READABLE, on_member_poll);
    return;
  }
  if (!(events & UV_READABLE)) return;
  for (int round = 0; round < MAX_ROUNDS; round++) {
    if (g->slots == g->batch) {
      group_deliver(g);
      /* The callback may have closed this member or the group. */
      if (m->fd < 0 || g->closed) return;
    }
    uint32_t space = g->batch - g->slots;
    for (uint32_t i = g->slots; i < g->batch; i++) g->ring.rmsgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_in);
    int n = recvmmsg(m->fd, g->ring.rmsgs + g->slots, space, MSG_DONTWAIT, NULL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (int k = 0; k < n; k++) {
      uint32_t i = g->slots + (uint32_t)k;
      struct mmsghdr *mm = &g->ring.rmsgs[i];
      if (mm->msg_hdr.msg_flags & MSG_TRUNC) {
        g->ring.stats[GST_TRUNCATED] += 1;
        continue;
      }
      uint32_t *row = g->ring.rmeta + GROUP_ROW * (size_t)g->rows++;
      row[0] = i * g->maxd;
      row[1] = mm->msg_len;
      row[2] = ntohl(g->ring.raddr[i].sin_addr.s_addr);
      row[3] = ntohs(g->ring.raddr[i].sin_port);
      row[4] = m->id;
    }
    g->slots += (uint32_t)n;
    if ((uint32_t)n < space) break; /* drained */
  }
}

static void on_group_check(uv_check_t *h) {
  udp_group_t *g = (udp_group_t *)h->data;
  if (!g->closed && g->rows > 0) group_deliver(g);
  else g->slots = g->rows = 0;
}

static void close_member(udp_group_t *g, udp_member_t *m) {
  uv_poll_stop(&m->poll);
  close(m->fd);
  m->fd = -1;
  /* Rows of this member waiting for delivery must not reach whoever gets the id next. */
  for (uint32_t r = 0; r < g->rows; r++)
    if (g->ring.rmeta[GROUP_ROW * (size_t)r + 4] == m->id) g->ring.rmeta[GROUP_ROW * (size_t)r + 4] = NO_MEMBER;
  g->members[m->id] = NULL;
  g->free_ids[g->nfree++] = m->id;
  g->ring.stats[GST_OPEN] -= 1;
  uv_close((uv_handle_t *)&m->poll, on_member_closed);
}

static void close_group(udp_group_t *g, int from_js) {
  if (g->closed) return;
  napi_env env = g->env;
  for (uint32_t id = 0; id < g->next_id; id++)
    if (g->members[id]) close_member(g, g->members[id]);
  g->closed = 1;
  g->slots = g->rows = 0;
  uv_check_stop(&g->check);
  uv_close((uv_handle_t *)&g->check, on_group_check_closed);
  ring_release(env, &g->ring, from_js);
}

static void on_group_env_cleanup(napi_async_cleanup_hook_handle handle, void *arg) {
  (void)handle;
  close_group((udp_group_t *)arg, 0);
}

static void finalize_group(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  udp_group_t *g = (udp_group_t *)data;
  g->js_alive = 0;
  if (!g->closed) close_group(g, 0);
  if (g->handles == 0) free_group(g);
}

/* groupCreate(batch, maxDatagram, maxMembers, callback)
 *   -> { handle, data: ArrayBuffer, meta: ArrayBuffer (5 u32 per row), stats: ArrayBuffer } */
static napi_value group_create(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4) return throw_type(env, "groupCreate(batch, maxDatagram, maxMembers, callback)");
  uint32_t batch, maxd, cap;
  if (!get_u32_arg(env, argv[0], 1, MAX_BATCH, &batch)) return throw_range(env, "batch must be 1..1024");
  if (!get_u32_arg(env, argv[1], 1, 65536, &maxd)) return throw_range(env, "maxDatagram must be 1..65536");
  if (!get_u32_arg(env, argv[2], 1, 1 << 22, &cap)) return throw_range(env, "maxMembers must be 1..4194304");
  napi_valuetype t;
  CHECK(napi_typeof(env, argv[3], &t));
  if (t != napi_function) return throw_type(env, "callback must be a function");
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));

  udp_group_t *g = (udp_group_t *)calloc(1, sizeof *g);
  int ring_ok = 0;
  if (g) {
    ring_ok = ring_alloc(&g->ring, batch);
    g->members = calloc(cap, sizeof *g->members);
    g->free_ids = calloc(cap, sizeof *g->free_ids);
  }
  if (!g || !ring_ok || !g->members || !g->free_ids) {
    if (g) free_group(g);
    napi_throw_error(env, NULL, "parley_udp: out of memory");
    return NULL;
  }
  g->env = env;
  g->batch = batch;
  g->maxd = maxd;
  g->cap = cap;
  napi_value data_ab, meta_ab, stats_ab;
  if (!ring_init_js(env, &g->ring, batch, maxd, GROUP_ROW, GST_COUNT, argv[3], "ParleyUdpGroup", &data_ab,
                    &meta_ab, &stats_ab))
    goto fail;
  g->handles = 1;
  g->js_alive = 1;
  g->check.data = g;
  uv_check_init(loop, &g->check);
  uv_check_start(&g->check, on_group_check);
  uv_unref((uv_handle_t *)&g->check);
  napi_add_async_cleanup_hook(env, on_group_env_cleanup, g, &g->cleanup_hook);

  napi_value ext;
  if (napi_create_external(env, g, finalize_group, NULL, &ext) != napi_ok) {
    close_group(g, 1);
    g->js_alive = 0;
    napi_throw_error(env, NULL, "parley_udp: napi_create_external failed");
    return NULL;
  }
  CHECK(napi_type_tag_object(env, ext, &GROUP_TAG));
  napi_value result;
  CHECK(napi_create_object(env, &result));
  CHECK(napi_set_named_property(env, result, "handle", ext));
  CHECK(napi_set_named_property(env, result, "data", data_ab));
  CHECK(napi_set_named_property(env, result, "meta", meta_ab));
  CHECK(napi_set_named_property(env, result, "stats", stats_ab));
  return result;

fail:
  ring_release_failed(env, &g->ring);
  free_group(g);
  napi_throw_error(env, NULL, "parley_udp: group setup failed");
  return NULL;
}

static udp_group_t *group_arg(napi_env env, napi_value v) {
  udp_group_t *g = get_group(env, v);
  if (!g) throw_type(env, "not a UDP group handle");
  return g;
}

/* groupOpen(handle, addressU32, port, recvBufferBytes, sendBufferBytes) -> id * 65536 + port.
 * Throws an Error with .code (EMFILE, EADDRINUSE, ...) when the socket cannot be made. */
static napi_value group_open(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5) return throw_type(env, "groupOpen(handle, address, port, recvBuf, sendBuf)");
  udp_group_t *g = group_arg(env, argv[0]);
  if (!g) return NULL;
  uint32_t addr, port, rcvbuf, sndbuf;
  if (!get_u32_arg(env, argv[1], 0, 4294967295.0, &addr)) return throw_type(env, "address must be an IPv4 u32");
  if (!get_u32_arg(env, argv[2], 0, 65535, &port)) return throw_range(env, "port must be 0..65535");
  if (!get_u32_arg(env, argv[3], 0, 4294967295.0, &rcvbuf)) return throw_range(env, "recvBufferBytes must be >= 0");
  if (!get_u32_arg(env, argv[4], 0, 4294967295.0, &sndbuf)) return throw_range(env, "sendBufferBytes must be >= 0");
  if (g->closed) return throw_type(env, "group is closed");
  if (g->nfree == 0 && g->next_id == g->cap) {
    napi_throw_error(env, "EMFILE", "parley_udp: group is at maxMembers");
    return NULL;
  }
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  if ((rcvbuf && set_buf_size(fd, SO_RCVBUFFORCE, SO_RCVBUF, rcvbuf) != 0) ||
      (sndbuf && set_buf_size(fd, SO_SNDBUFFORCE, SO_SNDBUF, sndbuf) != 0)) {
    int e = errno;
    close(fd);
    return throw_errno(env, "setsockopt", e);
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
  udp_member_t *m = (udp_member_t *)calloc(1, sizeof *m);
  if (!m || uv_poll_init(loop, &m->poll, fd) != 0) {
    free(m);
    close(fd);
    napi_throw_error(env, NULL, "parley_udp: cannot watch the socket");
    return NULL;
  }
  m->g = g;
  m->fd = fd;
  m->id = g->nfree > 0 ? g->free_ids[--g->nfree] : g->next_id++;
  m->poll.data = m;
  g->members[m->id] = m;
  g->handles++;
  g->ring.stats[GST_OPEN] += 1;
  uv_poll_start(&m->poll, UV_READABLE, on_member_poll);
  /* Members never keep the process alive by themselves (the relay's public socket does). */
  uv_unref((uv_handle_t *)&m->poll);
  napi_value r;
  CHECK(napi_create_double(env, (double)m->id * 65536.0 + ntohs(sa.sin_port), &r));
  return r;
}

static udp_member_t *member_of(udp_group_t *g, uint32_t id) {
  return !g->closed && id < g->next_id ? g->members[id] : NULL;
}

/* groupSend(handle, id, data, offset, length, port, addressU32): sendto now; never throws for
 * network errors or a closed member (counted in sendErrors). */
static napi_value group_send(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 7) return throw_type(env, "groupSend(handle, id, data, offset, length, port, address)");
  udp_group_t *g = group_arg(env, argv[0]);
  if (!g) return NULL;
  uint32_t id, port, addr;
  uint8_t *data;
  size_t len;
  if (!get_u32_arg(env, argv[1], 0, 4294967295.0, &id)) return throw_type(env, "id must be a member id");
  if (!get_bytes(env, argv[2], &data, &len)) return throw_type(env, "data must be a Uint8Array");
  if (!get_range(env, argv + 3, &data, &len)) return throw_range(env, "offset/length must lie within data");
  if (!get_u32_arg(env, argv[5], 1, 65535, &port)) return throw_range(env, "port must be 1..65535");
  if (!get_u32_arg(env, argv[6], 0, 4294967295.0, &addr)) return throw_type(env, "address must be an IPv4 u32");
  udp_member_t *m = member_of(g, id);
  if (!m) {
    g->ring.stats[GST_SEND_ERRORS] += 1;
    return NULL;
  }
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(addr);
  sa.sin_port = htons((uint16_t)port);
  ssize_t r;
  do r = sendto(m->fd, data, len, MSG_DONTWAIT, (struct sockaddr *)&sa, sizeof sa);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    g->ring.stats[GST_SEND_ERRORS] += 1;
  else
    g->ring.stats[GST_SENT] += 1;
  return NULL;
}

/* groupSendMany(handle, data, rows: Uint32Array, count): `count` rows of 5 u32 (member id,
 * offset, length, port, ipv4), each sent at once with sendto from its member's socket, in
 * order: one call per batch instead of one per datagram. Rows are checked first (a bad one
 * throws, nothing is sent); a closed member's row is a counted no-op, like send(). */
static napi_value group_send_many(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4) return throw_type(env, "groupSendMany(handle, data, rows, count)");
  udp_group_t *g = group_arg(env, argv[0]);
  if (!g) return NULL;
  uint8_t *data;
  size_t len, nrows;
  uint32_t count;
  if (!get_bytes(env, argv[1], &data, &len)) return throw_type(env, "data must be a Uint8Array");
  uint32_t *rows = get_u32_rows(env, argv[2], &nrows);
  if (!rows) return throw_type(env, "rows must be a Uint32Array");
  if (!get_u32_arg(env, argv[3], 0, (double)(nrows / 5), &count)) return throw_range(env, "count exceeds rows");
  for (uint32_t k = 0; k < count; k++) {
    const uint32_t *r = rows + 5 * (size_t)k;
    if ((size_t)r[1] > len || (size_t)r[2] > len - r[1] || r[3] < 1 || r[3] > 65535)
      return throw_range(env, "a row lies outside data or has port 0");
  }
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  for (uint32_t k = 0; k < count; k++) {
    const uint32_t *r = rows + 5 * (size_t)k;
    udp_member_t *m = member_of(g, r[0]);
    if (!m) {
      g->ring.stats[GST_SEND_ERRORS] += 1;
      continue;
    }
    sa.sin_addr.s_addr = htonl(r[4]);
    sa.sin_port = htons((uint16_t)r[3]);
    ssize_t n;
    do n = sendto(m->fd, data + r[1], r[2], MSG_DONTWAIT, (struct sockaddr *)&sa, sizeof sa);
    while (n < 0 && errno == EINTR);
    if (n < 0)
      g->ring.stats[GST_SEND_ERRORS] += 1;
    else
      g->ring.stats[GST_SENT] += 1;
  }
  return NULL;
}

/* groupCloseMember(handle, id): idempotent. */
static napi_value group_close_member(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) return throw_type(env, "groupCloseMember(handle, id)");
  udp_group_t *g = group_arg(env, argv[0]);
  if (!g) return NULL;
  uint32_t id;
  if (!get_u32_arg(env, argv[1], 0, 4294967295.0, &id)) return throw_type(env, "id must be a member id");
  udp_member_t *m = member_of(g, id);
  if (m) close_member(g, m);
  return NULL;
}

static napi_value group_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  udp_group_t *g = argc == 1 ? group_arg(env, argv[0]) : NULL;
  if (g) close_group(g, 1);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      NAPI_METHOD("create", create),
      NAPI_METHOD("send", sock_send),
      NAPI_METHOD("flush", sock_flush),
      NAPI_METHOD("close", sock_close),
      NAPI_METHOD("ref", sock_ref),
      NAPI_METHOD("unref", sock_unref),
      NAPI_METHOD("steer", sock_steer),
      NAPI_METHOD("groupCreate", group_create),
      NAPI_METHOD("groupOpen", group_open),
      NAPI_METHOD("groupSend", group_send),
      NAPI_METHOD("groupSendMany", group_send_many),
      NAPI_METHOD("sendMany", sock_send_many),
      NAPI_METHOD("groupCloseMember", group_close_member),
      NAPI_METHOD("groupClose", group_close),
  };
  CHECK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
