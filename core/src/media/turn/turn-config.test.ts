import { describe, expect, it } from 'vitest';
import { applyTurnUpdate, TURN_DEFAULTS, TurnConfigError, turnUpdateFromRealtime } from './turn-config.js';

describe('turn config (token claim, session.update)', () => {
  it('applies a partial update over the base and keeps the rest', () => {
    const c = applyTurnUpdate(TURN_DEFAULTS, { hangoverMs: 700, detector: 'energy', noiseSuppression: true });
    expect(c).toEqual({ ...TURN_DEFAULTS, hangoverMs: 700, detector: 'energy', noiseSuppression: true });
    expect(applyTurnUpdate(c, undefined)).toBe(c);
  });

  it('refuses bad values and unknown fields with a named error naming the field', () => {
    const bad: [unknown, string][] = [
      [{ hangoverMs: 50 }, 'hangoverMs'],
      [{ finalHangoverMs: 20 }, 'finalHangoverMs'],
      [{ hangoverMs: 400.5 }, 'hangoverMs'],
      [{ minSpeechMs: '40' }, 'minSpeechMs'],
      [{ bargeInConfirmMs: -1 }, 'bargeInConfirmMs'],
      [{ detector: 'webrtc' }, 'detector'],
      [{ noiseSuppression: 1 }, 'noiseSuppression'],
      [{ silence_duration_ms: 300 }, 'silence_duration_ms'],
      [[1], 'turn'],
      ['fast', 'turn'],
    ];
    for (const [u, field] of bad) {
      const err = (() => {
        try {
          applyTurnUpdate(TURN_DEFAULTS, u);
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(TurnConfigError);
      expect((err as TurnConfigError).field).toBe(field);
    }
  });

  it('maps a Realtime-style server_vad silence_duration_ms to the hangover, validated like ours', () => {
    const u = turnUpdateFromRealtime({ type: 'server_vad', silence_duration_ms: 400, threshold: 0.6 });
    expect(applyTurnUpdate(TURN_DEFAULTS, u).hangoverMs).toBe(400);
    expect(turnUpdateFromRealtime({ type: 'semantic_vad', eagerness: 'high' })).toEqual({});
    expect(turnUpdateFromRealtime(null)).toEqual({});
    expect(() =>
      applyTurnUpdate(
        TURN_DEFAULTS,
        turnUpdateFromRealtime({ type: 'server_vad', silence_duration_ms: 'x' }),
      ),
    ).toThrow(TurnConfigError);
  });
});
