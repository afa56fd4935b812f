import { existsSync, readFileSync, statSync } from 'node:fs';
import { open, rename, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock, TimerHandle } from '../core/clock.ts';
import {
  CHAIN_BREAK_ACTION,
  GENESIS_HASH,
  auditInputSchema,
  boundDetails,
  sealEntry,
  serializeEntry,
  type AuditEntry,
  type AuditInput,
} from './audit-entry.ts';
import {
  ACTIVE_FILE,
  HEAD_FILE,
  ensureAuditDir,
  lastLine,
  listAuditFiles,
  readHead,
  rotatedName,
  verifyAuditDir,
} from './audit-files.ts';
import type { AuditKey } from './audit-key.ts';
import { acquireAuditLock, releaseAuditLock } from './audit-lock.ts';
import { createAuditWitness, type AuditWitness } from './audit-witness.ts';
import { createAuditMetrics, type AuditMetrics } from './audit-metrics.ts';
import { ChainVerifier, type ChainBreak, type ChainStatus } from './audit-verify.ts';
import type { Registry } from 'prom-client';

/** What other modules get: record a state change. Resolves once the entry is on disk (undefined if not). */
export interface AuditRecorder {
  record(input: AuditInput): Promise<AuditEntry | undefined>;
}

export interface AuditLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface AuditLogOptions {
  dir: string;
  clock: Clock;
  logger: AuditLogger;
  /** the active file is rotated before it would grow past this */
  maxFileBytes: number;
  registry?: Registry;
  /** keys the chain (audit-key.ts): every entry gets a MAC, and verification demands one */
  key?: AuditKey;
  /** logs the head every so many entries or milliseconds (audit-witness.ts) */
  witness?: { everyEntries: number; everyMs: number };
}

export interface AuditState {
  chain: 'ok' | 'broken';
  /** the first break of the last verification, for /api/health */
  reason?: string;
  breaks: number;
  /** 'tail': the active file at start; 'full': every file (GET /api/audit/verify, ioc audit verify) */
  verified: 'tail' | 'full';
  verifiedAt: number;
  head: { seq: number; hash: string };
  writeError?: string;
}

interface Queued {
  line: string;
  entry: AuditEntry;
  done: (e: AuditEntry | undefined) => void;
}

const RETRY_MS = 1000;

/**
 * The append-only, hash-chained audit log. Entries are chained in the order `record` is called (seq and
 * prevHash are assigned at once, synchronously), then written in groups: one write and one fsync for
 * everything that arrived while the previous group was being written.
 */
export class AuditLog implements AuditRecorder {
  private seq = 0;
  private hash = GENESIS_HASH;
  private activeBytes = 0;
  private activeFirstSeq: number | undefined;
  private handle: FileHandle | undefined;
  private queue: Queued[] = [];
  private flushing: Promise<void> | undefined;
  private retry: TimerHandle | undefined;
  private closed = false;
  private current: AuditState;
  private readonly metrics: AuditMetrics;

  private readonly witness: AuditWitness | undefined;

  private constructor(private readonly opts: AuditLogOptions) {
    this.metrics = createAuditMetrics(opts.registry);
    this.witness = opts.witness
      ? createAuditWitness({ clock: opts.clock, logger: opts.logger, ...opts.witness })
      : undefined;
    this.current = {
      chain: 'ok',
      breaks: 0,
      verified: 'tail',
      verifiedAt: opts.clock.now(),
      head: { seq: 0, hash: GENESIS_HASH },
    };
  }

  /**
   * Opens the log for writing: takes the directory's lock, verifies the active file (and its link to
   * the file before), and if the chain is broken says so loudly and continues on a new segment whose
   * first entry names the break. Throws when another live process writes this directory.
   */
  static open(opts: AuditLogOptions): AuditLog {
    ensureAuditDir(opts.dir);
    if (!acquireAuditLock(opts.dir)) {
      throw new Error(`${opts.dir} is being written by another process (audit.lock): one platform per data directory`);
    }
    const log = new AuditLog(opts);
    log.verifyTail();
    return log;
  }

  record(input: AuditInput): Promise<AuditEntry | undefined> {
    const parsed = auditInputSchema.safeParse(input);
    if (!parsed.success || this.closed) {
      // a caller's bug or a late caller during shutdown: said once here, never thrown into a request
      this.opts.logger.error(
        { action: input.action, issue: parsed.error?.issues[0]?.message ?? 'audit log closed' },
        'audit: entry not recorded',
      );
      return Promise.resolve(undefined);
    }
    const fields = { ...parsed.data, details: boundDetails(parsed.data.details) };
    const entry = sealEntry(
      { seq: this.seq + 1, ts: this.opts.clock.now(), ...fields, prevHash: this.hash },
      this.opts.key,
    );
    this.seq = entry.seq;
    this.hash = entry.hash;
    this.metrics.entries.inc({ action: entry.action });
    return new Promise((done) => {
      this.queue.push({ line: `${serializeEntry(entry)}\n`, entry, done });
      this.kick();
    });
  }

  state(): AuditState {
    return { ...this.current, head: { seq: this.seq, hash: this.hash } };
  }

  /** Every file from the first: slow on a large log, so on demand only. Updates the health state. */
  async verifyFull(): Promise<ChainStatus & { pending: number }> {
    await this.idle();
    const status = verifyAuditDir(this.opts.dir, this.opts.key);
    // said once when a full walk first finds the log changed (later walks only update the state)
    if (status.breaks.length && this.current.chain === 'ok') {
      this.opts.logger.error(
        { dir: this.opts.dir, breaks: status.breaks.length, first: status.breaks[0] },
        'audit: THE AUDIT CHAIN IS BROKEN: found by a full verification',
      );
    }
    this.setVerified(status.breaks, 'full');
    return status;
  }

  /** Resolves when everything recorded so far was written (or failed to be). */
  async idle(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  async close(): Promise<void> {
    await this.idle();
    this.closed = true;
    this.witness?.close();
    this.retry?.cancel();
    await this.handle?.close();
    this.handle = undefined;
    releaseAuditLock(this.opts.dir);
  }

  private verifyTail(): void {
    const { dir } = this.opts;
    const files = listAuditFiles(dir);
    const rotated = files.filter((f) => f !== ACTIVE_FILE);
    const previous = rotated.length ? lastEntryOf(join(dir, rotated[rotated.length - 1]!)) : undefined;
    const verifier = new ChainVerifier(previous, this.opts.key);
    const activePath = join(dir, ACTIVE_FILE);
    const text = existsSync(activePath) ? readFileSync(activePath, 'utf8') : '';
    verifier.feedFile(ACTIVE_FILE, text);
    const head = readHead(dir);
    const status = verifier.finish(head === 'damaged' ? undefined : head);
    const unanswered = verifier.unanswered();
    if (head === 'damaged') {
      const b = { file: HEAD_FILE, line: 0, reason: `${HEAD_FILE} is not readable: it was changed` };
      status.breaks.push(b);
      unanswered.push(b);
    }
    this.seq = status.last?.seq ?? 0;
    this.hash = status.last?.hash ?? GENESIS_HASH;
    this.activeBytes = existsSync(activePath) ? statSync(activePath).size : 0;
    this.activeFirstSeq = firstSeqOf(text);
    this.needsNewline = text.length > 0 && !text.endsWith('\n');
    this.setVerified(status.breaks, 'tail');
    if (unanswered.length) {
      this.opts.logger.error(
        { dir, breaks: unanswered.length, first: unanswered[0] },
        'audit: THE AUDIT CHAIN IS BROKEN: the log was changed, ' +
          'cut or damaged; recording continues on a new chain segment',
      );
      void this.record({
        actor: { name: 'platform', role: 'system' },
        action: CHAIN_BREAK_ACTION,
        outcome: 'failure',
        target: ACTIVE_FILE,
        details: { breaks: unanswered.slice(0, 20), breakCount: unanswered.length, continuesAfterSeq: this.seq },
      });
    }
  }

  private needsNewline = false;

  private setVerified(breaks: readonly ChainBreak[], verified: AuditState['verified']): void {
    const first = breaks[0];
    this.current = {
      ...this.current,
      chain: breaks.length ? 'broken' : 'ok',
      reason: first ? `${first.file}${first.line ? ` line ${first.line}` : ''}: ${first.reason}` : undefined,
      breaks: breaks.length,
      verified,
      verifiedAt: this.opts.clock.now(),
    };
    this.metrics.breaks.set(breaks.length);
  }

  private kick(): void {
    this.flushing ??= this.flushLoop().finally(() => {
      this.flushing = undefined;
      // an entry recorded by a caller resumed by the last group's resolution arrives after the loop's check
      if (this.queue.length && !this.retry && !this.closed) this.kick();
    });
  }

  private async flushLoop(): Promise<void> {
    while (this.queue.length) {
      const group = this.queue;
      this.queue = [];
      try {
        await this.writeGroup(group);
        if (this.current.writeError) this.opts.logger.info({ dir: this.opts.dir }, 'audit: writing again');
        this.current = { ...this.current, writeError: undefined };
        for (const q of group) q.done(q.entry);
      } catch (err) {
        // keep the entries (in order) and retry: an audit entry is not dropped for a full disk
        this.queue = [...group.map((q) => ({ ...q, done: () => undefined })), ...this.queue];
        if (!this.current.writeError)
          this.opts.logger.error(
            { err: (err as Error).message, dir: this.opts.dir },
            'audit: cannot write the audit log; retrying',
          );
        this.current = { ...this.current, writeError: (err as Error).message };
        this.metrics.writeFailures.inc();
        for (const q of group) q.done(undefined);
        this.retry?.cancel();
        this.retry = this.opts.clock.setTimeout(() => {
          this.retry = undefined;
          this.kick();
        }, RETRY_MS);
        return;
      }
    }
  }

  private async writeGroup(group: readonly Queued[]): Promise<void> {
    const body = Buffer.from((this.needsNewline ? '\n' : '') + group.map((q) => q.line).join(''));
    const { dir, maxFileBytes } = this.opts;
    if (this.activeBytes > 0 && this.activeBytes + body.length > maxFileBytes) {
      await this.handle?.close();
      this.handle = undefined;
      await rename(join(dir, ACTIVE_FILE), join(dir, rotatedName(this.activeFirstSeq ?? group[0]!.entry.seq)));
      this.activeBytes = 0;
      this.activeFirstSeq = undefined;
      await syncDir(dir);
    }
    this.handle ??= await open(join(dir, ACTIVE_FILE), 'a', 0o600);
    try {
      await this.handle.write(body);
      await this.handle.datasync();
    } catch (err) {
      // a torn group would break the chain's lines: cut back to the last whole group before retrying
      await this.handle.truncate(this.activeBytes).catch(() => undefined);
      throw err;
    }
    this.activeBytes += body.length;
    this.needsNewline = false;
    this.activeFirstSeq ??= group[0]!.entry.seq;
    const last = group[group.length - 1]!.entry;
    await writeHeadAsync(dir, { seq: last.seq, hash: last.hash });
    this.witness?.written(last);
  }
}

function lastEntryOf(file: string): { seq: number; hash: string } | undefined {
  const line = lastLine(readFileSync(file, 'utf8'));
  try {
    const e = JSON.parse(line ?? '') as { seq?: unknown; hash?: unknown };
    return typeof e.seq === 'number' && typeof e.hash === 'string' ? { seq: e.seq, hash: e.hash } : undefined;
  } catch {
    return undefined;
  }
}

function firstSeqOf(text: string): number | undefined {
  const nl = text.indexOf('\n');
  try {
    const e = JSON.parse(nl < 0 ? text : text.slice(0, nl)) as { seq?: unknown };
    return typeof e.seq === 'number' ? e.seq : undefined;
  } catch {
    return undefined;
  }
}

async function writeHeadAsync(dir: string, head: { seq: number; hash: string }): Promise<void> {
  const file = join(dir, HEAD_FILE);
  const fh = await open(`${file}.tmp`, 'w', 0o600);
  try {
    await fh.writeFile(JSON.stringify(head));
    await fh.datasync();
  } finally {
    await fh.close();
  }
  await rename(`${file}.tmp`, file);
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
