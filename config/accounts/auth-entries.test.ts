import { describe, expect, it } from 'vitest';
import { canonicalJson, diffEntries, pendingChanges } from '../../core/entry-diff.ts';
import { applyAuthEntries, authEntries } from './auth-entries.ts';
import type { AuthFile } from './auth-file.ts';
import { makeHash } from './secrets.ts';

/** auth.json as entries (what cluster nodes send each other): changes, not files, and no secret in them. */
const AT = '2026-12-01T00:00:00.000Z';

function authFile(): AuthFile {
  return {
    version: 2,
    devices: { 'air-a': makeHash('first-secret'), 'air-b': makeHash('other-secret') },
    accounts: [
      { name: 'admin', role: 'admin', disabled: false, passwordSetAt: AT, createdAt: AT, iocDuty: true },
      { name: 'lan', role: 'operator', disabled: false, passwordSetAt: AT, createdAt: AT, iocDuty: false },
    ],
    tokens: [{ id: 'aaaaaaaaaaaa', account: 'lan', name: 'wall', ...makeHash('tok'), createdAt: AT, expiresAt: null }],
  };
}

describe('auth.json as entries', () => {
  it('compares entries whatever their key order, and leaves out what a copy holds already', () => {
    const nested = { b: 1, a: { d: 2, c: [3, { f: 4, e: 5 }] } };
    expect(canonicalJson(nested)).toBe('{"a":{"c":[3,{"e":5,"f":4}],"d":2},"b":1}');
    const before = new Map([
      ['x', '1'],
      ['y', '2'],
    ]);
    const after = new Map([
      ['x', '1'],
      ['z', '3'],
    ]);
    expect([...diffEntries(before, after)]).toEqual([
      ['z', '3'],
      ['y', null],
    ]);
    // a copy that has z already but still y: only the removal of y is left to do
    const copy = new Map([...before, ['z', '3']]);
    expect([...pendingChanges(copy, diffEntries(before, after))]).toEqual([['y', null]]);
    expect([...pendingChanges(after, diffEntries(before, after))]).toEqual([]);
  });

  it('carries one change onto a copy that changed otherwise, without undoing the copy', () => {
    const base = authFile();
    const changed = structuredClone(base);
    changed.accounts[1]!.disabled = true; // what one node did
    const changes = diffEntries(authEntries(base), authEntries(changed));
    expect([...changes.keys()]).toEqual(['account:lan']);
    const elsewhere = structuredClone(base);
    elsewhere.devices['air-a'] = makeHash('rotated-secret'); // what another node did meanwhile
    applyAuthEntries(elsewhere, changes);
    expect(elsewhere.accounts.find((a) => a.name === 'lan')?.disabled).toBe(true);
    expect(elsewhere.devices['air-a']).not.toEqual(base.devices['air-a']);
    // the entries hold hashes: no secret appears in what is sent
    expect(JSON.stringify([...authEntries(elsewhere)])).not.toMatch(/rotated-secret|first-secret|tok"/);
  });

  it("removes a deleted account's tokens with it, and takes a device named like a prototype key as a device", () => {
    const file = authFile();
    applyAuthEntries(
      file,
      new Map([
        ['account:lan', null],
        ['device:__proto__', JSON.stringify(makeHash('x'))],
        ['device:air-b', null],
      ]),
    );
    expect(file.accounts.map((a) => a.name)).toEqual(['admin']);
    expect(file.tokens).toEqual([]);
    expect(Object.keys(file.devices).sort()).toEqual(['__proto__', 'air-a']);
    expect(Object.getPrototypeOf(file.devices)).toBe(Object.prototype);
  });
});
