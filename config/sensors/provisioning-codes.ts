import { randomInt } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { digest } from '../accounts/secrets.ts';
import type { Clock } from '../../core/clock.ts';
import { DomainError } from '../../core/domain-error.ts';
import { canonicalJson } from '../../core/entry-diff.ts';
import { writeFileDurably } from './registry-file.ts';

/**
 * One-time provisioning codes: an admin issues one for a sensor; a field technician without an account
 * types it on site (POST /api/provision) and gets the device's MQTT credentials, once. Only a digest of
 * each code is kept (`<dataDir>/provisioning.json`, 0600): 12 characters from a 31-letter alphabet
 * (~59 bits) that live minutes and are rate-limited per address cannot be guessed, so a plain SHA-256 is
 * enough, and the file leaks nothing usable. A used code stays, marked, until it expires, so a second use
 * is told apart from a typo in the log.
 * In a cluster the codes are the cluster's (cluster/shared-state.ts): entry digest -> the entry as canonical
 * JSON, and a claim is decided by the shared copy with one atomic compare-and-set (`useLedger`), so a code
 * made on one node is claimed on any other, once.
 */
const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'; // no 0/O, 1/I: read aloud over a phone
const CODE_LENGTH = 12;
/** how long a claim waits for the ledger (Redis, in a cluster) before refusing with 503 */
const LEDGER_TIMEOUT_MS = 3000;

/** the longest a code may live (the API's `expiresInMinutes` bound) */
export const MAX_CODE_TTL_MS = 7 * 86_400_000;

/**
 * An entry as stored, and as another node sends it through Redis: times must be times (an `expiresAt` that is
 * not a date would never expire) and a code lives at most MAX_CODE_TTL_MS, so no entry makes a code for ever.
 */
export const codeEntry = z
  .object({
    digest: z.string().regex(/^[0-9a-f]{64}$/),
    sensorId: z.string().min(1).max(128),
    createdAt: z.iso.datetime(),
    createdBy: z.string().max(128),
    expiresAt: z.iso.datetime(),
    usedAt: z.iso.datetime().optional(),
  })
  .strict()
  .refine((c) => Date.parse(c.expiresAt) - Date.parse(c.createdAt) <= MAX_CODE_TTL_MS, {
    path: ['expiresAt'],
    message: 'a code lives at most 7 days',
  });
const codesFile = z.object({ version: z.literal(1), codes: z.array(codeEntry) }).strict();
export type CodeEntry = z.infer<typeof codeEntry>;

/** Where a claim is decided: the entry's stored text, and a swap that succeeds only if it is still that text. */
export interface CodeLedger {
  read(digest: string): Promise<string | undefined>;
  swap(digest: string, expected: string, next: string): Promise<boolean>;
}

export type ClaimRefusal = 'unknown' | 'used' | 'expired' | 'sensor_gone' | 'malformed';

export interface IssuedCode {
  code: string;
  sensorId: string;
  expiresAt: string;
}

/** "abcd-efgh ijkl" and "ABCDEFGHIJKL" are the same code: technicians copy them by hand. */
export const normalizeCode = (code: string): string => code.toUpperCase().replace(/[\s-]/g, '');
const formatCode = (raw: string): string => raw.match(/.{1,4}/g)!.join('-');

export class ProvisioningCodes {
  private readonly file: string;
  private codes: CodeEntry[];
  private readonly listeners: Array<() => void> = [];
  /** one node: this file decides; a cluster: the shared copy in Redis */
  private ledger: CodeLedger = {
    read: async (wanted) => {
      const entry = this.codes.find((c) => c.digest === wanted);
      return entry && canonicalJson(entry);
    },
    swap: async (wanted, expected, next) => {
      const entry = this.codes.find((c) => c.digest === wanted);
      if (!entry || canonicalJson(entry) !== expected) return false;
      const used = codeEntry.parse(JSON.parse(next));
      this.save(this.live(this.clock.now()).map((c) => (c === entry ? used : c)));
      return true;
    },
  };

  constructor(
    dataDir: string,
    private readonly clock: Clock,
  ) {
    this.file = join(dataDir, 'provisioning.json');
    this.codes = existsSync(this.file) ? codesFile.parse(JSON.parse(readFileSync(this.file, 'utf8'))).codes : [];
  }

  issue(sensorId: string, ttlMs: number, by: string): IssuedCode {
    const now = this.clock.now();
    let raw = '';
    for (let i = 0; i < CODE_LENGTH; i++) raw += ALPHABET[randomInt(ALPHABET.length)];
    const expiresAt = new Date(now + ttlMs).toISOString();
    this.save([
      ...this.live(now),
      { digest: digest(raw), sensorId, createdAt: new Date(now).toISOString(), createdBy: by, expiresAt },
    ]);
    return { code: formatCode(raw), sensorId, expiresAt };
  }

  /**
   * Marks the code used and returns its sensor, or throws a DomainError whose details say why not. The mark
   * is one compare-and-set on the ledger: of two claims of one code at once (two nodes), exactly one wins.
   */
  async claim(code: string, sensorExists: (id: string) => boolean): Promise<string> {
    const now = this.clock.now();
    const normalized = normalizeCode(code);
    const refuse = (reason: ClaimRefusal): never => {
      throw new DomainError(
        'forbidden',
        'provisioning_code_refused',
        'this provisioning code is unknown, already used or expired: ask the admin for a new one',
        { reason },
      );
    };
    if (normalized.length !== CODE_LENGTH || [...normalized].some((c) => !ALPHABET.includes(c)))
      return refuse('malformed');
    const wanted = digest(normalized);
    // a lost swap means someone changed the entry meanwhile: read it again (it says used, or expired)
    for (let attempt = 0; attempt < 3; attempt++) {
      const stored = await this.reach(this.ledger.read(wanted));
      const parsed = stored === undefined ? undefined : codeEntry.safeParse(parseJson(stored));
      if (!parsed?.success || parsed.data.digest !== wanted) return refuse('unknown');
      const entry = parsed.data;
      if (entry.usedAt) return refuse('used');
      // written so that a time that is not one counts as expired
      if (!(Date.parse(entry.expiresAt) > now)) return refuse('expired');
      if (!sensorExists(entry.sensorId)) return refuse('sensor_gone');
      // durable before the secret is handed out: a crash after this cannot let the code work twice
      const used = canonicalJson({ ...entry, usedAt: new Date(now).toISOString() });
      if (await this.reach(this.ledger.swap(wanted, stored!, used))) return entry.sensorId;
    }
    return refuse('used');
  }

  /**
   * The ledger's answer, or a 503 when it has none: Redis out of reach (down, or not answering) refuses the claim,
   * never falls back to this node's copy (two nodes could then both accept one code). A swap that reached Redis
   * after its time was up has spent the code without handing out credentials: the safe side.
   */
  private async reach<T>(step: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${LEDGER_TIMEOUT_MS} ms`)), LEDGER_TIMEOUT_MS);
    });
    try {
      return await Promise.race([step, late]);
    } catch {
      // no cause in the answer (it names Redis' address); the connection's own errors are logged where they occur
      throw new DomainError(
        'unavailable',
        'provisioning_unavailable',
        'provisioning codes cannot be checked right now: try again in a minute',
        { reason: 'unavailable' },
      );
    } finally {
      clearTimeout(timer);
    }
  }

  /** a cluster's shared copy decides claims from now on (cluster/shared-state.ts) */
  useLedger(ledger: CodeLedger): void {
    this.ledger = ledger;
  }

  /** entry digest -> canonical JSON (what a cluster shares) */
  entries(): Map<string, string> {
    return new Map(this.codes.map((c) => [c.digest, canonicalJson(c)]));
  }

  /** called after every change made here (issued, claimed, forgotten) */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** takes another node's changes, already checked (cluster/shared-state.ts); not announced to onChange */
  applyShared(changes: ReadonlyMap<string, CodeEntry | null>): void {
    const byDigest = new Map(this.codes.map((c) => [c.digest, c]));
    for (const [key, entry] of changes) {
      if (entry === null) byDigest.delete(key);
      else byDigest.set(key, entry);
    }
    this.save([...byDigest.values()], false);
  }

  /** codes not yet expired (used or not), for the admin's view */
  pending(sensorId?: string): Array<{ sensorId: string; createdAt: string; expiresAt: string; used: boolean }> {
    return this.live(this.clock.now())
      .filter((c) => !sensorId || c.sensorId === sensorId)
      .map((c) => ({
        sensorId: c.sensorId,
        createdAt: c.createdAt,
        expiresAt: c.expiresAt,
        used: c.usedAt !== undefined,
      }));
  }

  /** a deleted sensor's codes go with it */
  forget(sensorId: string): void {
    if (this.codes.some((c) => c.sensorId === sensorId)) this.save(this.codes.filter((c) => c.sensorId !== sensorId));
  }

  private live(now: number): CodeEntry[] {
    return this.codes.filter((c) => Date.parse(c.expiresAt) > now);
  }

  private save(codes: CodeEntry[], announce = true): void {
    writeFileDurably(this.file, JSON.stringify({ version: 1, codes }, null, 1));
    this.codes = codes;
    if (announce) for (const l of this.listeners) l();
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
