import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import type { Clock } from '../../core/clock.ts';
import { DomainError } from '../../core/domain-error.ts';
import { canonicalJson } from '../../core/entry-diff.ts';
import {
  AD_HOC_TOO_LONG,
  MAX_AD_HOC_MS,
  matchesSubject,
  readSilenceAlias,
  silenceInputSchema,
  silenceSchema,
  type Silence,
  type SilenceSubject,
} from './silence-model.ts';
import { SilenceSchedule } from './silence-schedule.ts';

/**
 * The silences in force and scheduled, kept in `<dataDir>/silences.json` (written whole, then renamed,
 * so a crash leaves the old file or the new one). Small by nature (tens, not thousands): a list is enough.
 * In a cluster they are the cluster's (cluster/shared-state.ts): `entries()` is what is shared, `applyShared`
 * takes another node's silences, so a silence made on one node holds for the alerts every node raises.
 */
// a file written before `match.ruleKind` was renamed `ruleType` loads as if written now (rewritten at the next save)
const storedSilence = z.preprocess((raw) => {
  const read = readSilenceAlias(raw);
  return read.outcome === 'moved' ? read.raw : raw;
}, silenceSchema);
const fileSchema = z.object({ version: z.literal(1), silences: z.array(storedSilence) });
const MAX_SILENCES = 1000;

export interface SilenceStoreLogger {
  warn(obj: object, msg?: string): void;
}

export class SilenceStore {
  private readonly silences = new Map<string, { silence: Silence; schedule: SilenceSchedule }>();
  private readonly listeners: Array<(silence: Silence, change: 'added' | 'ended') => void> = [];

  /** Called after a silence is added or ended (escalation marks or releases the open alerts it holds). */
  onChange(listener: (silence: Silence, change: 'added' | 'ended') => void): void {
    this.listeners.push(listener);
  }

  constructor(
    private readonly file: string | undefined,
    private readonly clock: Clock,
    private readonly timezone: string,
    private readonly logger?: SilenceStoreLogger,
    /** the city's sensor kinds: a silence naming another `sensorKind` is refused (it would match nothing) */
    private readonly sensorKinds?: readonly string[],
  ) {
    if (!file || !existsSync(file)) return;
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      raw = undefined;
    }
    const parsed = fileSchema.safeParse(raw);
    if (!parsed.success) {
      // a damaged file must not stop the platform; silences fall away, which is the safe side (alerts are heard)
      logger?.warn({ file }, 'silences file unreadable; starting with no silences');
      return;
    }
    for (const s of parsed.data.silences)
      this.silences.set(s.id, { silence: s, schedule: new SilenceSchedule(s, timezone) });
  }

  list(): Silence[] {
    return [...this.silences.values()].map((e) => e.silence);
  }

  get(id: string): Silence | undefined {
    return this.silences.get(id)?.silence;
  }

  /**
   * Validates (DomainError invalid naming the field) and stores. A deprecated `match.ruleKind` is read as
   * `match.ruleType` (silence-model.ts; the API tells the client).
   */
  add(raw: unknown, by: string): Silence {
    const alias = readSilenceAlias(raw);
    if (alias.outcome === 'conflict') throw new DomainError('invalid', 'invalid_silence', alias.message);
    const parsed = silenceInputSchema.safeParse(alias.raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new DomainError('invalid', 'invalid_silence', `${issue.path.join('.') || 'silence'}: ${issue.message}`);
    }
    const unknownKind = parsed.data.match.sensorKind?.find((k) => this.sensorKinds && !this.sensorKinds.includes(k));
    if (unknownKind !== undefined)
      throw new DomainError(
        'invalid',
        'invalid_silence',
        `match.sensorKind: unknown sensor kind "${unknownKind}" (the city's kinds: ${this.sensorKinds!.join(', ')})`,
      );
    if (this.silences.size >= MAX_SILENCES)
      throw new DomainError('conflict', 'too_many_silences', `at most ${MAX_SILENCES} silences; end some first`);
    const now = this.clock.now();
    const input = parsed.data;
    if (input.endsAt !== undefined && input.endsAt <= now)
      throw new DomainError('invalid', 'invalid_silence', 'endsAt: must be in the future');
    if (input.endsAt !== undefined && input.endsAt - (input.startsAt ?? now) > MAX_AD_HOC_MS)
      throw new DomainError('invalid', 'invalid_silence', `endsAt: ${AD_HOC_TOO_LONG}`);
    const silence: Silence = {
      id: randomUUID(),
      match: input.match,
      reason: input.reason,
      maintenance: input.maintenance,
      createdBy: by,
      createdAt: now,
      ...(input.cron === undefined
        ? { startsAt: input.startsAt ?? now, endsAt: input.endsAt }
        : { cron: input.cron, durationMinutes: input.durationMinutes, until: input.until }),
    };
    this.silences.set(silence.id, { silence, schedule: new SilenceSchedule(silence, this.timezone) });
    this.save();
    for (const l of this.listeners) l(silence, 'added');
    return silence;
  }

  /** silence id -> canonical JSON (what a cluster shares) */
  entries(): Map<string, string> {
    return new Map([...this.silences].map(([id, e]) => [id, canonicalJson(e.silence)]));
  }

  /**
   * Takes silences added or ended on another node (already checked: cluster/shared-state.ts). The listeners
   * hear them as if made here, so escalation marks and releases this node's open alerts alike.
   */
  applyShared(changes: ReadonlyMap<string, Silence | null>): void {
    const heard: Array<[Silence, 'added' | 'ended']> = [];
    for (const [id, silence] of changes) {
      const before = this.silences.get(id);
      // per entry, like the API: no more than MAX_SILENCES, and an ended silence is not brought back to force
      const refusal = !silence
        ? undefined
        : !before && this.silences.size >= MAX_SILENCES
          ? `at most ${MAX_SILENCES} silences`
          : before?.silence.endedAt !== undefined && silence.endedAt === undefined
            ? 'an ended silence cannot be put back in force'
            : undefined;
      if (refusal) {
        this.logger?.warn({ silence: id.slice(0, 64), reason: refusal }, 'a silence from the cluster is refused here');
        continue;
      }
      before?.schedule.dispose();
      if (silence === null) {
        this.silences.delete(id);
        if (before) heard.push([before.silence, 'ended']);
        continue;
      }
      this.silences.set(id, { silence, schedule: new SilenceSchedule(silence, this.timezone) });
      if (!before) heard.push([silence, silence.endedAt === undefined ? 'added' : 'ended']);
      else if (before.silence.endedAt === undefined && silence.endedAt !== undefined) heard.push([silence, 'ended']);
    }
    this.save();
    for (const [silence, change] of heard) for (const l of this.listeners) l(silence, change);
  }

  /** Ends a silence now (kept, marked ended, so its history stays readable). */
  end(id: string, by: string): Silence {
    const entry = this.silences.get(id);
    if (!entry) throw new DomainError('not_found', 'silence_not_found', `no silence ${id}`);
    if (entry.silence.endedAt !== undefined)
      throw new DomainError('conflict', 'silence_ended', `silence ${id} was already ended by ${entry.silence.endedBy}`);
    const ended: Silence = { ...entry.silence, endedAt: this.clock.now(), endedBy: by };
    entry.schedule.dispose();
    this.silences.set(id, { silence: ended, schedule: new SilenceSchedule(ended, this.timezone) });
    this.save();
    for (const l of this.listeners) l(ended, 'ended');
    return ended;
  }

  /** The first silence in force at `t` for the subject (maintenance only: the device is being worked on). */
  activeFor(subject: SilenceSubject, t: number, maintenanceOnly = false): Silence | undefined {
    for (const { silence, schedule } of this.silences.values()) {
      if (maintenanceOnly && !silence.maintenance) continue;
      if (matchesSubject(silence, subject) && schedule.activeAt(t)) return silence;
    }
    return undefined;
  }

  /** When the silence's current window ends (for the alert's mark), if in force at t. */
  windowEnd(id: string, t: number): number | undefined {
    const to = this.silences.get(id)?.schedule.activeAt(t)?.to;
    return to === undefined || to === Infinity ? undefined : to;
  }

  isActive(id: string, t: number): boolean {
    return this.silences.get(id)?.schedule.activeAt(t) !== undefined;
  }

  close(): void {
    for (const e of this.silences.values()) e.schedule.dispose();
  }

  private save(): void {
    if (!this.file) return;
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify({ version: 1, silences: this.list() }, null, 1));
    renameSync(tmp, this.file);
  }
}
