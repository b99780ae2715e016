import { describe, expect, it } from 'vitest';
import { devLogFormatter } from './dev-log-format.js';

describe('devLogFormatter', () => {
  const format = devLogFormatter({ color: false });

  it('turns a pino JSON line into one readable line under its service name', () => {
    const line = `[edge] ${JSON.stringify({ level: 40, time: Date.UTC(2026, 0, 1, 12, 0, 0), pid: 7, hostname: 'h', name: 'edge', msg: 'slow offer', ms: 812 })}`;
    const out = format(line);
    expect(out).toMatch(/^edge {8}\[\d\d:\d\d:\d\d\.\d{3}\] WARN: slow offer \{"ms":812\}\n$/);
    expect(out).not.toContain('pid');
    expect(out).not.toContain('hostname');
  });

  it('passes other lines through and drops nats-server chatter but not its warnings', () => {
    expect(format('[transceiver] Error: boom')).toBe('[transceiver] Error: boom\n');
    expect(format('[edge] {not json')).toBe('[edge] {not json\n');
    expect(format('[nats] [1] 2026/12/01 05:36:33.718 [INF] Server is ready')).toBe('');
    expect(format('[edge] parley edge: SIGTERM: stopping (within 6000 ms)')).toBe('');
    expect(format('[edge] parley edge: stop took longer than 6000 ms: exiting')).toContain('exiting');
    expect(format('[nats] [1] 2026/12/01 05:36:33.718 [WRN] slow consumer')).toContain('[WRN] slow consumer');
  });
});
