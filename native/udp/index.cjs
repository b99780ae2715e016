'use strict';
// Loader for the recvmmsg/sendmmsg UDP addon (build/Release/parley_udp.node, built by
// `npm run build:native`). Linux and IPv4 only: loadNativeUdp() returns undefined on other
// platforms, when the addon is not built or cannot load, or with PARLEY_NATIVE=0, so callers
// keep node:dgram (IPv6 callers always do).
const { makeBindingLoader } = require('../load-binding.cjs');

const binding = makeBindingLoader(__dirname, 'parley_udp.node', {
  label: 'UDP addon',
  linuxOnly: 'the UDP addon is Linux-only (recvmmsg/sendmmsg)',
});

/** Dotted-quad IPv4 → host-order u32 (127.0.0.1 → 0x7f000001); -1 for anything else (IPv6, names). */
function ipv4ToU32(address) {
  if (typeof address !== 'string') return -1;
  const n = address.length;
  if (n < 7 || n > 15) return -1;
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < n; i++) {
    const c = address.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      // No leading zeros (inet_pton rejects them; some parsers read them as octal).
      if (digits > 0 && part === 0) return -1;
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return -1;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + part;
}

/** Host-order u32 → dotted quad. */
function u32ToIpv4(n) {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function checkInt(name, v, lo, hi) {
  if (!Number.isInteger(v) || v < lo || v > hi)
    throw new RangeError(`${name} must be an integer in ${lo}..${hi}`);
  return v;
}

/**
 * One bound IPv4 UDP socket. Received datagrams arrive in batches through `onBatch` (one call
 * per recvmmsg, up to `batch` datagrams, at most 8 calls per loop turn); `send` queues a copy
 * that leaves with sendmmsg at the end of the loop turn (or as soon as `batch` are queued).
 */
class NativeUdpSocket {
  #b;
  #h;
  #stats;
  #port;
  #closed = false;

  /** Called once per received batch; `this` is the socket. Exceptions go to 'uncaughtException'. */
  onBatch = undefined;

  constructor(opts) {
    const b = binding.need();
    const address = ipv4ToU32(opts.address);
    if (address < 0)
      throw new TypeError(`address must be an IPv4 address (use node:dgram for IPv6): ${opts.address}`);
    const port = checkInt('port', opts.port, 0, 65535);
    const batchSize = checkInt('batch', opts.batch ?? 64, 1, 1024);
    const maxDatagram = checkInt('maxDatagram', opts.maxDatagram ?? 2048, 1, 65536);
    const rcv = checkInt('recvBufferBytes', opts.recvBufferBytes ?? 0, 0, 0x7fffffff);
    const snd = checkInt('sendBufferBytes', opts.sendBufferBytes ?? 0, 0, 0x7fffffff);
    const flags = opts.reusePort ? 1 : 0;
    // One batch object for the socket's life: the addon rewrites the slab and meta in place.
    const batch = { data: undefined, count: 0, meta: undefined };
    const r = b.create(
      address,
      port,
      batchSize,
      maxDatagram,
      rcv,
      snd,
      (count) => {
        batch.count = count;
        if (this.onBatch !== undefined) this.onBatch(batch);
      },
      flags,
    );
    batch.data = Buffer.from(r.data);
    batch.meta = new Uint32Array(r.meta);
    this.#b = b;
    this.#h = r.handle;
    this.#stats = new Float64Array(r.stats);
    this.#port = r.port;
  }

  get port() {
    return this.#port;
  }

  /**
   * Queues a copy of `data` for `ipv4` (host-order u32 or dotted quad) : `port`. Network
   * errors never throw (they are counted in stats.sendErrors, as are sends after close()).
   * Throws for programming errors: not a Uint8Array, port outside 1..65535, not IPv4,
   * longer than maxDatagram.
   */
  send(data, port, ipv4) {
    this.#b.send(this.#h, data, port, ipv4);
  }

  /** Like send(), for bytes [offset, offset + length) of data (no subarray view needed). */
  sendRange(data, offset, length, port, ipv4) {
    this.#b.send(this.#h, data, port, ipv4, offset, length);
  }

  /**
   * Queues `count` datagrams in one call: rows holds 4 Uint32 per datagram (offset and length
   * in data, port, host-order IPv4). Rows are all checked before any is queued.
   */
  sendMany(data, rows, count) {
    this.#b.sendMany(this.#h, data, rows, count);
  }

  /**
   * SO_REUSEPORT sockets only: from now on the kernel gives every datagram for this port to
   * the group's socket at `index` (join order; see steer in udp_addon.c).
   */
  steer(index) {
    this.#b.steer(this.#h, index);
  }

  /** sendmmsg whatever is queued now instead of at the end of the loop turn. */
  flush() {
    this.#b.flush(this.#h);
  }

  get stats() {
    const s = this.#stats;
    return { received: s[0], sent: s[1], sendErrors: s[2], batches: s[3], truncated: s[4] };
  }

  /** Idempotent. Flushes what is queued once (best effort), then closes; the batch views become empty. */
  close() {
    if (this.#closed) return;
    this.#closed = true;
    this.#b.close(this.#h);
  }

  ref() {
    this.#b.ref(this.#h);
  }

  unref() {
    this.#b.unref(this.#h);
  }
}

/**
 * Many IPv4 sockets sharing one receive slab and one batch callback (see the group section of
 * udp_addon.c): a relay's per-flow upstream sockets. `open()` binds a member and returns its
 * id and port; `send()` goes out at once with sendto.
 */
class NativeUdpGroup {
  #b;
  #h;
  #stats;
  #closed = false;

  /** Called with the group's pending datagrams once per loop turn (or when the slab is full). */
  onBatch = undefined;

  constructor(opts = {}) {
    const b = binding.need();
    const batchSize = checkInt('batch', opts.batch ?? 64, 1, 1024);
    const maxDatagram = checkInt('maxDatagram', opts.maxDatagram ?? 2048, 1, 65536);
    const maxMembers = checkInt('maxMembers', opts.maxMembers ?? 65536, 1, 1 << 22);
    const batch = { data: undefined, count: 0, meta: undefined };
    const r = b.groupCreate(batchSize, maxDatagram, maxMembers, (count) => {
      batch.count = count;
      if (this.onBatch !== undefined) this.onBatch(batch);
    });
    batch.data = Buffer.from(r.data);
    batch.meta = new Uint32Array(r.meta);
    this.#b = b;
    this.#h = r.handle;
    this.#stats = new Float64Array(r.stats);
  }

  /** Binds a new member on address:port (0 = ephemeral); throws an Error with .code (EMFILE, ...). */
  open(address = '0.0.0.0', port = 0, opts = {}) {
    const a = ipv4ToU32(address);
    if (a < 0) throw new TypeError(`address must be an IPv4 address: ${address}`);
    checkInt('port', port, 0, 65535);
    const rcv = checkInt('recvBufferBytes', opts.recvBufferBytes ?? 0, 0, 0x7fffffff);
    const snd = checkInt('sendBufferBytes', opts.sendBufferBytes ?? 0, 0, 0x7fffffff);
    const v = this.#b.groupOpen(this.#h, a, port, rcv, snd);
    return { id: Math.floor(v / 65536), port: v % 65536 };
  }

  /** sendto from member `id`; bytes [offset, offset + length) of data; ipv4 is a host-order u32. */
  send(id, data, offset, length, port, ipv4) {
    this.#b.groupSend(this.#h, id, data, offset, length, port, ipv4);
  }

  /**
   * Sends `count` datagrams in one call: rows holds 5 Uint32 per datagram (member id, offset
   * and length in data, port, host-order IPv4), each a sendto from that member, in order.
   */
  sendMany(data, rows, count) {
    this.#b.groupSendMany(this.#h, data, rows, count);
  }

  /** Idempotent; rows of this member not yet delivered are blanked (id 0xffffffff). */
  closeMember(id) {
    this.#b.groupCloseMember(this.#h, id);
  }

  get stats() {
    const s = this.#stats;
    return { received: s[0], sent: s[1], sendErrors: s[2], batches: s[3], truncated: s[4], open: s[5] };
  }

  close() {
    if (this.#closed) return;
    this.#closed = true;
    this.#b.groupClose(this.#h);
  }
}

/** The addon's API, or undefined when it is not built / cannot load / not Linux. */
function loadNativeUdp() {
  const b = binding.load();
  if (!b) return undefined;
  return { NativeUdpSocket, NativeUdpGroup };
}

/** Why loadNativeUdp() returned undefined (for a startup log line). */
function nativeUdpLoadError() {
  return binding.loadError();
}

exports.loadNativeUdp = loadNativeUdp;
exports.nativeUdpLoadError = nativeUdpLoadError;
exports.NativeUdpSocket = NativeUdpSocket;
exports.NativeUdpGroup = NativeUdpGroup;
exports.ipv4ToU32 = ipv4ToU32;
exports.u32ToIpv4 = u32ToIpv4;
