import { timingSafeEqual } from 'node:crypto';
import {
  CHAIN_BREAK_ACTION,
  GENESIS_HASH,
  auditEntrySchema,
  hashEntry,
  serializeEntry,
  type AuditEntry,
} from './audit-entry.ts';
import { macOf, type AuditKey } from './audit-key.ts';

/**
 * Walks the chain line by line and names every place it breaks (file and 1-based line). Pure: the
 * caller feeds lines (audit-files.ts reads them), so the same code checks a live log, an export, or a
 * test's bytes.
 *
 * A `audit.chain_break` entry starts a new segment: its prevHash is not checked against the line before
 * (that line may be the damage), but the entry itself is a reported break, so a log that has ever been
 * damaged never verifies clean again, however it continues.
 */
export interface ChainBreak {
  file: string;
  /** 1-based line within the file; 0 when the break is about the file as a whole (missing tail) */
  line: number;
  seq?: number;
  reason: string;
}

export interface ChainStatus {
  ok: boolean;
  entries: number;
  files: string[];
  /** the last entry that parsed: where the next one chains on */
  last?: { seq: number; hash: string };
  breaks: ChainBreak[];
}

const MAX_BREAKS = 1000;

export class ChainVerifier {
  private expectedPrev: string | undefined;
  private expectedSeq: number | undefined;
  private readonly breaks: ChainBreak[] = [];
  private readonly files: string[] = [];
  private entries = 0;
  private last: { seq: number; hash: string } | undefined;
  /** index into breaks of the first break not yet answered by a chain_break entry */
  private unansweredFrom = 0;

  /**
   * Starts after a known entry (checking only a tail) instead of at the beginning of the chain. With
   * `key`, every entry must carry its MAC: a chain rewritten and re-hashed without the key shows.
   */
  constructor(
    after?: { seq: number; hash: string },
    private readonly key?: AuditKey,
  ) {
    this.expectedPrev = after ? after.hash : GENESIS_HASH;
    this.expectedSeq = after ? after.seq + 1 : 1;
    this.last = after;
  }

  /** Feeds one file's whole text. */
  feedFile(file: string, text: string): void {
    this.files.push(file);
    if (text.length === 0) return;
    const lines = text.split('\n');
    const torn = lines[lines.length - 1] !== '';
    if (!torn) lines.pop();
    lines.forEach((line, i) => {
      if (torn && i === lines.length - 1)
        this.addBreak({
          file,
          line: i + 1,
          reason: 'incomplete last line (no newline): cut by a crash during a write, or truncated',
        });
      else this.feedLine(file, i + 1, line);
    });
  }

  feedLine(file: string, line: number, text: string): AuditEntry | undefined {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      this.addBreak({ file, line, reason: 'not valid JSON: the line was changed' });
      this.lose();
      return undefined;
    }
    const parsed = auditEntrySchema.safeParse(raw);
    if (!parsed.success) {
      this.addBreak({
        file,
        line,
        reason:
          `not an audit entry (${parsed.error.issues[0]?.path.join('.') || 'entry'}: ` +
          `${parsed.error.issues[0]?.message ?? 'invalid'}): the line was changed`,
      });
      this.lose();
      return undefined;
    }
    const entry = parsed.data;
    this.entries++;
    const problems: string[] = [];
    if (serializeEntry(entry) !== text) problems.push('the line differs from the entry as written (bytes changed)');
    if (hashEntry(entry) !== entry.hash) problems.push('its hash does not match its content: the entry was changed');
    if (this.key) {
      if (entry.mac === undefined) problems.push('no MAC: written without the audit key, or its MAC was stripped');
      else if (!sameHex(macOf(this.key, entry.hash), entry.mac))
        problems.push('its MAC does not match: the entry was written or rewritten without the audit key');
    }
    if (entry.action === CHAIN_BREAK_ACTION) {
      // answers every break found so far: the log said so itself, in the chain
      problems.push('a new chain segment starts here after a reported break');
    } else {
      if (this.expectedPrev !== undefined && entry.prevHash !== this.expectedPrev) {
        problems.push(
          "prevHash is not the previous entry's hash: an entry before it was removed, inserted, reordered or changed",
        );
      }
      if (this.expectedSeq !== undefined && entry.seq !== this.expectedSeq) {
        problems.push(
          `seq ${entry.seq} where ${this.expectedSeq} was due: ${
            entry.seq > this.expectedSeq ? `${entry.seq - this.expectedSeq} entries missing` : 'repeated or reordered'
          }`,
        );
      }
    }
    if (problems.length) this.addBreak({ file, line, seq: entry.seq, reason: problems.join('; ') });
    // a chain_break entry answers every break found so far: the log said so itself, in the chain
    if (entry.action === CHAIN_BREAK_ACTION) this.unansweredFrom = this.breaks.length;
    this.expectedPrev = entry.hash;
    this.expectedSeq = entry.seq + 1;
    this.last = { seq: entry.seq, hash: entry.hash };
    return entry;
  }

  /**
   * Ends the walk. `head` is what the writer last made durable (audit.head): an end of the log shorter
   * than that means lines were cut off the end, which the chain alone cannot show.
   */
  finish(head?: { seq: number; hash: string }, headFile = 'audit.head'): ChainStatus {
    if (head && (!this.last || head.seq > this.last.seq)) {
      this.addBreak({
        file: headFile,
        line: 0,
        reason:
          `the log ends at seq ${this.last?.seq ?? 0} but ${headFile} says ` +
          `seq ${head.seq} was written: entries were removed from the end`,
      });
    } else if (head && this.last && head.seq === this.last.seq && head.hash !== this.last.hash) {
      this.addBreak({
        file: headFile,
        line: 0,
        seq: head.seq,
        reason: `the last entry's hash differs from ${headFile}: it was changed`,
      });
    }
    return {
      ok: this.breaks.length === 0,
      entries: this.entries,
      files: [...this.files],
      last: this.last,
      breaks: [...this.breaks],
    };
  }

  /** Breaks after the last chain_break entry: damage the log has not recorded yet. */
  unanswered(): ChainBreak[] {
    return this.breaks.slice(this.unansweredFrom);
  }

  private lose(): void {
    // after an unreadable line the next one cannot be checked against it; do not report it twice
    this.expectedPrev = undefined;
    this.expectedSeq = undefined;
  }

  private addBreak(b: ChainBreak): void {
    if (this.breaks.length < MAX_BREAKS) this.breaks.push(b);
  }
}

function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}
