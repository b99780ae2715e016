import { cpus, freemem, loadavg, release, totalmem } from 'node:os';
import { type CpuIdleInfo, readCpuIdle } from './proc/core-awake.js';
import { canPin, coreCount } from './proc/cpu-pin.js';

/** The machine a result was measured on; stored with every result. */
export interface MachineInfo {
  cores: number;
  cpuModel: string;
  node: string;
  kernel: string;
  memoryGiB: number;
  /** 1-minute load average when the run started: other work on a shared machine shows here. */
  loadAverage1m: number;
  /** Whether processes under test were pinned to one core with taskset. */
  pinning: boolean;
  /** How idle cores sleep (a guest that halts at once adds a host round trip to every wake-up). */
  cpuIdle?: CpuIdleInfo;
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cores: coreCount(),
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    node: process.version,
    kernel: release(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    loadAverage1m: Math.round((loadavg()[0] ?? 0) * 100) / 100,
    pinning: canPin(),
    cpuIdle: readCpuIdle(),
  };
}

/** Current 1-minute load average and free memory, sampled between benches. */
export function loadNow(): { loadAverage1m: number; freeMemoryGiB: number } {
  return {
    loadAverage1m: Math.round((loadavg()[0] ?? 0) * 100) / 100,
    freeMemoryGiB: Math.round((freemem() / 2 ** 30) * 10) / 10,
  };
}

/** One line for the report header, e.g. `2 × AMD EPYC, Node v20.20.2, load 1.2`. */
export function describeMachine(m: MachineInfo): string {
  const idle = m.cpuIdle?.driver
    ? `, cpuidle ${m.cpuIdle.driver}${m.cpuIdle.guestHaltPollNs !== undefined ? ` (guest_halt_poll_ns ${m.cpuIdle.guestHaltPollNs})` : ''}`
    : '';
  return `${m.cores} cores × ${m.cpuModel}, Node ${m.node}, Linux ${m.kernel}, ${m.memoryGiB} GiB, load avg ${m.loadAverage1m} at start, pinning ${m.pinning ? 'taskset' : 'unavailable'}${idle}`;
}
