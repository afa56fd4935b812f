import type { Logger } from 'pino';
import { DomainError } from '../core/domain-error.ts';

/**
 * Whether the commit log can take writes. A full disk or a failing device is a state of the platform, not
 * an error per publish: while it lasts, nothing is acknowledged (an append that failed was never
 * acknowledged), writes are refused at once instead of queueing (memory stays bounded), and the state is
 * logged once when it starts and once when it ends, instead of a stack trace per publish.
 */
export type StorageCondition = 'writable' | 'unavailable';

/** errno codes that mean "the disk cannot take this now", as opposed to a bug in the caller */
const STORAGE_FAULT_CODES = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EROFS', 'EFBIG', 'ENXIO', 'ENODEV', 'EUCLEAN']);

export function storageFaultCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && STORAGE_FAULT_CODES.has(code) ? code : undefined;
}

/** What a device or an HTTP client is told: why, and that it should send again later. */
export function storageReason(code: string): string {
  switch (code) {
    case 'ENOSPC':
    case 'EFBIG':
      return 'disk full on the platform: reading not accepted, retry later';
    case 'EDQUOT':
      return 'disk quota exhausted on the platform: reading not accepted, retry later';
    case 'EROFS':
      return "the platform's disk is read-only: reading not accepted, retry later";
    default:
      return `disk error on the platform (${code}): reading not accepted, retry later`;
  }
}

/** Raised to a writer while the log cannot take writes; maps to 503 over HTTP, no PUBACK over MQTT. */
export class StorageUnavailableError extends DomainError {
  constructor(reason: string) {
    super('unavailable', 'storage_unavailable', reason);
  }
}

export function isStorageUnavailable(err: unknown): err is StorageUnavailableError {
  return err instanceof StorageUnavailableError;
}

export interface StorageSnapshot {
  readonly condition: StorageCondition;
  readonly reason?: string;
  readonly code?: string;
  readonly since?: number;
  /** writes refused while unavailable, since start */
  readonly refused: number;
}

export class StorageState {
  private condition: StorageCondition = 'writable';
  private reason: string | undefined;
  private code: string | undefined;
  private since: number | undefined;
  private refused = 0;

  constructor(
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {}

  get unavailableReason(): string | undefined {
    return this.condition === 'unavailable' ? this.reason : undefined;
  }

  /** Enters the unavailable state (logged once; a second fault while in it changes nothing). */
  fail(err: unknown, code: string): void {
    if (this.condition === 'unavailable') return;
    this.condition = 'unavailable';
    this.code = code;
    this.reason = storageReason(code);
    this.since = this.now();
    this.logger.error(
      { code, err: (err as Error).message },
      `commit log cannot write (${code}): storage unavailable, publishes are not acknowledged until it recovers`,
    );
  }

  recover(): void {
    if (this.condition === 'writable') return;
    const downMs = this.now() - (this.since ?? this.now());
    this.logger.info(
      { code: this.code, downMs, refused: this.refused },
      'commit log writes again: storage available, acknowledging publishes',
    );
    this.condition = 'writable';
    this.reason = undefined;
    this.code = undefined;
    this.since = undefined;
  }

  /** Counts one refused write and returns the error to hand back. */
  refuse(): StorageUnavailableError {
    this.refused++;
    return new StorageUnavailableError(this.reason ?? 'storage unavailable');
  }

  snapshot(): StorageSnapshot {
    return {
      condition: this.condition,
      reason: this.reason,
      code: this.code,
      since: this.since,
      refused: this.refused,
    };
  }
}
