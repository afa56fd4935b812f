import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import type * as Esbuild from 'esbuild';
import { projectPath } from '../../core/project-root.ts';
import type { WorkerRequest, WorkerResponse, WorkerSetup } from './sqlite-worker.ts';

/**
 * Built (npm run build), this module is part of dist/main.js and the worker is its own entry beside it,
 * dist/sqlite-worker.js, plain JavaScript that starts as it is. From the sources (tsx, vitest) the worker is
 * TypeScript, which a worker thread of Node 20 cannot load: it gets neither the parent's module hooks nor
 * those of an `--import tsx` of its own before its entry. So the worker is bundled the way the build does
 * it, by esbuild, once per process, into `node_modules/.cache/ioc/` (named by its content: processes and
 * branches sharing node_modules never overwrite each other's), where its packages resolve as from dist/.
 */
const fromSources = import.meta.url.endsWith('.ts');

/**
 * Each store worker's young generation, MB (V8 splits it in three: two semi-spaces and the young large objects).
 * A worker's objects live for one request, so a small one is enough: the writer at 10,000 readings/s keeps ~8 MB
 * alive and scavenges in under a millisecond.
 */
export const WORKER_YOUNG_GENERATION_MB = 16;

function startWorker(setup: WorkerSetup): Worker {
  // The start script's --max-semi-space-size sizes the main thread's young generation for the broker's
  // allocation rate. It is a process-wide V8 flag, and it overrides every isolate's own limit: each store worker
  // grew a 64 MB young generation it never needed (~50 MB of RSS each, arriving minutes into a run as the writer
  // filled it, or hours in when a reader first served a long query). The main thread's heap was sized when the
  // process started, so clearing the flag now leaves it as it is and lets each worker's resourceLimits decide.
  setFlagsFromString('--max-semi-space-size=0');
  const options = { workerData: setup, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } };
  if (!fromSources) return new Worker(new URL('./sqlite-worker.js', import.meta.url), options);
  return new Worker(workerFromSources(), options);
}

let builtFromSources: URL | undefined;

function workerFromSources(): URL {
  if (builtFromSources) return builtFromSources;
  // loaded only here: esbuild (a binary) is a build tool, never needed by the built platform
  const esbuild = createRequire(import.meta.url)('esbuild') as typeof Esbuild;
  const [output] = esbuild.buildSync({
    entryPoints: [fileURLToPath(new URL('./sqlite-worker.ts', import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    sourcemap: 'inline',
    write: false,
  }).outputFiles;
  const code = output!.contents;
  const dir = projectPath('node_modules', '.cache', 'ioc');
  const file = join(dir, `sqlite-worker-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    // written whole, then renamed: a process starting its worker meanwhile never reads half a file
    const partial = `${file}.${process.pid}.partial`;
    writeFileSync(partial, code);
    renameSync(partial, file);
  }
  builtFromSources = pathToFileURL(file);
  return builtFromSources;
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
