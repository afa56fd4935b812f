import { canonicalJson, type EntryChanges } from '../../core/entry-diff.ts';
import { accountSchema, deviceSecret, tokenSchema, type AuthFile } from './auth-file.ts';

/**
 * auth.json as entries by key, for the nodes of a cluster (cluster/shared-state.ts) and the workers' primary
 * (cluster/workers-primary.ts): `device:<sensorId>`, `account:<name>`, `token:<id>`, each the entry's
 * canonical JSON. Entries hold salted hashes only (auth-file.ts), so a change sent between nodes carries no
 * secret a listener could replay.
 */
type DeviceEntry = AuthFile['devices'][string];
/** what applyAuthEntries needs of an entry's schema */
type Checker<T> = { safeParse(value: unknown): { success: boolean; data?: T } };
const PLAIN = { enumerable: true, writable: true, configurable: true } as const;

export function authEntries(file: AuthFile): Map<string, string> {
  const entries = new Map<string, string>();
  for (const [id, device] of Object.entries(file.devices)) entries.set(`device:${id}`, canonicalJson(device));
  for (const account of file.accounts) entries.set(`account:${account.name}`, canonicalJson(account));
  for (const token of file.tokens) entries.set(`token:${token.id}`, canonicalJson(token));
  return entries;
}

/**
 * Applies changes to a file in place (set or remove each entry). Tokens left without their account are
 * removed (the safe direction); the caller validates the whole file (updateAuthFile). Unknown keys are ignored.
 * Each entry is checked on its own: one that is not valid here (malformed JSON, another version's shape, a
 * name other than its key's) is removed rather than kept as it was, and named in the result. Skipped, it would
 * have made the whole file invalid and with it every other change refused, revocations included, at every
 * resync, for as long as it stays in Redis.
 */
export function applyAuthEntries(file: AuthFile, changes: EntryChanges): string[] {
  const accounts = new Map(file.accounts.map((a) => [a.name, a]));
  const tokens = new Map(file.tokens.map((t) => [t.id, t]));
  const refused: string[] = [];
  const read = <T>(key: string, json: string, schema: Checker<T>, named?: (value: T) => string): T | undefined => {
    let value: unknown;
    try {
      value = JSON.parse(json);
    } catch {
      value = undefined;
    }
    const { success, data } = schema.safeParse(value);
    if (success && data !== undefined && (!named || named(data) === key.slice(key.indexOf(':') + 1))) return data;
    refused.push(key);
    return undefined;
  };
  for (const [key, json] of changes) {
    const colon = key.indexOf(':');
    const kind = key.slice(0, colon);
    const id = key.slice(colon + 1);
    if (kind === 'device') {
      const device = json === null ? undefined : read(key, json, deviceSecret);
      if (device === undefined) delete file.devices[id];
      // defined, not assigned: a key such as "__proto__" is an entry like any other
      else Object.defineProperty(file.devices, id, { value: device as DeviceEntry, ...PLAIN });
    } else if (kind === 'account') {
      const account = json === null ? undefined : read(key, json, accountSchema, (a) => a.name);
      if (account === undefined) accounts.delete(id);
      else accounts.set(id, account);
    } else if (kind === 'token') {
      const token = json === null ? undefined : read(key, json, tokenSchema, (t) => t.id);
      if (token === undefined) tokens.delete(id);
      else tokens.set(id, token);
    }
  }
  file.accounts = [...accounts.values()];
  file.tokens = [...tokens.values()].filter((t) => accounts.has(t.account));
  return refused;
}
