import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import {
  type Nacl,
  patchNacl,
  useNativeX25519,
  x25519,
  x25519KeyPair,
} from '@parley/shared/webrtc/native-x25519.js';
import { describe, expect, it } from 'vitest';

// tweetnacl as werift loads it, untouched: a fresh copy so the real one is not patched by this test.
const require = createRequire(createRequire(import.meta.url).resolve('werift'));
const naclPath = require.resolve('tweetnacl');

function freshNacl(): Nacl {
  delete require.cache[naclPath];
  const nacl = require('tweetnacl') as Nacl;
  delete require.cache[naclPath];
  return nacl;
}

describe('native X25519 for werift', () => {
  it('matches RFC 7748 §6.1 (Alice and Bob)', () => {
    const alicePriv = Buffer.from('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a', 'hex');
    const bobPub = Buffer.from('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f', 'hex');
    expect(Buffer.from(x25519(alicePriv, bobPub)).toString('hex')).toBe(
      '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742',
    );
  });

  it('gives the same bytes as tweetnacl for random keys, both ways round', () => {
    const slow = freshNacl();
    for (let i = 0; i < 20; i++) {
      const a = slow.box.keyPair();
      const b = x25519KeyPair();
      // Our public key is what tweetnacl derives from our secret key.
      expect(Buffer.from(b.publicKey)).toEqual(
        Buffer.from(
          slow.scalarMult.base ? (slow.scalarMult.base as (n: Uint8Array) => Uint8Array)(b.secretKey) : [],
        ),
      );
      const s1 = slow.scalarMult(a.secretKey, b.publicKey);
      const s2 = x25519(b.secretKey, a.publicKey);
      expect(Buffer.from(s2)).toEqual(Buffer.from(s1));
    }
    const k = randomBytes(32);
    const p = x25519KeyPair().publicKey;
    expect(Buffer.from(x25519(k, p))).toEqual(Buffer.from(slow.scalarMult(k, p)));
  });

  it('hands out keys in their own 32-byte buffers, as werift reads key.buffer', () => {
    const kp = x25519KeyPair();
    expect(kp.secretKey.buffer.byteLength).toBe(32);
    expect(kp.publicKey.buffer.byteLength).toBe(32);
    // werift's own use: Buffer.from(keys.secretKey.buffer), then scalarMult with that.
    const other = x25519KeyPair();
    const viaWerift = x25519(Buffer.from(kp.secretKey.buffer), other.publicKey);
    const viaCopy = x25519(Buffer.from(kp.secretKey), other.publicKey);
    expect(Buffer.from(viaWerift)).toEqual(Buffer.from(viaCopy));
  });

  it('patches a tweetnacl object in place, once, keeping the functions it does not replace', () => {
    const nacl = freshNacl();
    const base = nacl.scalarMult.base;
    const original = nacl.scalarMult;
    patchNacl(nacl);
    const patched = nacl.scalarMult;
    patchNacl(nacl);
    expect(nacl.scalarMult).toBe(patched);
    expect(patched).not.toBe(original);
    expect(nacl.scalarMult.base).toBe(base);
    const kp = nacl.box.keyPair();
    expect(kp.secretKey).toHaveLength(32);
    expect(Buffer.from(nacl.scalarMult(kp.secretKey, x25519KeyPair().publicKey))).toHaveLength(32);
  });

  it("finds werift's own tweetnacl, and says why when a module cannot resolve werift", () => {
    expect(useNativeX25519(import.meta.url)).toEqual({ ok: true });
    const r = useNativeX25519('file:///nonexistent/dir/x.js');
    expect(r.ok).toBe(false);
  });
});
