import { cpus, loadavg } from 'node:os';
import { cpuMeter } from './bench-platform.ts';

/**
 * Where the two cores went during one soak sample: the platform's process (all its threads), the load
 * generator (as it reports itself) and everything else on the machine (other sessions' builds and tests),
 * each as a share of one core. "Everything else" is the machine's busy time less the two processes.
 */
export interface CpuShares {
  platformCores: number;
  /** the platform's main thread alone (broker, ingest, rules, HTTP): 1.0 means its event loop is saturated */
  mainThreadCores: number;
  loadCores: number;
  otherCores: number;
  machineCores: number;
  load1: number;
}

export function cpuShareMeter(): (loadCpuMicros: number) => CpuShares {
  let own = process.cpuUsage();
  let main = cpuMeter();
  let machine = machineBusyMs();
  let at = performance.now();
  return (loadCpuMicros) => {
    const ownUsed = process.cpuUsage(own);
    own = process.cpuUsage();
    const mainMicros = main().mainThreadMicros ?? 0;
    main = cpuMeter();
    const busy = machineBusyMs();
    const now = performance.now();
    const elapsedMs = Math.max(1, now - at);
    const platformCores = (ownUsed.user + ownUsed.system) / 1000 / elapsedMs;
    const machineCores = (busy - machine) / elapsedMs;
    const loadCores = loadCpuMicros / 1000 / elapsedMs;
    machine = busy;
    at = now;
    return {
      platformCores,
      mainThreadCores: mainMicros / 1000 / elapsedMs,
      loadCores,
      machineCores,
      otherCores: Math.max(0, machineCores - platformCores - loadCores),
      load1: loadavg()[0] ?? 0,
    };
  };
}

/** Busy milliseconds of all cores since boot (user, nice, sys, irq: not idle). */
function machineBusyMs(): number {
  return cpus().reduce((sum, c) => sum + c.times.user + c.times.nice + c.times.sys + c.times.irq, 0);
}
