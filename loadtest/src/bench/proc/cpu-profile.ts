/**
 * Summaries of V8 CPU profiles (the `.cpuprofile` JSON that `node
 * --cpu-prof` and the inspector's Profiler.stop write): self time per
 * function, optionally only for the samples inside time windows, so a
 * whole-process profile can be read for a bench's hold phases alone.
 */

export interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber?: number };
  children?: number[];
}

export interface CpuProfile {
  nodes: CpuProfileNode[];
  /** µs on the profiler's monotonic clock. */
  startTime: number;
  endTime: number;
  /** Node id per sample. */
  samples: number[];
  /** µs since the previous sample (the first: since startTime). */
  timeDeltas: number[];
}

export interface ProfileWindow {
  /** µs on the same clock as the profile (process.hrtime.bigint() / 1000 on Linux). */
  fromUs: number;
  toUs: number;
}

export interface SelfTimeEntry {
  /** `name url:line` (url shortened to the part after node_modules/ or the repository). */
  fn: string;
  selfMs: number;
  /** Share of the sampled time in the windows, 0..1. */
  share: number;
}

export interface ProfileSummary {
  /** Sampled time inside the windows (idle included). */
  sampledMs: number;
  /** Time in `(idle)`: the thread waiting in epoll. */
  idleMs: number;
  /** `(garbage collector)`. */
  gcMs: number;
  /** `(program)`: native work V8 cannot attribute (libuv, syscalls, addons). */
  programMs: number;
  top: SelfTimeEntry[];
}

/** Self time per function (same name and location merged), largest first. */
export function summarizeProfile(p: CpuProfile, windows?: ProfileWindow[], topN = 25): ProfileSummary {
  const byId = new Map<number, CpuProfileNode>();
  for (const n of p.nodes) byId.set(n.id, n);
  const self = new Map<string, number>();
  let t = p.startTime;
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0;
    t += dt;
    // Each sample stands for the interval until the next one.
    const span = p.timeDeltas[i + 1] ?? 0;
    if (windows && !windows.some((w) => t >= w.fromUs && t < w.toUs)) continue;
    const node = byId.get(p.samples[i] as number);
    if (!node) continue;
    const key = label(node);
    self.set(key, (self.get(key) ?? 0) + span);
    total += span;
  }
  const ms = (us: number) => Math.round(us / 100) / 10;
  const top = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, topN)
    .map(([fn, us]) => ({
      fn,
      selfMs: ms(us),
      share: total > 0 ? Math.round((us / total) * 1000) / 1000 : 0,
    }));
  return {
    sampledMs: ms(total),
    idleMs: ms(self.get('(idle)') ?? 0),
    gcMs: ms(self.get('(garbage collector)') ?? 0),
    programMs: ms(self.get('(program)') ?? 0),
    top,
  };
}

function label(n: CpuProfileNode): string {
  const { functionName, url, lineNumber } = n.callFrame;
  const name = functionName || '(anonymous)';
  if (!url) return name;
  return `${name} ${shortUrl(url)}:${lineNumber + 1}`;
}

/** node_modules/werift/lib/... or the path inside the repository, whichever is shorter to read. */
export function shortUrl(url: string): string {
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  const m = /\/(shared|core|edge|loadtest|native|cli)\/(dist|src)\//.exec(url);
  if (m) return url.slice(m.index + 1);
  return url.replace(/^file:\/\//, '');
}

/** A few lines for the bench's progress output. */
export function formatProfileSummary(title: string, s: ProfileSummary, lines = 15): string {
  const pct = (ms: number) => (s.sampledMs > 0 ? `${((100 * ms) / s.sampledMs).toFixed(1)} %` : '-');
  const out = [
    `${title}: ${s.sampledMs} ms sampled; idle ${pct(s.idleMs)}, GC ${pct(s.gcMs)}, (program) ${pct(s.programMs)}`,
  ];
  for (const e of s.top.slice(0, lines)) out.push(`    ${(100 * e.share).toFixed(1).padStart(5)} %  ${e.fn}`);
  return out.join('\n');
}
