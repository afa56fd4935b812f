import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError, formatZodIssues } from '../config-error.ts';

/**
 * `<dataDir>/auth.json`: everything the platform checks a secret against, and nothing it could leak as a
 * secret (hashes only). Written by the platform (admin API) and by `ioc` in another process, always whole
 * and atomically (write + rename), so a reader never sees half a file.
 */
// integration: another system (ChirpStack, Frigate, an NVR) that sends in its own dialect; tokens only, no
// console, no API reads, and only its own topics (broker/topic-acl.ts, config/integrations-config.ts)
export const ROLES = ['viewer', 'operator', 'admin', 'integration'] as const;
export type Role = (typeof ROLES)[number];
export const roleSchema = z.enum(ROLES);

export const ACCOUNT_NAME = /^[a-z][a-z0-9._-]{1,63}$/;
export const accountNameSchema = z
  .string()
  .regex(ACCOUNT_NAME, 'an account name is 2-64 characters: a-z first, then a-z, 0-9, ".", "_" or "-"');
export const passwordSchema = z
  .string()
  .min(10, 'a password has at least 10 characters')
  .max(256, 'a password has at most 256 characters');

const hashed = z.object({ salt: z.string().min(16), hash: z.string().length(64) }).strict();
/** a device's secret; `rotatedAt`: client certificates issued before it are refused (broker/client-cert-auth.ts) */
export const deviceSecret = hashed.extend({ rotatedAt: z.string().optional() }).strict();
const isoTime = z.string().datetime();

export const accountSchema = z
  .object({
    name: accountNameSchema,
    role: roleSchema,
    disabled: z.boolean(),
    /** argon2id PHC string; absent: the account logs in with tokens only */
    password: z.string().startsWith('$argon2').optional(),
    /** changes whenever the password is set or reset: sessions made before it end */
    passwordSetAt: isoTime,
    createdAt: isoTime,
    /** IOC duty role: may act on any agency's alerts (docs/operations-workflow.md); absent: defaultIocDuty */
    iocDuty: z.boolean().optional(),
  })
  .strict();

export const tokenSchema = hashed
  .extend({
    id: z.string().regex(/^[0-9a-f]{12}$/),
    account: accountNameSchema,
    name: z.string().min(1).max(64),
    createdAt: isoTime,
    expiresAt: isoTime.nullable(),
  })
  .strict();

const authFileV2 = z
  .object({
    version: z.literal(2),
    devices: z.record(z.string(), deviceSecret),
    accounts: z.array(accountSchema),
    tokens: z.array(tokenSchema),
  })
  .strict()
  .superRefine((file, ctx) => {
    const names = new Set<string>();
    file.accounts.forEach((a, i) => {
      if (names.has(a.name))
        ctx.addIssue({ code: 'custom', path: ['accounts', i, 'name'], message: `account ${a.name} appears twice` });
      names.add(a.name);
    });
    file.tokens.forEach((t, i) => {
      if (!names.has(t.account))
        ctx.addIssue({
          code: 'custom',
          path: ['tokens', i, 'account'],
          message: `token ${t.name} belongs to no account (${t.account})`,
        });
    });
  });

/** Version 1 had one shared token per role; each becomes an account of that name holding that token. */
const authFileV1 = z
  .object({
    version: z.literal(1),
    devices: z.record(z.string(), hashed),
    tokens: z.array(hashed.extend({ name: z.string().min(1), role: z.enum(['operator', 'admin']) })),
  })
  .strict();

export type AuthFile = z.infer<typeof authFileV2>;
export type AccountEntry = z.infer<typeof accountSchema>;
export type TokenEntry = z.infer<typeof tokenSchema>;

export const authFilePath = (dataDir: string): string => join(dataDir, 'auth.json');

// Stable across reads (the id comes from the hash), so reloading an unchanged v1 file closes nothing.
function migrateV1(v1: z.infer<typeof authFileV1>, at: string): AuthFile {
  const accounts = new Map<string, AccountEntry>();
  for (const t of v1.tokens)
    accounts.set(t.name, { name: t.name, role: t.role, disabled: false, passwordSetAt: at, createdAt: at });
  return {
    version: 2,
    devices: v1.devices,
    accounts: [...accounts.values()],
    tokens: v1.tokens.map((t) => ({
      id: t.hash.slice(0, 12),
      account: t.name,
      name: 'default',
      salt: t.salt,
      hash: t.hash,
      createdAt: at,
      expiresAt: null,
    })),
  };
}

/**
 * Accounts written before the IOC duty role existed have no `iocDuty`: they get the documented default,
 * which is what they could do then. The generated `operator` and `admin` accounts (`ioc credentials init`,
 * or a v1 file's shared tokens) acted on every alert, so they hold it; every other account does not. From
 * then on the value is written explicitly (account-changes.ts), so an admin's "no" is never read as "unset".
 */
export function defaultIocDuty(account: Pick<AccountEntry, 'name' | 'role'>): boolean {
  return (account.role === 'operator' || account.role === 'admin') && account.name === account.role;
}

function withDutyDefaults(auth: AuthFile): AuthFile {
  if (auth.accounts.every((a) => a.iocDuty !== undefined)) return auth;
  const accounts = auth.accounts.map((a) => (a.iocDuty === undefined ? { ...a, iocDuty: defaultIocDuty(a) } : a));
  return { ...auth, accounts };
}

/** Parses and validates; throws a ConfigError naming the file and every problem. */
const V1_EPOCH = new Date(0).toISOString();

export function parseAuthFile(file: string, text: string): AuthFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${file}: not JSON: ${(err as Error).message}`);
  }
  const v1 = authFileV1.safeParse(raw);
  if (v1.success) return withDutyDefaults(migrateV1(v1.data, V1_EPOCH));
  const parsed = authFileV2.safeParse(raw);
  if (!parsed.success)
    throw new ConfigError(`${file}: invalid credentials file:\n  - ${formatZodIssues(parsed.error).join('\n  - ')}`);
  return withDutyDefaults(parsed.data);
}

export function readAuthFile(file: string): AuthFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot read credentials: ${(err as Error).message}`);
  }
  return parseAuthFile(file, text);
}

export function writeAtomic(file: string, text: string, mode = 0o600): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, file);
}

export function writeAuthFile(file: string, auth: AuthFile): void {
  writeAtomic(file, JSON.stringify(auth, null, 1));
}

/**
 * Read, change, write. The CLI and the admin API both go through here; the platform notices the new
 * file (auth-watcher.ts). Two writers at the same instant can lose one change: accounts change by hand,
 * rarely, and the loser's command still printed its result, so this is accepted over a lock file.
 */
export function updateAuthFile<T>(dataDir: string, change: (auth: AuthFile) => T): T {
  const file = authFilePath(dataDir);
  if (!existsSync(file)) throw new ConfigError(`${file} does not exist: run "ioc credentials init" first`);
  const auth = readAuthFile(file);
  const result = change(auth);
  const checked = authFileV2.safeParse(auth);
  if (!checked.success)
    throw new ConfigError(
      `refused: the change would make ${file} invalid: ${formatZodIssues(checked.error).join('; ')}`,
    );
  writeAuthFile(file, auth);
  return result;
}
