import { buildBindingRequest } from '@parley/shared/stun/stun-build.js';
import { bump, fuzz, fuzzBytes, fuzzFloor, fuzzTimeout, invariant } from '@parley/shared/testing/fuzz.js';
import { stunMessageArb } from '@parley/shared/testing/fuzz-stun.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bindingRequestReceiverUfrag, checkBindingRequest } from './stun-guard.js';

/**
 * The transceiver's STUN guard reads every Binding Request that names a
 * live session, and the relay forwards such a request from anyone holding
 * a token (even the first packet of a flow). It must never throw, and must
 * pass only requests that carry the session's exact USERNAME and a
 * MESSAGE-INTEGRITY made with its password.
 */
const LOCAL = 'AgEBAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGho';
const REMOTE = 'Cl1e';
const PASSWORD = 'FUM0i+JZhEiAup41ljjys9Bn';
const KEY = Buffer.from(PASSWORD);
const USERNAME = `${LOCAL}:${REMOTE}`;
const REASONS = new Set(['not_stun', 'not_binding_request', 'bad_username', 'bad_integrity']);

const samples = [
  buildBindingRequest({ username: USERNAME, password: PASSWORD }),
  buildBindingRequest({ username: USERNAME, password: PASSWORD, fingerprint: false }),
  buildBindingRequest({
    username: USERNAME,
    password: PASSWORD,
    attributes: [{ type: 0x0025, value: Buffer.alloc(0) }],
  }),
];

describe('STUN guard under fuzzing', () => {
  it('refuses a MESSAGE-INTEGRITY shorter than 20 bytes instead of throwing (found by fuzzing)', () => {
    const short = buildBindingRequest({
      username: USERNAME,
      fingerprint: false,
      attributes: [{ type: 0x0008, value: Buffer.alloc(4) }],
    });
    expect(checkBindingRequest(short, LOCAL, REMOTE, KEY)).toEqual({ ok: false, reason: 'bad_integrity' });
  });

  it(
    'never throws, names every refusal, and passes only the exact USERNAME with a valid MESSAGE-INTEGRITY',
    () => {
      const tally = new Map<string, number>();
      const arb = fc.oneof(
        {
          arbitrary: stunMessageArb({ usernames: [USERNAME, `${LOCAL}:other`], passwords: [PASSWORD] }),
          weight: 3,
        },
        { arbitrary: fuzzBytes(samples), weight: 2 },
      );
      fuzz(arb, (data) => {
        const ufrag = bindingRequestReceiverUfrag(data);
        invariant(ufrag === undefined || typeof ufrag === 'string', 'receiver ufrag of the wrong type');
        const v = checkBindingRequest(data, LOCAL, REMOTE, KEY);
        if (v.ok) {
          // The mux found this session by that ufrag; a request that verifies must name it.
          invariant(ufrag === LOCAL, () => `verified a request naming ${ufrag}`);
          invariant(data.includes(USERNAME), 'verified without the exact USERNAME');
          bump(tally, 'ok');
        } else {
          invariant(REASONS.has(v.reason), () => `unnamed refusal ${v.reason}`);
          bump(tally, v.reason);
        }
      });
      for (const k of ['ok', ...REASONS]) expect(tally.get(k) ?? 0, k).toBeGreaterThan(fuzzFloor(100));
    },
    fuzzTimeout(),
  );
});
