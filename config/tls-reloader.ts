import { watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { TlsFiles } from './tls-config.ts';
import { loadTlsMaterial, type TlsMaterial } from './tls-material.ts';

/**
 * Puts a renewed certificate into service without a restart. The folders of the files are watched (not the
 * files: certbot, cert-manager and `mv` replace a file by renaming over it, which a watch on the old inode
 * never sees), and a slow poll covers file systems without change events. A change is read once the
 * writes have settled, checked like at start, and handed to `apply` (each listener's setSecureContext):
 * new handshakes get the new pair, established connections keep theirs. A pair that fails the checks is
 * not used; the old one stays and one error is logged per distinct problem, not one per file event.
 */
export interface TlsReloaderDeps {
  files: Pick<TlsFiles, 'cert' | 'key' | 'ca'>;
  current: TlsMaterial;
  apply(material: TlsMaterial): void;
  clock: Clock;
  logger: Logger;
  /** a change is read this long after the last file event (a renewal writes cert and key one after the other) */
  settleMs?: number;
  pollMs?: number;
  onResult?(result: 'reloaded' | 'failed'): void;
}

export interface TlsReloader {
  readonly current: TlsMaterial;
  /** reads the files now (what a file event or the poll does) */
  check(): 'unchanged' | 'reloaded' | 'failed';
  close(): void;
}

export function watchTlsFiles(deps: TlsReloaderDeps): TlsReloader {
  const { files, clock, logger } = deps;
  let current = deps.current;
  let lastError: string | undefined;
  let pending: TimerHandle | undefined;
  let closed = false;

  const check = (): 'unchanged' | 'reloaded' | 'failed' => {
    let next: TlsMaterial;
    try {
      next = loadTlsMaterial(files, clock.now());
    } catch (err) {
      const message = (err as Error).message;
      if (message !== lastError) {
        logger.error(
          { err: message, serving: current.fingerprint256 },
          'TLS certificate not reloaded: the new files fail a check; the previous certificate stays in service',
        );
        deps.onResult?.('failed');
      }
      lastError = message;
      return 'failed';
    }
    lastError = undefined;
    if (next.digest === current.digest) return 'unchanged';
    deps.apply(next);
    current = next;
    logger.info(
      { subject: next.subject, fingerprint256: next.fingerprint256, notAfter: new Date(next.notAfter).toISOString() },
      'TLS certificate reloaded: new connections use it',
    );
    deps.onResult?.('reloaded');
    return 'reloaded';
  };

  const schedule = () => {
    if (closed) return;
    pending?.cancel();
    pending = clock.setTimeout(() => {
      pending = undefined;
      check();
    }, deps.settleMs ?? 300);
  };

  const watchers: FSWatcher[] = [];
  for (const dir of new Set(
    [files.cert, files.key, files.ca].filter((f): f is string => Boolean(f)).map((f) => dirname(f)),
  )) {
    try {
      const watcher = watch(dir, { persistent: false }, schedule);
      watcher.on('error', (err) =>
        logger.warn({ dir, err: err.message }, 'cannot watch the TLS folder; renewals are picked up by the poll'),
      );
      watchers.push(watcher);
    } catch (err) {
      logger.warn(
        { dir, err: (err as Error).message },
        'cannot watch the TLS folder; renewals are picked up by the poll',
      );
    }
  }
  const poll = clock.setInterval(check, deps.pollMs ?? 60_000);

  return {
    get current() {
      return current;
    },
    check,
    close() {
      closed = true;
      pending?.cancel();
      poll.cancel();
      for (const w of watchers) w.close();
    },
  };
}
