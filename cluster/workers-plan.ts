import cluster from 'node:cluster';
import { chmodSync, copyFileSync, existsSync, renameSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { applyAuthEntries, authEntries } from '../config/accounts/auth-entries.ts';
import { authFilePath, readAuthFile, updateAuthFile, type AuthFile } from '../config/accounts/auth-file.ts';
import { defaultNodeId, type ClusterConfig } from '../config/cluster-config.ts';
import { diffEntries, type EntryChanges } from '../core/entry-diff.ts';
import { ConfigError } from '../config/config-error.ts';
import { preparePrivateDataDir } from '../config/private-files.ts';

/**
 * What the workers of one box are (docs/cluster.md, "Every core of one box"): worker i is a cluster node of
 * its own, `<nodeId>-w<i>`, with its own data directory `<dataDir>/workers/w<i>` (its commit log, audit
 * chain, device registry: each is written by one process only) and the box's shared accounts copied in.
 * Pure functions and file copies only: the primary that uses them loads no platform code.
 */
export interface WorkerPlan {
  readonly index: number;
  readonly nodeId: string;
  readonly dataDir: string;
  /** the environment the worker starts with, on top of the primary's */
  readonly env: Readonly<Record<string, string>>;
}

/** Files every worker reads from the box's data directory: one set of accounts and device secrets. */
export const SHARED_FILES = ['auth.json', 'credentials.json'] as const;

/** What the primary sends a worker to stop it cleanly (over the IPC channel, see onStopFromPrimary). */
export const WORKER_STOP_MESSAGE = 'ioc:stop';

export function workerCount(setting: ClusterConfig['workers'], cores = availableParallelism()): number {
  return setting === 'auto' ? Math.max(1, Math.min(256, cores)) : setting;
}

/** `--workers N`, `--workers=N` or `--workers auto` among the command-line arguments; undefined when absent. */
export function workersArgument(argv: readonly string[]): number | 'auto' | undefined {
  let raw: string | undefined;
  argv.forEach((arg, i) => {
    if (arg === '--workers') raw = argv[i + 1] ?? '';
    else if (arg.startsWith('--workers=')) raw = arg.slice('--workers='.length);
  });
  if (raw === undefined) return undefined;
  if (raw === 'auto') return 'auto';
  if (!/^\d{1,3}$/.test(raw) || Number(raw) < 1 || Number(raw) > 256) {
    throw new ConfigError(`--workers: a number from 1 to 256 or "auto" (got "${raw}")`);
  }
  return Number(raw);
}

export function planWorkers(
  config: { cluster: Pick<ClusterConfig, 'nodeId'>; dataDir: string },
  count: number,
): WorkerPlan[] {
  // node ids are at most 63 characters: the configured one is shortened to leave room for -w<index>
  const base = config.cluster.nodeId?.slice(0, 57);
  return Array.from({ length: count }, (_, index) => {
    const nodeId = base ? `${base}-w${index}` : defaultNodeId(index);
    const dataDir = join(config.dataDir, 'workers', `w${index}`);
    const env: Record<string, string> = { IOC_NODE_ID: nodeId, IOC_DATA_DIR: dataDir, IOC_WORKERS: '1' };
    // one demo fleet per box, not one per worker (it connects through the shared port like any device)
    if (index > 0) env.IOC_DEMO = '0';
    return { index, nodeId, dataDir, env };
  });
}

/** Refuses to start workers that would each make their own device secrets. */
export function checkSharedAccounts(dataDir: string): void {
  if (!existsSync(join(dataDir, SHARED_FILES[0]))) {
    throw new ConfigError(
      `cluster.workers: ${join(dataDir, SHARED_FILES[0])} does not exist; the workers share one set of accounts and ` +
        `device secrets: create it first with "npm run ioc -- credentials init --data-dir ${dataDir}"`,
    );
  }
}

/**
 * Copies the box's accounts into a worker's data directory (before it starts, and whenever they change):
 * through a temporary file and a rename, so a running worker's auth watcher sees one whole new file.
 */
export function copySharedFiles(fromDir: string, toDir: string): void {
  preparePrivateDataDir(toDir);
  for (const name of SHARED_FILES) copyOne(fromDir, toDir, name);
}

function copyOne(fromDir: string, toDir: string, name: string): void {
  const from = join(fromDir, name);
  if (!existsSync(from)) return;
  const tmp = join(toDir, `.${name}.${process.pid}.tmp`);
  copyFileSync(from, tmp);
  chmodSync(tmp, 0o600);
  renameSync(tmp, join(toDir, name));
}

/** The box's auth.json as it is now; undefined when absent. Throws a ConfigError when it is invalid. */
export function readBoxAuth(dataDir: string): AuthFile | undefined {
  const file = authFilePath(dataDir);
  return existsSync(file) ? readAuthFile(file) : undefined;
}

/** What changed in the box's accounts between two reads; undefined when there is no earlier read to compare. */
export function boxAuthChanges(before: AuthFile | undefined, after: AuthFile | undefined): EntryChanges | undefined {
  return before && after ? diffEntries(authEntries(before), authEntries(after)) : undefined;
}

/**
 * A running worker gets what changed in the box's accounts (`ioc accounts ...` on the box's data directory),
 * not the box's whole file: its own auth.json also holds what other nodes changed since (the cluster's shared
 * accounts, cluster/shared-state.ts), which the box's older file would undo, a rotated device secret working
 * again. Whole files are copied only where there is nothing to compare (a worker's first start).
 */
export function passSharedFiles(fromDir: string, toDir: string, authChanges: EntryChanges | undefined): void {
  if (!authChanges || !existsSync(authFilePath(toDir))) {
    copySharedFiles(fromDir, toDir);
    return;
  }
  if (authChanges.size) updateAuthFile(toDir, (auth) => applyAuthEntries(auth, authChanges));
  copyOne(fromDir, toDir, 'credentials.json');
}

/** In a worker: calls `stop` when the primary asks for a clean stop (a signal may have asked already). */
export function onStopFromPrimary(stop: () => void): void {
  if (!cluster.isWorker) return;
  process.on('message', (message: unknown) => {
    if (message === WORKER_STOP_MESSAGE) stop();
  });
}
