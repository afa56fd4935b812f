import { Worker } from 'node:worker_threads';
import type { WorkerRequest, WorkerResponse, WorkerSetup } from './sqlite-worker.ts';

/**
 * Set only in the start bundle (start/server-bundle.mjs): the path of the worker compiled beside it, which
 * boots without a TypeScript loader. From the sources (tsx, vitest) the .ts worker boots through tsx.
 */
declare const IOC_SQLITE_WORKER: string | undefined;

/** One worker thread of the embedded store and the calls waiting on it. */
export class WorkerLink {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly inflight = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private failure: Error | undefined;

  constructor(setup: WorkerSetup) {
    this.worker = typeof IOC_SQLITE_WORKER === 'string'
      ? new Worker(IOC_SQLITE_WORKER, { workerData: setup })
      : new Worker(new URL('../worker-boot.mjs', import.meta.url), {
        workerData: { entry: new URL('./sqlite-worker.ts', import.meta.url).href, ...setup },
      });
    this.worker.on('message', (res: WorkerResponse) => {
      const pending = this.inflight.get(res.id);
      if (!pending) return;
      this.inflight.delete(res.id);
      if (res.ok) pending.resolve(res.result);
      else pending.reject(Object.assign(new Error(res.error), { code: res.code }));
    });
    const fail = (err: Error) => {
      this.failure = err;
      for (const p of this.inflight.values()) p.reject(err);
      this.inflight.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`embedded store worker exited (code ${code})`)));
  }

  /** calls waiting on this worker: the store sends a read to the least busy reader */
  get pending(): number {
    return this.inflight.size;
  }

  /** `transfer`: buffers in `arg` handed over to the worker instead of copied (unusable here after). */
  call(op: WorkerRequest['op'], arg: unknown, transfer?: ArrayBuffer[]): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.inflight.set(id, { resolve, reject });
      this.worker.postMessage({ id, op, arg } satisfies WorkerRequest, transfer);
    });
  }

  async close(): Promise<void> {
    if (!this.failure) await this.call('close', undefined).catch(() => undefined);
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
    // later calls fail at once instead of waiting for a worker that is gone
    this.failure ??= new Error('the embedded store is closed');
  }
}
