import { createHash } from 'node:crypto';
import { z } from 'zod';
import { macOf, type AuditKey } from './audit-key.ts';

/**
 * One audit entry: who did what, to what, when and from where. Entries form a hash chain: each carries
 * the hash of the one before it (`prevHash`) and its own `hash` = sha256(prevHash + "\n" + the canonical
 * JSON of every other field). A changed, removed, inserted or reordered line breaks the chain there.
 *
 * The file holds each entry as exactly its canonical JSON (keys sorted, no spaces), one per line, so
 * a verifier can also insist that every byte of a line is what was written.
 */
export const GENESIS_HASH = '0'.repeat(64);

/** Starts a new chain segment after a break; it names the break it follows (see audit-verify.ts). */
export const CHAIN_BREAK_ACTION = 'audit.chain_break';

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);

export const auditActorSchema = z
  .object({
    name: z.string().min(1).max(200),
    // device | operator | admin | anonymous | system | cli (the role names of config/credentials.ts and the
    // other principals that change state); a string so a role added later needs no change here
    role: z.string().min(1).max(40),
  })
  .strict();

/** What a caller records; seq, hashes and (unless imported from a pending file) ts are the log's. */
export const auditInputSchema = z
  .object({
    actor: auditActorSchema,
    /** the client's address as the server saw it (request.ip), or "local" for the command line */
    address: z.string().max(200).optional(),
    /** dotted, lower-case: alert.acknowledge, rule.update, auth.failure, platform.start ... */
    action: z
      .string()
      .regex(/^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/)
      .max(100),
    target: z.string().max(500).optional(),
    outcome: z.enum(['success', 'failure']).default('success'),
    /** the change: { before, after } or what the action needs (a note, a reason code) */
    details: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export type AuditActor = z.infer<typeof auditActorSchema>;
export type AuditInput = z.input<typeof auditInputSchema>;

export const auditEntrySchema = z
  .object({
    seq: z.number().int().min(1),
    /** epoch ms, from the platform's clock */
    ts: z.number().int(),
    actor: auditActorSchema,
    address: z.string().optional(),
    action: z.string(),
    target: z.string().optional(),
    outcome: z.enum(['success', 'failure']),
    details: z.record(z.string(), z.unknown()).optional(),
    prevHash: hex64,
    hash: hex64,
    /** HMAC-SHA256(audit key, hash) (audit-key.ts); absent in logs written before the chain was keyed */
    mac: hex64.optional(),
  })
  .strict();

export type AuditEntry = z.infer<typeof auditEntrySchema>;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Keys sorted at every depth, undefined dropped: one byte sequence per value, whoever serialises it. */
function canonical(value: unknown): Json | undefined {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (Array.isArray(value)) return value.map((v) => canonical(v) ?? null);
  if (typeof value === 'object') {
    const out: { [key: string]: Json } = {};
    for (const key of Object.keys(value).sort()) {
      const v = canonical((value as Record<string, unknown>)[key]);
      if (v !== undefined) out[key] = v;
    }
    return out;
  }
  return undefined; // functions, symbols, bigint: not data
}

export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonical(value) ?? null);
}

export function hashEntry(entry: Omit<AuditEntry, 'hash' | 'mac'>): string {
  const { hash: _ignored, mac: _keyed, ...rest } = entry as AuditEntry;
  return createHash('sha256').update(entry.prevHash).update('\n').update(canonicalJson(rest)).digest('hex');
}

/** The exact line (without the newline) an entry is stored as. */
export function serializeEntry(entry: AuditEntry): string {
  return canonicalJson(entry);
}

/** With a key, the entry also carries its MAC (audit-key.ts). */
export function sealEntry(fields: Omit<AuditEntry, 'hash' | 'mac'>, key?: AuditKey): AuditEntry {
  const hash = hashEntry(fields);
  return { ...fields, hash, ...(key ? { mac: macOf(key, hash) } : {}) };
}

// Rules and details are small; a bound keeps a huge one from bloating a log read by hand.
const MAX_DETAILS_BYTES = 16 * 1024;

/** Clamps oversized details to a note of their size, so one entry never carries megabytes. */
export function boundDetails(details: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!details) return undefined;
  const bytes = Buffer.byteLength(canonicalJson(details));
  return bytes > MAX_DETAILS_BYTES ? { truncated: true, bytes, keys: Object.keys(details).slice(0, 20) } : details;
}
