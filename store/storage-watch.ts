import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Clock } from '../core/clock.ts';
import { DiskWatch } from './disk-watch.ts';
import { registerStorageMetrics } from './storage-metrics.ts';
import { probeWritable } from './storage-probe.ts';
import { StorageState } from './storage-state.ts';

/**
 * The platform's view of its disk in one place, so that platform.ts wires it in a few lines: whether the
 * commit log can write (StorageState, fed by the DurableWriter), the low-disk watermark (DiskWatch), their
 * metrics, and what health reports.
 */
export interface StorageWatchOptions {
  dataDir: string;
  logDir: string;
  segmentBytes: number;
  disk: { lowWatermarkBytes: number; lowWatermarkPercent: number; checkSeconds: number };
  clock: Clock;
  logger: Logger;
  registry: Registry;
}

export interface StorageHealth {
  writable: boolean;
  reason?: string;
  since?: string;
  refusedWrites: number;
  freeBytes?: number;
  totalBytes?: number;
  low: boolean;
  lowReason?: string;
}

export interface StorageWatch {
  readonly storage: StorageState;
  readonly disk: DiskWatch;
  /** the DurableWriter's probe: room for a new segment, and a small synced write */
  probe(): Promise<void>;
  /** 'down' while nothing can be acknowledged, 'degraded' while the disk is low, else 'ok' */
  status(): 'ok' | 'degraded' | 'down';
  health(): StorageHealth;
  stop(): void;
}

export function createStorageWatch(options: StorageWatchOptions): StorageWatch {
  const logger = options.logger.child({ module: 'storage' });
  const storage = new StorageState(logger, () => options.clock.now());
  const disk = new DiskWatch({ dir: options.dataDir, clock: options.clock, logger, ...options.disk });
  registerStorageMetrics(options.registry, storage, disk);
  disk.start();
  // a whole new segment may be needed (appends preallocate it), plus room for the store's own writes
  const needBytes = options.segmentBytes + 256 * 1024;
  return {
    storage,
    disk,
    probe: async () => {
      await probeWritable(options.logDir, needBytes);
      void disk.check(); // the free space just changed: do not leave health on the old figure for seconds
    },
    status: () => (storage.unavailableReason !== undefined ? 'down' : disk.snapshot().low ? 'degraded' : 'ok'),
    health() {
      const s = storage.snapshot();
      const d = disk.snapshot();
      return {
        writable: s.condition === 'writable',
        ...(s.reason ? { reason: s.reason } : {}),
        ...(s.since !== undefined ? { since: new Date(s.since).toISOString() } : {}),
        refusedWrites: s.refused,
        ...(d.freeBytes !== undefined ? { freeBytes: d.freeBytes, totalBytes: d.totalBytes } : {}),
        low: d.low,
        ...(d.reason ? { lowReason: d.reason } : {}),
      };
    },
    stop: () => disk.stop(),
  };
}
