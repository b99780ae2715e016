/**
 * The simulated WAN: runs inside the router namespace, attached to a TUN
 * device that policy routing sends every packet between sites through
 * (`ip rule iif v<i> lookup 100`, table 100: default dev <tun>). Each packet
 * is held for its path's one-way delay (half the pair's RTT from the
 * topology) in a bounded DelayLine, then written back to the TUN, where the
 * kernel routes it on to its destination namespace. Drops are counted.
 *
 * argv[2]: JSON { tun, oneWayMs: number[][] } indexed by site index (the
 * third octet of 10.99.<i>.x). stdin: "cut a b" / "restore a b" (site
 * indexes, both directions), "stats". stdout: one JSON line per event.
 */
import { read, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { DelayLine, ipv4Endpoints } from './delay-line.js';

interface Config {
  tun: string;
  oneWayMs: number[][];
}

const require = createRequire(import.meta.url);
const { loadNativeTun, nativeTunLoadError } =
  require('@parley/native/tun') as typeof import('@parley/native/tun');

const config = JSON.parse(process.argv[2] ?? '{}') as Config;
const tun = loadNativeTun();
if (!tun) {
  process.stdout.write(
    `${JSON.stringify({ event: 'error', message: `TUN addon not available: ${nativeTunLoadError()?.message} (npm run build)` })}\n`,
  );
  process.exit(1);
}
const fd = tun.openTun(config.tun);
const line = new DelayLine();
const cut = new Set<string>();
const cutKey = (a: number, b: number) => `${a}>${b}`;
let timer: NodeJS.Timeout | undefined;
let timerDue = Number.POSITIVE_INFINITY;
let writeErrors = 0;

function flush(): void {
  timer = undefined;
  timerDue = Number.POSITIVE_INFINITY;
  for (const p of line.takeDue(performance.now())) {
    try {
      writeSync(fd, p);
    } catch {
      writeErrors++;
    }
  }
  schedule();
}

function schedule(): void {
  const next = line.nextDue();
  if (next === undefined || next >= timerDue) return;
  if (timer) clearTimeout(timer);
  timerDue = next;
  timer = setTimeout(flush, Math.max(0, next - performance.now()));
}

function siteOf(addr: number): number | undefined {
  return addr >>> 16 === 0x0a63 ? (addr >>> 8) & 0xff : undefined;
}

const buf = Buffer.allocUnsafe(65_536);
function readNext(): void {
  read(fd, buf, 0, buf.length, null, (err, n) => {
    if (err) {
      process.stdout.write(`${JSON.stringify({ event: 'error', message: err.message })}\n`);
      process.exit(1);
    }
    const packet = Buffer.from(buf.subarray(0, n));
    const ends = ipv4Endpoints(packet);
    const a = ends && siteOf(ends.src);
    const b = ends && siteOf(ends.dst);
    const delay = a !== undefined && b !== undefined ? config.oneWayMs[a]?.[b] : undefined;
    if (a === undefined || b === undefined || delay === undefined) line.stats.droppedUnknown++;
    else if (cut.has(cutKey(a, b))) line.stats.droppedCut++;
    else if (line.push(packet, delay, performance.now())) schedule();
    readNext();
  });
}
readNext();

createInterface({ input: process.stdin }).on('line', (l) => {
  const [cmd, x, y] = l.trim().split(/\s+/);
  const a = Number(x);
  const b = Number(y);
  if (cmd === 'cut' || cmd === 'restore') {
    for (const k of [cutKey(a, b), cutKey(b, a)]) cmd === 'cut' ? cut.add(k) : cut.delete(k);
    process.stdout.write(`${JSON.stringify({ event: cmd, a, b })}\n`);
  } else if (cmd === 'stats') {
    process.stdout.write(`${JSON.stringify({ event: 'stats', ...line.stats, writeErrors })}\n`);
  }
});
process.stdout.write(`${JSON.stringify({ event: 'ready', tun: config.tun })}\n`);
