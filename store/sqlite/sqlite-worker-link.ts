import { Worker } from 'node:worker_threads';
import type { WorkerRequest, WorkerResponse, WorkerSetup } from './sqlite-worker.ts';

/**
 * Built (npm run build), this module is part of dist/main.js and the worker is its own entry beside it,
 * dist/sqlite-worker.js, plain JavaScript that starts as it is. From the sources (tsx, vitest) the worker is
 * TypeScript, and Node 20 hands neither the parent's module hooks nor `--import` on to a worker thread:
 * store/worker-boot.mjs registers tsx in the thread first.
 */
const fromSources = import.meta.url.endsWith('.ts');

function startWorker(setup: WorkerSetup): Worker {
  if (!fromSources) return new Worker(new URL('./sqlite-worker.js', import.meta.url), { workerData: setup });
  return new Worker(new URL('../worker-boot.mjs', import.meta.url), {
    workerData: { entry: new URL('./sqlite-worker.ts', import.meta.url).href, ...setup },
  });
}

const CLOSED = 'the embedded store is closed';

/** One worker thread of the embedded store and the calls waiting on it. */
export class WorkerLink {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly inflight = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private failure: Error | undefined;
  private closing: Promise<void> | undefined;

  constructor(setup: WorkerSetup) {
    this.worker = startWorker(setup);
    this.worker.on('message', (res: WorkerResponse) => {
      const pending = this.inflight.get(res.id);
      if (!pending) return;
      this.inflight.delete(res.id);
      if (res.ok) pending.resolve(res.result);
      else pending.reject(Object.assign(new Error(res.error), { code: res.code }));
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new Error(`embedded store worker exited (code ${code})`)));
  }

  /** calls waiting on this worker: the store sends a read to the least busy reader */
  get pending(): number {
    return this.inflight.size;
  }

  /** `transfer`: buffers in `arg` handed over to the worker instead of copied (unusable here after). */
  call(op: WorkerRequest['op'], arg: unknown, transfer?: ArrayBuffer[]): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    // a call made while the link closes would reach a worker about to be terminated and never be answered
    if (this.closing) return Promise.reject(new Error(CLOSED));
    return this.post(op, arg, transfer);
  }

  /**
   * Closes the connection, then ends the thread. Idempotent: a second close (a test's afterEach after a
   * timed-out restart, a shutdown racing another) shares the first one's promise. Whatever is still in
   * flight when the thread ends is rejected, never left waiting: terminate() does not answer it.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (!this.failure) await this.post('close', undefined).catch(() => undefined);
      this.failure ??= new Error(CLOSED);
      await this.worker.terminate();
      this.fail(this.failure);
    })();
    return this.closing;
  }

  private post(op: WorkerRequest['op'], arg: unknown, transfer?: ArrayBuffer[]): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.inflight.set(id, { resolve, reject });
      this.worker.postMessage({ id, op, arg } satisfies WorkerRequest, transfer);
    });
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const p of this.inflight.values()) p.reject(err);
    this.inflight.clear();
  }
}
