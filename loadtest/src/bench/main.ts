#!/usr/bin/env node
// `npm run bench`: relay forwarding, transceiver capacity, setup latency and
// signaling throughput, each against a baseline measured in the same run.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tuneWeriftForProcess } from '@parley/shared/webrtc/werift-tuning.js';
import { Command, Option } from 'commander';
import { benchCapacity } from './capacity/capacity-bench.js';
import { machineInfo } from './machine.js';
import { cpuPlan, pinToCpu } from './proc/cpu-pin.js';
import { benchRelay } from './relay/relay-bench.js';
import { type BenchReport, renderReport } from './report.js';
import { benchRestart } from './restart/restart-bench.js';
import { ADMISSION_OFF_ENV } from './setup/admission-env.js';
import { benchSetup } from './setup/setup-bench.js';
import { benchSignaling } from './signaling/signaling-bench.js';
import { evaluateTargets } from './targets.js';
import { benchTcp } from './tcp/tcp-bench.js';
import { benchTurns } from './turns/turns-bench.js';

const BENCHES = ['relay', 'transceiver', 'setup', 'signaling', 'turns', 'tcp', 'restart'] as const;
type BenchName = (typeof BENCHES)[number];
const REPO = fileURLToPath(new URL('../../../', import.meta.url));

const program = new Command()
  .name('npm run bench --')
  .description(
    'Parley benchmarks: relay forwarding, transceiver capacity, setup latency, signaling throughput',
  )
  .option('--quick', 'a short run for CI (well under 3 minutes)')
  .addOption(
    new Option('--only <benches>', `comma-separated subset of: ${BENCHES.join(', ')}`).argParser((v) =>
      v.split(',').map((s) => s.trim()),
    ),
  )
  .option('--out <dir>', 'where the JSON result goes', join(REPO, 'results'))
  .option('--no-coturn', 'skip the coturn comparison even when turnserver is installed')
  .option('--flows <n>', 'UDP flows in the relay bench (default 200 quick, 1000 full)')
  .option(
    '--awake-core',
    'relay bench: keep the core under test out of idle with a SCHED_IDLE busy loop (a diagnostic for VMs whose idle vCPUs halt at once)',
  )
  .option('--agent <name>', 'agent for the transceiver capacity sessions (default: the transceiver default)')
  .option(
    '--sessions <counts>',
    'session counts the transceiver capacity bench steps through, comma-separated (default 25,50 quick; 25 to 700 full)',
  )
  .addOption(
    new Option(
      '--srtp <profile>',
      'transceiver bench: the one SRTP profile the clients offer (default both; the transceiver picks)',
    ).choices(['gcm', 'aes-cm']),
  )
  .option('--every-count', 'transceiver bench: run every --sessions count even after one fails')
  .option(
    '--profile <dir>',
    'transceiver bench: CPU-profile the generator and the transceiver during each hold (slower; for finding costs)',
  )
  .addHelpText(
    'after',
    '\nPrints a markdown table on stdout (progress on stderr) and writes results/bench-<time>[-quick].json\n' +
      'and results/latest[-quick].json. Every result records the machine (cores, CPU model, Node version).\n' +
      'With taskset and 2+ cores, the process under test is pinned to the last core, load generators to the others.',
  )
  .parse(process.argv);

const o = program.opts<{
  quick?: boolean;
  only?: string[];
  out: string;
  coturn: boolean;
  flows?: string;
  awakeCore?: boolean;
  agent?: string;
  sessions?: string;
  profile?: string;
  srtp?: 'gcm' | 'aes-cm';
  everyCount?: boolean;
}>();
const selected = new Set<BenchName>((o.only ?? BENCHES) as BenchName[]);
for (const b of selected) {
  if (!BENCHES.includes(b)) {
    process.stderr.write(`unknown bench "${b}"; choose from ${BENCHES.join(', ')}\n`);
    process.exit(2);
  }
}
const quick = Boolean(o.quick);
const flows = o.flows === undefined ? (quick ? 200 : 1000) : Number(o.flows);
if (!Number.isInteger(flows) || flows < 1 || flows > 5000) {
  process.stderr.write('--flows must be 1 to 5000\n');
  process.exit(2);
}
const sessionCounts = o.sessions?.split(',').map((v) => Number(v.trim()));
if (sessionCounts && !sessionCounts.every((n) => Number.isInteger(n) && n >= 1 && n <= 2000)) {
  process.stderr.write('--sessions takes whole numbers from 1 to 2000, comma-separated\n');
  process.exit(2);
}
const progress = (line: string) => process.stderr.write(`${line}\n`);
const startedAt = new Date();
const t0 = performance.now();
const machine = machineInfo();
const cpus = cpuPlan();
// This process generates load for every bench: keep it off the core under test.
if (cpus.load[0] !== undefined) pinToCpu(process.pid, cpus.load[0]);
progress(
  `parley bench (${quick ? 'quick' : 'full'}): ${machine.cores} cores, ${machine.cpuModel}, Node ${machine.node}; ` +
    (cpus.underTest !== undefined
      ? `process under test on cpu ${cpus.underTest}, load on cpu ${cpus.load.join(',')}`
      : 'no pinning'),
);

// The werift clients here get the same setup fixes as the transceivers they call.
await tuneWeriftForProcess();

const report: BenchReport = {
  schema: 'parley-bench/1',
  mode: quick ? 'quick' : 'full',
  command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
  startedAt: startedAt.toISOString(),
  elapsedSeconds: 0,
  git: gitInfo(),
  machine,
  errors: {},
  targets: [],
};

const runs: Record<BenchName, () => Promise<void>> = {
  relay: async () => {
    report.relay = await benchRelay({
      quick,
      flows,
      coturn: o.coturn,
      cpus,
      progress,
      ...(o.awakeCore && { awakeCore: true }),
    });
  },
  transceiver: async () => {
    report.transceiver = await benchCapacity({
      quick,
      cpus,
      progress,
      agent: o.agent,
      counts: sessionCounts,
      ...(o.profile && { profileDir: resolve(o.profile) }),
      ...(o.srtp && { srtpProfile: o.srtp }),
      ...(o.everyCount && { everyCount: true }),
    });
  },
  setup: async () => {
    report.setup = await benchSetup({ quick, cpus, progress, admissionOffEnv: ADMISSION_OFF_ENV });
  },
  signaling: async () => {
    report.signaling = await benchSignaling({ quick, cpus, progress });
  },
  turns: async () => {
    report.turns = await benchTurns({ quick, progress });
  },
  tcp: async () => {
    report.tcp = await benchTcp({ quick, cpus, progress });
  },
  restart: async () => {
    report.restart = await benchRestart({ quick, cpus, progress });
  },
};
for (const name of BENCHES) {
  if (!selected.has(name)) continue;
  progress(`== ${name}`);
  try {
    await runs[name]();
  } catch (err) {
    report.errors[name] = (err as Error).message;
    progress(`${name} bench failed: ${(err as Error).stack ?? err}`);
  }
}
report.elapsedSeconds = Math.round((performance.now() - t0) / 100) / 10;
report.targets = evaluateTargets(report);

const outDir = resolve(o.out);
mkdirSync(outDir, { recursive: true });
const stamp = startedAt
  .toISOString()
  .replace(/[:.]/g, '-')
  .replace(/-\d{3}Z$/, 'Z');
const suffix = quick ? '-quick' : '';
const file = join(outDir, `bench-${stamp}${suffix}.json`);
const json = `${JSON.stringify(report, null, 2)}\n`;
writeFileSync(file, json);
writeFileSync(join(outDir, `latest${suffix}.json`), json);
process.stdout.write(renderReport(report, relative(process.cwd(), file) || file));
// Children and sockets are closed; exit explicitly so a stray handle cannot keep CI waiting.
process.exit(Object.keys(report.errors).length === 0 ? 0 : 1);

function gitInfo(): { commit: string; dirty: boolean } {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: REPO,
      encoding: 'utf8',
    }).trim();
    const dirty =
      execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
        cwd: REPO,
        encoding: 'utf8',
      }).trim() !== '';
    return { commit, dirty };
  } catch {
    return { commit: 'unknown', dirty: false };
  }
}
