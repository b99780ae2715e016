import {
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { createRequire } from 'node:module';

/**
 * werift computes the X25519 key exchange of every DTLS handshake (the
 * curve browsers and werift pick) with tweetnacl, in JavaScript: about
 * 1.5 ms per operation, two per handshake per side. Node's crypto does the
 * same RFC 7748 function natively in tens of microseconds. This swaps the
 * two tweetnacl functions werift calls (box.keyPair, scalarMult) for native
 * ones in the tweetnacl instance werift itself loads; results are the same
 * bytes (checked by the test against tweetnacl's own implementation).
 *
 * A patch of a dependency's module object is a last resort: it is guarded
 * by a shape check and says why when it does not apply, so a werift or
 * tweetnacl upgrade degrades to the slow path, never to a broken handshake.
 */

// DER wrapper for a raw 32-byte X25519 private key (RFC 8410 PKCS#8), for keys this module did not make.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

export interface Nacl {
  scalarMult: ((n: Uint8Array, p: Uint8Array) => Uint8Array) & { base?: unknown };
  box: { keyPair: (() => { publicKey: Uint8Array; secretKey: Uint8Array }) & { fromSecretKey?: unknown } };
}

/**
 * Key objects of the pairs x25519KeyPair() made, by the secret key's
 * ArrayBuffer (werift wraps that buffer in a new Buffer before it hands the
 * key back): importing a raw private key costs several times the exchange.
 */
const privateKeys = new WeakMap<ArrayBufferLike, KeyObject>();

/** X25519(k, u): the shared secret of a private scalar and a peer's public key. */
export function x25519(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  if (secretKey.length !== 32 || publicKey.length !== 32) throw new Error('X25519 keys are 32 bytes');
  const known =
    secretKey.byteLength === secretKey.buffer.byteLength ? privateKeys.get(secretKey.buffer) : undefined;
  const privateKey =
    known ??
    createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, secretKey]), format: 'der', type: 'pkcs8' });
  const peer = createPublicKey({
    key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(publicKey).toString('base64url') },
    format: 'jwk',
  });
  return new Uint8Array(diffieHellman({ privateKey, publicKey: peer }));
}

/**
 * A fresh X25519 key pair as raw bytes, as tweetnacl's box.keyPair returns
 * it: each key in its own 32-byte ArrayBuffer, because werift reads
 * `key.buffer` (a pooled Buffer would hand it 8 KiB of other data).
 */
export function x25519KeyPair(): { publicKey: Uint8Array; secretKey: Uint8Array } {
  const { privateKey } = generateKeyPairSync('x25519');
  const jwk = privateKey.export({ format: 'jwk' });
  const secretKey = new Uint8Array(32);
  secretKey.set(Buffer.from(jwk.d as string, 'base64url'));
  const publicKey = new Uint8Array(32);
  publicKey.set(Buffer.from(jwk.x as string, 'base64url'));
  privateKeys.set(secretKey.buffer, privateKey);
  return { secretKey, publicKey };
}

const PATCHED = Symbol.for('parley.nativeX25519');

/** Replaces the two functions on a tweetnacl module object; idempotent. */
export function patchNacl(nacl: Nacl): void {
  const marked = nacl as Nacl & { [PATCHED]?: true };
  if (marked[PATCHED]) return;
  const base = nacl.scalarMult.base;
  nacl.scalarMult = Object.assign((n: Uint8Array, p: Uint8Array) => x25519(n, p), { base });
  const fromSecretKey = nacl.box.keyPair.fromSecretKey;
  nacl.box.keyPair = Object.assign(() => x25519KeyPair(), { fromSecretKey });
  marked[PATCHED] = true;
}

/**
 * Applies the patch to the tweetnacl that werift resolves, seen from
 * `fromModule` (an import.meta.url of a package that depends on werift).
 */
export function useNativeX25519(fromModule: string): { ok: true } | { ok: false; reason: string } {
  try {
    const weriftMain = createRequire(fromModule).resolve('werift');
    const nacl = createRequire(weriftMain)('tweetnacl') as Partial<Nacl>;
    if (typeof nacl?.scalarMult !== 'function' || typeof nacl.box?.keyPair !== 'function')
      return { ok: false, reason: "werift's tweetnacl does not have scalarMult and box.keyPair" };
    patchNacl(nacl as Nacl);
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
}
