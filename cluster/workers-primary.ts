import cluster, { type Worker } from 'node:cluster';
import { watch, type FSWatcher } from 'node:fs';
import { systemClock, type Clock, type TimerHandle } from '../core/clock.ts';
import { loadPlatformConfig } from '../config/platform-config.ts';
import type { AuthFile } from '../config/accounts/auth-file.ts';
import {
  boxAuthChanges,
  checkSharedAccounts,
  copySharedFiles,
  passSharedFiles,
  readBoxAuth,
  planWorkers,
  SHARED_FILES,
  WORKER_STOP_MESSAGE,
  workerCount,
  workersArgument,
  type WorkerPlan,
} from './workers-plan.ts';

/**
 * `cluster.workers: N` (IOC_WORKERS, `--workers N|auto`): this process becomes the primary of Node's cluster
 * module and N platform processes share its MQTT, MQTTS and HTTP ports (the primary accepts and hands each
 * connection to the next worker). The primary holds no platform code: it starts the workers, restarts one
 * that dies (the new one drains its own commit log at start, like any restart), copies the box's accounts
 * to them when they change, and stops them cleanly on SIGTERM/SIGINT.
 *
 * Returns false, having started nothing, when this process should run the platform itself: it is a worker,
 * or workers is 1 (plain `npm start`).
 */
export async function superviseWorkersIfAsked(argv: readonly string[], clock: Clock = systemClock): Promise<boolean> {
  if (!cluster.isPrimary) return false;
  const fromArgs = workersArgument(argv);
  const config = loadPlatformConfig(fromArgs === undefined ? {} : { overrides: { cluster: { workers: fromArgs } } });
  if (config.cluster.workers === 1) return false;
  checkSharedAccounts(config.dataDir);
  const plans = planWorkers(config, workerCount(config.cluster.workers));
  superviseWorkers({ plans, sharedDir: config.dataDir, clock });
  return true;
}

interface Slot {
  readonly plan: WorkerPlan;
  worker?: Worker;
  startedAt: number;
  /** delay before the next restart: doubles while the worker keeps dying young, so a crash loop stays quiet */
  backoffMs: number;
  restart?: TimerHandle;
}

const FIRST_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 30_000;
/** a worker that lived this long before dying is restarted after the first delay again */
const HEALTHY_RUN_MS = 30_000;

function say(text: string): void {
  process.stderr.write(`ioc workers: ${text}\n`);
}

function superviseWorkers(deps: { plans: WorkerPlan[]; sharedDir: string; clock: Clock }): void {
  const { plans, sharedDir, clock } = deps;
  const slots = plans.map((plan): Slot => ({ plan, startedAt: 0, backoffMs: FIRST_BACKOFF_MS }));
  let stopping = false;
  let failed = false;

  const start = (slot: Slot) => {
    slot.restart = undefined;
    try {
      copySharedFiles(sharedDir, slot.plan.dataDir);
    } catch (err) {
      say(`cannot prepare ${slot.plan.dataDir} for worker ${slot.plan.nodeId}: ${(err as Error).message}`);
    }
    slot.startedAt = clock.now();
    const worker = cluster.fork(slot.plan.env);
    slot.worker = worker;
    worker.once('online', () => say(`worker ${slot.plan.nodeId} started (pid ${worker.process.pid})`));
  };

  cluster.on('exit', (worker, code, signal) => {
    const slot = slots.find((s) => s.worker === worker);
    if (!slot) return;
    slot.worker = undefined;
    if (stopping) {
      if (code !== 0) failed = true;
      if (slots.every((s) => !s.worker)) finish();
      return;
    }
    const lived = clock.now() - slot.startedAt;
    if (lived >= HEALTHY_RUN_MS) slot.backoffMs = FIRST_BACKOFF_MS;
    say(
      `worker ${slot.plan.nodeId} (pid ${worker.process.pid}) exited (${signal ?? `code ${code}`}) after ` +
        `${Math.round(lived / 1000)} s; restarting it in ${slot.backoffMs / 1000} s`,
    );
    slot.restart = clock.setTimeout(() => start(slot), slot.backoffMs);
    slot.backoffMs = Math.min(MAX_BACKOFF_MS, slot.backoffMs * 2);
  });

  // `ioc accounts ...` / `ioc credentials ...` on the box's data directory reach every running worker, as what
  // changed since the box's previous file (passSharedFiles says why not the whole file)
  let boxAuth: AuthFile | undefined;
  try {
    boxAuth = readBoxAuth(sharedDir);
  } catch (err) {
    say(`${(err as Error).message}: account changes on the box are passed on once it is valid`);
  }
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(sharedDir, (_event, name) => {
      if (stopping || !SHARED_FILES.some((f) => f === String(name))) return;
      let next: AuthFile | undefined;
      try {
        next = readBoxAuth(sharedDir);
      } catch (err) {
        say(`the box's accounts changed but are invalid, not passed on: ${(err as Error).message}`);
        return;
      }
      const changes = boxAuthChanges(boxAuth, next);
      for (const slot of slots) {
        try {
          passSharedFiles(sharedDir, slot.plan.dataDir, changes);
        } catch (err) {
          say(`cannot pass the changed accounts to ${slot.plan.nodeId}: ${(err as Error).message}`);
        }
      }
      boxAuth = next;
    });
    watcher.on('error', (err) => say(`stopped watching ${sharedDir} for account changes: ${err.message}`));
  } catch (err) {
    say(
      `cannot watch ${sharedDir} for account changes (they reach a worker at its restart): ${(err as Error).message}`,
    );
  }

  const finish = () => {
    watcher?.close();
    say(failed ? 'stopped (a worker did not stop cleanly)' : 'stopped');
    process.exit(failed ? 1 : 0);
  };

  // Over IPC rather than a signal: a worker that already received the signal itself (Ctrl+C reaches the
  // whole process group, systemd signals the whole cgroup) ignores the second request instead of taking
  // it as "stop now".
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      say(`${signal} again: killing the workers now`);
      for (const slot of slots) slot.worker?.process.kill('SIGKILL');
      process.exit(1);
    }
    stopping = true;
    say(`${signal} received: stopping ${slots.filter((s) => s.worker).length} workers`);
    for (const slot of slots) {
      slot.restart?.cancel();
      slot.restart = undefined;
      const worker = slot.worker;
      if (worker?.isConnected()) worker.send(WORKER_STOP_MESSAGE);
      else worker?.process.kill('SIGTERM');
    }
    if (slots.every((s) => !s.worker)) finish();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  say(`starting ${slots.length} workers on the same ports: ${slots.map((s) => s.plan.nodeId).join(', ')}`);
  for (const slot of slots) start(slot);
}
