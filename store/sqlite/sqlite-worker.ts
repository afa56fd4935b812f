import { getHeapSpaceStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { SqliteDatabase } from './sqlite-database.ts';
import type { ThreadHeap } from '../time-series-store.ts';
import type { PackedRecords } from './packed-records.ts';
import type { LifecyclePolicy } from './sqlite-lifecycle.ts';
import { SqliteReader } from './sqlite-reads.ts';

/**
 * Worker side of the embedded store, one request at a time in arrival order. The writer worker owns the
 * read-write connection (writes, sync, roll-ups, retention); reader workers each hold a read-only
 * connection, so a month-long query never queues behind a write or behind another query.
 */
export type ReadOp = 'queryRange' | 'queryRangeJson' | 'aggregate' | 'latest' | 'queryPoints' | 'heap';
export type WriteOp = 'write' | 'writeEncoded' | 'sync' | 'rollup' | 'retain' | 'close';

export interface WorkerRequest {
  id: number;
  op: ReadOp | WriteOp;
  arg: unknown;
}

export type WorkerResponse =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: string; code?: string };

export interface WorkerSetup {
  file: string;
  role: 'writer' | 'reader';
}

const setup = workerData as WorkerSetup;
const port = parentPort!;
const writer = setup.role === 'writer' ? new SqliteDatabase(setup.file) : undefined;
const readConnection = writer ? undefined : new Database(setup.file, { readonly: true });
readConnection?.pragma('busy_timeout = 5000');
const reader = writer ? writer.reader : new SqliteReader(readConnection!);

type Arg<F extends (arg: never) => unknown> = Parameters<F>[0];

function handle(req: WorkerRequest): unknown {
  switch (req.op) {
    case 'queryRange':
      return reader.queryRange(req.arg as Arg<SqliteReader['queryRange']>);
    case 'queryRangeJson':
      return reader.queryRangeJson(req.arg as Arg<SqliteReader['queryRangeJson']>);
    case 'aggregate':
      return reader.aggregate(req.arg as Arg<SqliteReader['aggregate']>);
    case 'latest':
      return reader.latest(req.arg as Arg<SqliteReader['latest']>);
    case 'queryPoints':
      return reader.queryPoints(req.arg as Arg<SqliteReader['queryPoints']>);
    case 'heap':
      return heap();
    case 'close':
      writer ? writer.close() : readConnection!.close();
      return undefined;
    default:
      break;
  }
  if (!writer) throw new Error(`a reader worker does not ${req.op}`);
  switch (req.op) {
    case 'write':
      writer.write(req.arg as Arg<SqliteDatabase['write']>);
      return undefined;
    // the records packed back to back, transferred (SqliteStore.writeEncoded, packed-records.ts)
    case 'writeEncoded':
      return writer.writePacked(req.arg as PackedRecords);
    case 'sync':
      writer.sync();
      return undefined;
    case 'rollup': {
      const { now, policy } = req.arg as { now: number; policy: LifecyclePolicy };
      return writer.rollup(now, policy);
    }
    case 'retain': {
      const { now, policy } = req.arg as { now: number; policy: LifecyclePolicy };
      return writer.retain(now, policy);
    }
  }
}

/** This worker's JavaScript heap (its thread's name is the store's to give) */
function heap(): Omit<ThreadHeap, 'thread'> {
  const out = { committedBytes: 0, youngCommittedBytes: 0, usedBytes: 0 };
  for (const space of getHeapSpaceStatistics()) {
    out.committedBytes += space.physical_space_size;
    out.usedBytes += space.space_used_size;
    if (space.space_name === 'new_space') out.youngCommittedBytes += space.physical_space_size;
  }
  return out;
}

/** Byte arrays at the top of a result (a page of JSON) are handed over, not copied. */
function transferList(result: unknown): ArrayBuffer[] | undefined {
  if (typeof result !== 'object' || result === null) return undefined;
  const buffers = Object.values(result)
    .filter((v): v is Uint8Array => v instanceof Uint8Array)
    .map((v) => v.buffer as ArrayBuffer);
  return buffers.length ? buffers : undefined;
}

port.on('message', (req: WorkerRequest) => {
  try {
    const result = handle(req);
    port.postMessage({ id: req.id, ok: true, result } satisfies WorkerResponse, transferList(result));
  } catch (err) {
    const e = err as Error & { code?: string };
    port.postMessage({ id: req.id, ok: false, error: e.message, code: e.code } satisfies WorkerResponse);
  }
});
