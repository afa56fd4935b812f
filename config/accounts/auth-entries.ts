import { canonicalJson, type EntryChanges } from '../../core/entry-diff.ts';
import type { AccountEntry, AuthFile, TokenEntry } from './auth-file.ts';

/**
 * auth.json as entries by key, for the nodes of a cluster (cluster/shared-state.ts) and the workers' primary
 * (cluster/workers-primary.ts): `device:<sensorId>`, `account:<name>`, `token:<id>`, each the entry's
 * canonical JSON. Entries hold salted hashes only (auth-file.ts), so a change sent between nodes carries no
 * secret a listener could replay.
 */
type DeviceEntry = AuthFile['devices'][string];
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
 */
export function applyAuthEntries(file: AuthFile, changes: EntryChanges): void {
  const accounts = new Map(file.accounts.map((a) => [a.name, a]));
  const tokens = new Map(file.tokens.map((t) => [t.id, t]));
  for (const [key, json] of changes) {
    const colon = key.indexOf(':');
    const kind = key.slice(0, colon);
    const id = key.slice(colon + 1);
    if (kind === 'device') {
      if (json === null) delete file.devices[id];
      // defined, not assigned: a key such as "__proto__" is an entry like any other
      else Object.defineProperty(file.devices, id, { value: JSON.parse(json) as DeviceEntry, ...PLAIN });
    } else if (kind === 'account') {
      if (json === null) accounts.delete(id);
      else accounts.set(id, JSON.parse(json) as AccountEntry);
    } else if (kind === 'token') {
      if (json === null) tokens.delete(id);
      else tokens.set(id, JSON.parse(json) as TokenEntry);
    }
  }
  file.accounts = [...accounts.values()];
  file.tokens = [...tokens.values()].filter((t) => accounts.has(t.account));
}
