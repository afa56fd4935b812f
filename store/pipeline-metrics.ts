import { Gauge, type Registry } from 'prom-client';
import type { FeederState } from './store-feeder.ts';
import type { ThreadHeap } from './time-series-store.ts';

export interface PipelineFigures {
  readonly feeder: FeederState;
  readonly logBytes: number;
  readonly held: boolean;
  readonly groups: number;
}

/** The durable pipeline's gauges (read at scrape time): the store, its lag, the spool and held acks. */
export function registerPipelineMetrics(registry: Registry, read: () => PipelineFigures): void {
  const gauge = (name: string, help: string, value: (s: PipelineFigures) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(value(read()));
      },
    });
  gauge('ioc_store_up', '1 when the last write to the store succeeded', (s) => (s.feeder.healthy ? 1 : 0));
  gauge('ioc_store_lag_bytes', 'Commit log bytes not yet in the store', (s) => s.feeder.lagBytes);
  gauge('ioc_store_points_written', 'Points written to the store since start', (s) => s.feeder.written);
  gauge('ioc_store_write_failures', 'Failed store writes since start (each is retried)', (s) => s.feeder.failures);
  gauge('ioc_store_last_write_seconds', 'Duration of the last store write', (s) => s.feeder.lastWriteMs / 1000);
  gauge(
    'ioc_spool_bytes',
    'Bytes held in the commit log (the spool while the store is behind or down)',
    (s) => s.logBytes,
  );
  gauge('ioc_acks_held', '1 while acknowledgements are held because the spool is full', (s) => (s.held ? 1 : 0));
  gauge('ioc_commit_groups', 'Commit log groups (fsyncs) since start', (s) => s.groups);
}

/**
 * The store's worker threads' JavaScript heaps (memory of the process that the main thread's own heap figures
 * leave out), read at scrape time; none for a store without threads of its own (InfluxDB). The writer answers
 * between writes: a scrape waits for it at most `waitMs`, then goes without these figures rather than stall.
 */
export function registerStoreThreadMetrics(
  registry: Registry,
  heaps: () => Promise<ThreadHeap[]>,
  waitMs = 1000,
): void {
  new Gauge({
    name: 'ioc_store_thread_heap_bytes',
    help: "JavaScript heap committed by each of the store's worker threads (generation: all, young)",
    labelNames: ['thread', 'generation'],
    registers: [registry],
    async collect() {
      this.reset();
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<ThreadHeap[]>((resolve) => {
        timer = setTimeout(() => resolve([]), waitMs);
      });
      const found = await Promise.race([heaps().catch(() => []), late]);
      clearTimeout(timer);
      for (const h of found) {
        this.set({ thread: h.thread, generation: 'all' }, h.committedBytes);
        this.set({ thread: h.thread, generation: 'young' }, h.youngCommittedBytes);
      }
    },
  });
}
