import { describe, expect, it } from 'vitest';
import {
  type CloseReason,
  type LifecycleChange,
  SessionLifecycle,
  type SessionLifecycleOptions,
} from './session-lifecycle.js';

// A creation time far from 0 catches deadlines computed relative instead of absolute.
const T0 = 1_000_000;
const ICE = 10_000;
const CONSENT = 30_000;
const MAX = 3_600_000;
const CHECK = { useCandidate: true, fromNewAddress: false };

function lifecycle(over: Partial<SessionLifecycleOptions> = {}): SessionLifecycle {
  return new SessionLifecycle({
    now: T0,
    iceTimeoutMs: ICE,
    consentTimeoutMs: CONSENT,
    maxSessionMs: MAX,
    mediaKeepsConsent: false,
    ...over,
  });
}

/** Checked at T0+1, connected at T0+2: consent was last refreshed at T0+1. */
function connected(over: Partial<SessionLifecycleOptions> = {}): SessionLifecycle {
  const lc = lifecycle(over);
  lc.verifiedCheck(T0 + 1, CHECK);
  lc.dtlsConnected(T0 + 2);
  return lc;
}

type Input = (lc: SessionLifecycle, now: number) => LifecycleChange | boolean | CloseReason | undefined;
const inputs: Record<string, Input> = {
  verifiedCheck: (lc, now) => lc.verifiedCheck(now, CHECK),
  dtlsConnected: (lc, now) => lc.dtlsConnected(now),
  mediaAuthenticated: (lc, now) => {
    lc.mediaAuthenticated(now);
    return undefined;
  },
  iceRestarted: (lc, now) => lc.iceRestarted(now),
  close: (lc) => lc.close('deleted'),
  tick: (lc, now) => lc.tick(now),
};

describe('SessionLifecycle transitions', () => {
  const cases: {
    name: string;
    steps: [keyof typeof inputs, unknown][];
    state: string;
  }[] = [
    { name: 'starts created', steps: [], state: 'created' },
    {
      name: 'created → connecting on a verified check',
      steps: [['verifiedCheck', { state: 'connecting' }]],
      state: 'connecting',
    },
    {
      name: 'further checks while connecting change nothing',
      steps: [
        ['verifiedCheck', { state: 'connecting' }],
        ['verifiedCheck', undefined],
      ],
      state: 'connecting',
    },
    {
      name: 'connecting → connected on DTLS',
      steps: [
        ['verifiedCheck', { state: 'connecting' }],
        ['dtlsConnected', { state: 'connected' }],
      ],
      state: 'connected',
    },
    {
      name: 'created → connected on DTLS without a check first',
      steps: [['dtlsConnected', { state: 'connected' }]],
      state: 'connected',
    },
    {
      name: 'connected stays connected on checks, DTLS, media, restart',
      steps: [
        ['verifiedCheck', { state: 'connecting' }],
        ['dtlsConnected', { state: 'connected' }],
        ['dtlsConnected', undefined],
        ['verifiedCheck', undefined],
        ['mediaAuthenticated', undefined],
        ['iceRestarted', undefined],
        ['tick', undefined],
      ],
      state: 'connected',
    },
    { name: 'created → closed on close', steps: [['close', true]], state: 'closed' },
    {
      name: 'connecting → closed on close',
      steps: [
        ['verifiedCheck', { state: 'connecting' }],
        ['close', true],
      ],
      state: 'closed',
    },
    {
      name: 'connected → closed on close',
      steps: [
        ['dtlsConnected', { state: 'connected' }],
        ['close', true],
      ],
      state: 'closed',
    },
    {
      name: 'closed ignores every later input',
      steps: [
        ['close', true],
        ['verifiedCheck', undefined],
        ['dtlsConnected', undefined],
        ['mediaAuthenticated', undefined],
        ['iceRestarted', undefined],
        ['tick', undefined],
        ['close', false],
      ],
      state: 'closed',
    },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const lc = lifecycle({ mediaKeepsConsent: true });
      c.steps.forEach(([input, expected], i) => {
        const fn = inputs[input];
        if (!fn) throw new Error(`no input ${input}`);
        expect(fn(lc, T0 + 1 + i), `step ${i}: ${input}`).toEqual(expected);
      });
      expect(lc.state).toBe(c.state);
    });
  }

  it('records connectedAt once', () => {
    const lc = connected();
    expect(lc.connectedAt).toBe(T0 + 2);
    lc.dtlsConnected(T0 + 50);
    expect(lc.connectedAt).toBe(T0 + 2);
    expect(lifecycle().connectedAt).toBeUndefined();
  });

  it('late inputs after close do not touch consent, connectedAt or counters', () => {
    const lc = lifecycle({ mediaKeepsConsent: true });
    lc.close('shutdown');
    lc.verifiedCheck(T0 + 5, { useCandidate: true, fromNewAddress: true });
    lc.dtlsConnected(T0 + 6);
    lc.mediaAuthenticated(T0 + 7);
    lc.iceRestarted(T0 + 8);
    expect(lc.lastConsentAt).toBeUndefined();
    expect(lc.connectedAt).toBeUndefined();
    expect(lc.restarts).toBe(0);
    expect(lc.pathChanges).toBe(0);
    expect(lc.closeReason).toBe('shutdown');
  });
});

describe('SessionLifecycle deadlines', () => {
  // Each case: a machine, the boundary at which `reason` must fire, no other input after setup.
  const cases: {
    name: string;
    make: () => SessionLifecycle;
    boundary: number;
    reason: CloseReason;
  }[] = [
    { name: 'ice_timeout while created', make: () => lifecycle(), boundary: T0 + ICE, reason: 'ice_timeout' },
    {
      name: 'ice_timeout while connecting',
      make: () => {
        const lc = lifecycle();
        lc.verifiedCheck(T0 + 1, CHECK);
        return lc;
      },
      boundary: T0 + ICE,
      reason: 'ice_timeout',
    },
    {
      name: 'consent_lost after the last verified check',
      make: () => connected(),
      boundary: T0 + 1 + CONSENT,
      reason: 'consent_lost',
    },
    {
      name: 'consent_lost counts from the latest check',
      make: () => {
        const lc = connected();
        lc.verifiedCheck(T0 + 20_000, { useCandidate: false, fromNewAddress: false });
        return lc;
      },
      boundary: T0 + 20_000 + CONSENT,
      reason: 'consent_lost',
    },
    {
      name: 'consent window starts at connect when no consent was ever recorded',
      make: () => {
        const lc = lifecycle();
        lc.dtlsConnected(T0 + 5);
        return lc;
      },
      boundary: T0 + 5 + CONSENT,
      reason: 'consent_lost',
    },
    {
      name: 'expired while connected and consenting',
      make: () => {
        const lc = lifecycle({ maxSessionMs: 50_000 });
        lc.verifiedCheck(T0 + 1, CHECK);
        lc.dtlsConnected(T0 + 2);
        lc.verifiedCheck(T0 + 20_000, CHECK);
        lc.verifiedCheck(T0 + 40_000, CHECK);
        return lc;
      },
      boundary: T0 + 50_000,
      reason: 'expired',
    },
    {
      name: 'expired before the ICE deadline',
      make: () => lifecycle({ maxSessionMs: ICE - 1 }),
      boundary: T0 + ICE - 1,
      reason: 'expired',
    },
    {
      name: 'expired before the consent deadline',
      make: () => connected({ maxSessionMs: 20_000 }),
      boundary: T0 + 20_000,
      reason: 'expired',
    },
    {
      name: 'ICE and expiry at once: ice_timeout wins',
      make: () => lifecycle({ maxSessionMs: ICE }),
      boundary: T0 + ICE,
      reason: 'ice_timeout',
    },
    {
      name: 'consent and expiry at once: consent_lost wins',
      make: () => connected({ maxSessionMs: CONSENT + 1 }),
      boundary: T0 + 1 + CONSENT,
      reason: 'consent_lost',
    },
  ];

  for (const c of cases) {
    describe(c.name, () => {
      it('nextDeadline() is the boundary', () => {
        expect(c.make().nextDeadline()).toBe(c.boundary);
      });

      it('one ms before: nothing', () => {
        const lc = c.make();
        const state = lc.state;
        expect(lc.tick(c.boundary - 1)).toBeUndefined();
        expect(lc.state).toBe(state);
        expect(lc.closeReason).toBeUndefined();
      });

      for (const [when, now] of [
        ['at the boundary', c.boundary],
        ['after it', c.boundary + 60_000],
      ] as const) {
        it(`${when}: ${c.reason}`, () => {
          const lc = c.make();
          expect(lc.tick(now)).toBe(c.reason);
          expect(lc.state).toBe('closed');
          expect(lc.closeReason).toBe(c.reason);
          expect(lc.nextDeadline()).toBe(Number.POSITIVE_INFINITY);
          expect(lc.tick(now + 1)).toBeUndefined();
        });
      }
    });
  }

  it('a long-past expiry beats a consent deadline that passed later', () => {
    const lc = connected({ maxSessionMs: 20_000 });
    expect(lc.tick(T0 + 10 * CONSENT)).toBe('expired');
  });

  it('no ice_timeout once connected', () => {
    const lc = connected();
    expect(lc.tick(T0 + ICE)).toBeUndefined();
    expect(lc.tick(T0 + CONSENT)).toBeUndefined();
    expect(lc.state).toBe('connected');
  });

  it('fractional clocks: the boundary is exact', () => {
    const lc = lifecycle({ now: 0.25 });
    expect(lc.nextDeadline()).toBe(ICE + 0.25);
    expect(lc.tick(ICE + 0.2)).toBeUndefined();
    expect(lc.tick(ICE + 0.25)).toBe('ice_timeout');
  });

  describe('inputs settle deadlines first (a late timer changes nothing)', () => {
    it('DTLS after the ICE deadline closes with ice_timeout', () => {
      const lc = lifecycle();
      lc.verifiedCheck(T0 + 1, CHECK);
      expect(lc.dtlsConnected(T0 + ICE)).toEqual({ state: 'closed', reason: 'ice_timeout' });
      expect(lc.connectedAt).toBeUndefined();
    });

    it('DTLS one ms before the ICE deadline connects', () => {
      expect(lifecycle().dtlsConnected(T0 + ICE - 1)).toEqual({ state: 'connected' });
    });

    it('a check after consent lapsed closes with consent_lost instead of reviving it', () => {
      const lc = connected();
      expect(lc.verifiedCheck(T0 + 1 + CONSENT, CHECK)).toEqual({ state: 'closed', reason: 'consent_lost' });
      expect(lc.lastConsentAt).toBe(T0 + 1);
    });

    it('a check after the ICE deadline closes with ice_timeout', () => {
      expect(lifecycle().verifiedCheck(T0 + ICE, CHECK)).toEqual({ state: 'closed', reason: 'ice_timeout' });
    });

    it('a restart after expiry closes with expired', () => {
      const lc = connected({ maxSessionMs: 20_000 });
      expect(lc.iceRestarted(T0 + 20_000)).toEqual({ state: 'closed', reason: 'expired' });
      expect(lc.restarts).toBe(0);
    });
  });
});

describe('SessionLifecycle consent', () => {
  it('verified checks keep a connected session alive indefinitely (until expiry)', () => {
    const lc = connected();
    for (let t = T0 + 5_000; t < T0 + 10 * CONSENT; t += 5_000) {
      expect(lc.verifiedCheck(t, CHECK)).toBeUndefined();
      expect(lc.tick(t + 4_999)).toBeUndefined();
      expect(lc.lastConsentAt).toBe(t);
      expect(lc.nextDeadline()).toBe(t + CONSENT);
    }
    expect(lc.state).toBe('connected');
  });

  it('checks from a new address and without USE-CANDIDATE count as consent too', () => {
    const lc = connected();
    lc.verifiedCheck(T0 + 10_000, { useCandidate: false, fromNewAddress: true });
    expect(lc.lastConsentAt).toBe(T0 + 10_000);
  });

  it('checks before connecting count: consent runs from the last one, not from connect', () => {
    const lc = lifecycle();
    lc.verifiedCheck(T0 + 1, CHECK);
    lc.dtlsConnected(T0 + 9_000);
    expect(lc.nextDeadline()).toBe(T0 + 1 + CONSENT);
  });

  const media: { name: string; mediaKeepsConsent: boolean; lastConsentAt: number; closes: boolean }[] = [
    {
      name: 'media refreshes consent when mediaKeepsConsent',
      mediaKeepsConsent: true,
      lastConsentAt: T0 + 25_000,
      closes: false,
    },
    {
      name: 'media does not refresh consent otherwise',
      mediaKeepsConsent: false,
      lastConsentAt: T0 + 1,
      closes: true,
    },
  ];
  for (const c of media) {
    it(c.name, () => {
      const lc = connected({ mediaKeepsConsent: c.mediaKeepsConsent });
      for (let t = T0 + 20; t <= T0 + 25_000; t += 20) expect(lc.mediaAuthenticated(t)).toBeUndefined();
      expect(lc.lastConsentAt).toBe(c.lastConsentAt);
      expect(lc.tick(T0 + 1 + CONSENT) === 'consent_lost').toBe(c.closes);
    });
  }

  it('media cannot revive a consent that already lapsed', () => {
    const lc = connected({ mediaKeepsConsent: true });
    lc.mediaAuthenticated(T0 + 1 + CONSENT);
    expect(lc.lastConsentAt).toBe(T0 + 1);
    expect(lc.tick(T0 + 1 + CONSENT)).toBe('consent_lost');
  });

  it('media one ms before the consent deadline still refreshes it', () => {
    const lc = connected({ mediaKeepsConsent: true });
    lc.mediaAuthenticated(T0 + CONSENT);
    expect(lc.nextDeadline()).toBe(T0 + 2 * CONSENT);
  });

  it('media before DTLS is up does not count (consent is judged only once connected)', () => {
    const lc = lifecycle({ mediaKeepsConsent: true });
    lc.mediaAuthenticated(T0 + 5);
    expect(lc.lastConsentAt).toBeUndefined();
  });
});

describe('SessionLifecycle close', () => {
  it('is idempotent and keeps the first reason', () => {
    const lc = connected();
    expect(lc.close('agent_ended')).toBe(true);
    expect(lc.close('deleted')).toBe(false);
    expect(lc.close('shutdown')).toBe(false);
    expect(lc.closeReason).toBe('agent_ended');
    expect(lc.state).toBe('closed');
  });

  it('a deadline after an explicit close does not override its reason', () => {
    const lc = lifecycle();
    lc.close('drain_timeout');
    expect(lc.tick(T0 + MAX)).toBeUndefined();
    expect(lc.closeReason).toBe('drain_timeout');
  });

  it('close after a deadline fired keeps the deadline reason', () => {
    const lc = lifecycle();
    lc.tick(T0 + ICE);
    expect(lc.close('deleted')).toBe(false);
    expect(lc.closeReason).toBe('ice_timeout');
  });
});

describe('SessionLifecycle nextDeadline per state', () => {
  it('created: the ICE deadline', () => {
    expect(lifecycle().nextDeadline()).toBe(T0 + ICE);
  });

  it('created with expiry first: the expiry', () => {
    expect(lifecycle({ maxSessionMs: 5_000 }).nextDeadline()).toBe(T0 + 5_000);
  });

  it('connecting: still the ICE deadline (checks do not extend it)', () => {
    const lc = lifecycle();
    lc.verifiedCheck(T0 + 9_000, CHECK);
    expect(lc.nextDeadline()).toBe(T0 + ICE);
  });

  it('connected: the consent deadline, moving with each refresh', () => {
    const lc = connected();
    expect(lc.nextDeadline()).toBe(T0 + 1 + CONSENT);
    lc.verifiedCheck(T0 + 7_000, CHECK);
    expect(lc.nextDeadline()).toBe(T0 + 7_000 + CONSENT);
  });

  it('connected near expiry: the expiry', () => {
    const lc = connected({ maxSessionMs: 40_000 });
    lc.verifiedCheck(T0 + 20_000, CHECK);
    expect(lc.nextDeadline()).toBe(T0 + 40_000);
  });

  it('closed: never', () => {
    const lc = connected();
    lc.close('deleted');
    expect(lc.nextDeadline()).toBe(Number.POSITIVE_INFINITY);
  });

  it('infinite maxSessionMs: no expiry', () => {
    const lc = lifecycle({ maxSessionMs: Number.POSITIVE_INFINITY });
    expect(lc.nextDeadline()).toBe(T0 + ICE);
    lc.dtlsConnected(T0 + 1);
    expect(lc.nextDeadline()).toBe(T0 + 1 + CONSENT);
  });

  it('an owner that ticks only at nextDeadline closes exactly on time', () => {
    // Simulates the owner's timer: no input after setup, tick at each reported deadline.
    const lc = connected();
    const at = lc.nextDeadline();
    expect(lc.tick(at - 1)).toBeUndefined();
    expect(lc.nextDeadline()).toBe(at);
    expect(lc.tick(at)).toBe('consent_lost');
  });
});

describe('SessionLifecycle ICE restart and path changes', () => {
  it('a restart keeps the state, counts, and refreshes consent', () => {
    const lc = connected();
    expect(lc.iceRestarted(T0 + 20_000)).toBeUndefined();
    expect(lc.state).toBe('connected');
    expect(lc.restarts).toBe(1);
    expect(lc.lastConsentAt).toBe(T0 + 20_000);
    expect(lc.nextDeadline()).toBe(T0 + 20_000 + CONSENT);
  });

  it('a restart before connecting does not extend the ICE deadline', () => {
    const lc = lifecycle();
    lc.iceRestarted(T0 + 5_000);
    expect(lc.state).toBe('created');
    expect(lc.nextDeadline()).toBe(T0 + ICE);
  });

  it('counts nominations from a new address while connected, only those', () => {
    const lc = lifecycle();
    lc.verifiedCheck(T0 + 1, { useCandidate: true, fromNewAddress: true });
    lc.dtlsConnected(T0 + 2);
    lc.verifiedCheck(T0 + 3, { useCandidate: false, fromNewAddress: true });
    lc.verifiedCheck(T0 + 4, { useCandidate: true, fromNewAddress: false });
    expect(lc.pathChanges).toBe(0);
    lc.verifiedCheck(T0 + 5, { useCandidate: true, fromNewAddress: true });
    expect(lc.pathChanges).toBe(1);
  });
});

describe('SessionLifecycle options', () => {
  for (const key of ['iceTimeoutMs', 'consentTimeoutMs', 'maxSessionMs'] as const) {
    for (const bad of [0, -1, Number.NaN]) {
      it(`rejects ${key} = ${bad}`, () => {
        expect(() => lifecycle({ [key]: bad })).toThrow(RangeError);
      });
    }
  }

  it('rejects a non-finite creation time', () => {
    expect(() => lifecycle({ now: Number.NaN })).toThrow(RangeError);
  });

  it('reuses its change values (no allocation per input)', () => {
    const a = lifecycle();
    const b = lifecycle();
    expect(a.verifiedCheck(T0 + 1, CHECK)).toBe(b.verifiedCheck(T0 + 1, CHECK));
    expect(a.dtlsConnected(T0 + ICE)).toBe(b.dtlsConnected(T0 + ICE));
    expect(Object.isFrozen(lifecycle().dtlsConnected(T0 + 1))).toBe(true);
  });
});
