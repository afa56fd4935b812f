import { parentPort, workerData } from 'node:worker_threads';
import { decodeRecordList } from '../log-record.ts';
import { SqliteDatabase } from './sqlite-database.ts';

const decoder = new TextDecoder();

/** Worker side of the embedded store: one request at a time, in arrival order. */
export interface WorkerRequest {
  id: number;
  op: 'write' | 'writeEncoded' | 'queryRange' | 'aggregate' | 'latest' | 'queryPoints' | 'sync' | 'close';
  arg: unknown;
}

export type WorkerResponse = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string; code?: string };

const db = new SqliteDatabase((workerData as { file: string }).file);
const port = parentPort!;

port.on('message', (req: WorkerRequest) => {
  try {
    let result: unknown;
    switch (req.op) {
      case 'write': db.write(req.arg as Parameters<SqliteDatabase['write']>[0]); break;
      case 'writeEncoded': {
        // the records as one JSON array (SqliteStore.writeEncoded): one decode and one parse per batch
        result = db.writeGroups(decodeRecordList(decoder.decode(req.arg as Uint8Array)));
        break;
      }
      case 'queryRange': result = db.queryRange(req.arg as Parameters<SqliteDatabase['queryRange']>[0]); break;
      case 'aggregate': result = db.aggregate(req.arg as Parameters<SqliteDatabase['aggregate']>[0]); break;
      case 'latest': result = db.latest(req.arg as Parameters<SqliteDatabase['latest']>[0]); break;
      case 'queryPoints': result = db.queryPoints(req.arg as Parameters<SqliteDatabase['queryPoints']>[0]); break;
      case 'sync': db.sync(); break;
      case 'close': db.close(); break;
    }
    port.postMessage({ id: req.id, ok: true, result } satisfies WorkerResponse);
  } catch (err) {
    const e = err as Error & { code?: string };
    port.postMessage({ id: req.id, ok: false, error: e.message, code: e.code } satisfies WorkerResponse);
  }
});
