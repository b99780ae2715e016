/**
 * A flood of first packets from many source addresses, run as its own
 * process (`node flood-sender.ts`, the FloodPlan as JSON on stdin; Node
 * strips the types) so
 * the relay under test, in the parent, shares neither its event loop nor
 * its file-descriptor table: the parent's /proc/self/fd then counts the
 * relay's sockets only.
 *
 * Each datagram leaves from a fresh socket bound to its own address on
 * 127.0.0.0/8 (Linux loopback answers the whole /8), and the socket
 * closes once it is sent. Paced in 10 ms steps to
 * `perSecond`; prints one JSON line (FloodResult) when done. Only node:
 * built-ins, so it runs without the workspace's module resolution.
 */
import { createSocket } from 'node:dgram';

export interface FloodPlan {
  /** The relay's public UDP port on 127.0.0.1. */
  port: number;
  /** Datagrams to send, each from a new source address. */
  count: number;
  perSecond: number;
  /** Datagram i goes out from `127.<a>.<b>.<c>` = base + i (no two alike) ... */
  baseIp: [number, number, number];
  /**
   * ... with `replayed` (hex), except every `sharedEvery`-th, which leaves from sharedIp, port
   * sharedBasePort + k for the k-th (explicit: kernel-chosen ports get reused, and a reused ip:port
   * would reach an existing flow instead of opening one), with its own message.
   */
  replayed: string;
  sharedEvery: number;
  sharedIp: string;
  sharedBasePort: number;
  /** Hex datagrams for the shared-IP sources, used in turn. */
  shared: string[];
  /** The sender gives up (exit 3) after this long. */
  deadlineMs: number;
}

export interface FloodResult {
  sent: number;
  sendErrors: number;
  elapsedMs: number;
  distinctIps: number;
}

function ipOf(base: [number, number, number], i: number): string {
  const n = ((base[0] << 16) | (base[1] << 8) | base[2]) + i;
  return `127.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}

/** Sends msg from ip:localPort; 'bind' when that address cannot be had (someone else holds the port). */
function sendOnce(ip: string, localPort: number, msg: Buffer, port: number): Promise<'ok' | 'bind' | 'send'> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => s.close(() => resolve('bind')));
    s.bind(localPort, ip, () =>
      s.send(msg, port, '127.0.0.1', (err) => s.close(() => resolve(err ? 'send' : 'ok'))),
    );
  });
}

async function main(plan: FloodPlan): Promise<FloodResult> {
  const replayed = Buffer.from(plan.replayed, 'hex');
  const shared = plan.shared.map((h) => Buffer.from(h, 'hex'));
  const started = performance.now();
  const ips = new Set<string>();
  let next = 0;
  let shares = 0;
  let sharedPort = plan.sharedBasePort;
  let sendErrors = 0;
  /** From the shared IP, each datagram on a port never used before; a taken port is skipped (20 tries). */
  const sendShared = async (msg: Buffer): Promise<'ok' | 'bind' | 'send'> => {
    for (let tries = 0; tries < 20; tries++) {
      const r = await sendOnce(plan.sharedIp, sharedPort++, msg, plan.port);
      if (r !== 'bind') return r;
    }
    return 'bind';
  };
  while (next < plan.count) {
    const elapsed = performance.now() - started;
    if (elapsed > plan.deadlineMs) {
      process.stderr.write(`flood-sender: ${next}/${plan.count} sent after ${Math.round(elapsed)} ms\n`);
      process.exit(3);
    }
    const due = Math.min(plan.count, Math.ceil(((elapsed + 10) * plan.perSecond) / 1_000));
    const batch: Promise<'ok' | 'bind' | 'send'>[] = [];
    for (; next < due; next++) {
      if (plan.sharedEvery > 0 && next % plan.sharedEvery === plan.sharedEvery - 1) {
        ips.add(plan.sharedIp);
        batch.push(sendShared(shared[shares++ % shared.length] as Buffer));
      } else {
        const ip = ipOf(plan.baseIp, next);
        ips.add(ip);
        batch.push(sendOnce(ip, 0, replayed, plan.port));
      }
    }
    for (const r of await Promise.all(batch)) if (r !== 'ok') sendErrors++;
    const wait = 10 - ((performance.now() - started) % 10);
    await new Promise((r) => setTimeout(r, wait));
  }
  return { sent: next, sendErrors, elapsedMs: performance.now() - started, distinctIps: ips.size };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

if (process.argv[1]?.endsWith('flood-sender.ts')) {
  readStdin()
    .then((text) => main(JSON.parse(text) as FloodPlan))
    .then(
      (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
      (err: unknown) => {
        process.stderr.write(`flood-sender: ${String(err)}\n`);
        process.exit(2);
      },
    );
}
