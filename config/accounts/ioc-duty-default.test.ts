import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../alerts/alert-model.ts';
import { publishAcked, startTestPlatform, type TestPlatform } from '../../test-support/platform-harness.ts';
import { authFilePath, parseAuthFile } from './auth-file.ts';

/**
 * auth.json files written before the IOC duty role existed (no `iocDuty` on any account) keep working and
 * give every account the documented default: the generated `operator` and `admin` hold the role (they acted
 * on every alert before agencies existed), every other account does not. An explicit value always wins.
 */
const AT = '2026-09-01T00:00:00.000Z';
const hashed = { salt: 'a'.repeat(32), hash: 'b'.repeat(64) };
const account = (name: string, role: string) => ({ name, role, disabled: false, passwordSetAt: AT, createdAt: AT });

describe('iocDuty in an auth.json of the old format', () => {
  it('fills the documented default in a version 2 file without the key, and keeps explicit values', () => {
    const old = {
      version: 2,
      devices: { 'water-kimlong': hashed },
      accounts: [
        account('admin', 'admin'),
        account('operator', 'operator'),
        account('viewer', 'viewer'),
        account('pctt.truc', 'operator'),
        account('quan.tri', 'admin'),
        { ...account('ca.dem', 'operator'), iocDuty: true },
      ],
      tokens: [],
    };
    const duty = Object.fromEntries(
      parseAuthFile('auth.json', JSON.stringify(old)).accounts.map((a) => [a.name, a.iocDuty]),
    );
    expect(duty).toEqual({
      admin: true,
      operator: true,
      viewer: false,
      'pctt.truc': false,
      'quan.tri': false,
      'ca.dem': true,
    });
    const withdrawn = { ...old, accounts: [{ ...account('operator', 'operator'), iocDuty: false }] };
    expect(parseAuthFile('auth.json', JSON.stringify(withdrawn)).accounts[0]!.iocDuty).toBe(false);
  });

  it('gives the accounts of a version 1 file (one shared token per role) the role they had', () => {
    const v1 = {
      version: 1,
      devices: { 'water-kimlong': hashed },
      tokens: [
        { ...hashed, name: 'operator', role: 'operator' },
        { ...hashed, hash: 'c'.repeat(64), name: 'admin', role: 'admin' },
      ],
    };
    const accounts = parseAuthFile('auth.json', JSON.stringify(v1)).accounts;
    expect(accounts.map((a) => [a.name, a.iocDuty])).toEqual([
      ['operator', true],
      ['admin', true],
    ]);
  });
});

describe('a platform started on an old auth.json', { timeout: 120_000 }, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ioc-old-auth-'));
  let platform: TestPlatform | undefined;
  afterAll(async () => {
    await platform?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("lets the generated operator act for any agency, not a plain member; keeps an admin's withdrawal", async () => {
    platform = await startTestPlatform({ dataDir });
    const admin = { token: platform.adminToken };
    expect(
      (await platform.request('POST', '/api/accounts', { ...admin, body: { name: 'tnmt.truc', role: 'operator' } }))
        .status,
    ).toBe(201);
    const tnmt = (
      (await platform.request('POST', '/api/accounts/tnmt.truc/tokens', { ...admin, body: { name: 't' } })).json as {
        token: string;
      }
    ).token;
    await platform.stop();
    // back to the old format: no account says anything of the duty role
    const file = authFilePath(dataDir);
    const auth = JSON.parse(readFileSync(file, 'utf8')) as { accounts: Array<Record<string, unknown>> };
    for (const a of auth.accounts) delete a.iocDuty;
    writeFileSync(file, JSON.stringify(auth, null, 1), { mode: 0o600 });

    platform = await startTestPlatform({ dataDir });
    const p = platform;
    const list = await p.request('GET', '/api/accounts', admin);
    const duty = Object.fromEntries(
      (list.json as { accounts: Array<{ name: string; iocDuty: boolean }> }).accounts.map((a) => [a.name, a.iocDuty]),
    );
    expect(duty).toMatchObject({ operator: true, admin: true, viewer: false, 'tnmt.truc': false });
    const device = await p.connectDevice('water-kimlong');
    await publishAcked(device, 'ioc/water/water-kimlong/readings', JSON.stringify({ waterLevel: 1.2 }));
    await p.alerts.idle();
    const l1 = p.alerts.open().find((a) => a.ruleId === 'flood-level-1') as Alert;
    expect(l1.workflow!.agencyId).toBe('ubnd-kim-long');
    // the environment department's member is not the ward's: refused, as documented
    const refused = await p.request('POST', `/api/alerts/${l1.id}/ack`, { token: tnmt });
    expect(refused).toMatchObject({ status: 403, json: { code: 'not_your_agency' } });
    // the generated operator kept what it could always do
    expect((await p.request('POST', `/api/alerts/${l1.id}/ack`, {})).status).toBe(200);

    // an admin's "no" is written down and survives a restart (never mistaken for "not yet known")
    const patched = await p.request('PATCH', '/api/accounts/operator', { ...admin, body: { iocDuty: false } });
    expect(patched).toMatchObject({ status: 200, json: { iocDuty: false } });
    await p.stop();
    expect(
      (
        JSON.parse(readFileSync(file, 'utf8')) as { accounts: Array<{ name: string; iocDuty?: boolean }> }
      ).accounts.find((a) => a.name === 'operator')!.iocDuty,
    ).toBe(false);
    platform = await startTestPlatform({ dataDir });
    const again = await platform.request('GET', '/api/accounts', admin);
    expect(
      (again.json as { accounts: Array<{ name: string; iocDuty: boolean }> }).accounts.find(
        (a) => a.name === 'operator',
      )!.iocDuty,
    ).toBe(false);
  });
});
