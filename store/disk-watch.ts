import { statfs } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../core/clock.ts';

/**
 * A warning before the disk is full: the data dir's free space, checked every few seconds with statfs,
 * against a low watermark in bytes and in percent (either one crossed means low). Health says `degraded`
 * with the reason, and the log says so once per change, not at every check.
 */
export interface DiskWatchOptions {
  dir: string;
  clock: Clock;
  logger: Logger;
  lowWatermarkBytes: number;
  lowWatermarkPercent: number;
  checkSeconds: number;
}

export interface DiskSnapshot {
  /** undefined until the first check has run */
  readonly freeBytes?: number;
  readonly totalBytes?: number;
  readonly low: boolean;
  readonly reason?: string;
}

export class DiskWatch {
  private timer: TimerHandle | undefined;
  private current: DiskSnapshot = { low: false };
  private checking = false;

  constructor(private readonly options: DiskWatchOptions) {}

  start(): void {
    void this.check();
    this.timer = this.options.clock.setInterval(() => void this.check(), this.options.checkSeconds * 1000);
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  snapshot(): DiskSnapshot {
    return this.current;
  }

  /** One check now (also what the timer runs); a failing statfs is logged at debug and changes nothing. */
  async check(): Promise<DiskSnapshot> {
    if (this.checking) return this.current;
    this.checking = true;
    try {
      const fs = await statfs(this.options.dir);
      this.update(fs.bavail * fs.bsize, fs.blocks * fs.bsize);
    } catch (err) {
      this.options.logger.debug({ err: (err as Error).message }, "could not read the data dir's free space");
    } finally {
      this.checking = false;
    }
    return this.current;
  }

  private update(freeBytes: number, totalBytes: number): void {
    const { lowWatermarkBytes, lowWatermarkPercent, logger } = this.options;
    const percent = totalBytes > 0 ? (freeBytes / totalBytes) * 100 : 100;
    const low = freeBytes < lowWatermarkBytes || percent < lowWatermarkPercent;
    const reason = low
      ? `low disk space on the data dir: ${formatBytes(freeBytes)} free (${percent.toFixed(1)}%), below the ` +
        `watermark of ${formatBytes(lowWatermarkBytes)} or ${lowWatermarkPercent}%`
      : undefined;
    if (low !== this.current.low) {
      if (low) logger.warn({ freeBytes, totalBytes, lowWatermarkBytes, lowWatermarkPercent }, reason);
      else logger.info({ freeBytes, totalBytes }, 'disk space on the data dir is above the low watermark again');
    }
    this.current = { freeBytes, totalBytes, low, reason };
  }
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${Math.round(bytes / 1024)} KiB`;
}
