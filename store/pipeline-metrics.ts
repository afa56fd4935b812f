import { Gauge, type Registry } from 'prom-client';
import type { FeederState } from './store-feeder.ts';

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
