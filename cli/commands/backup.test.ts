import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { publishAcked, startTestPlatform, type TestPlatform } from '../../test-support/platform-harness.ts';
import { runCli } from '../ioc.ts';

function capture(): { io: { out(t: string): void; err(t: string): void }; text(): string } {
  const lines: string[] = [];
  return { io: { out: (t) => lines.push(t), err: (t) => lines.push(t) }, text: () => lines.join('\n') };
}

const dirs: string[] = [];
const platforms: TestPlatform[] = [];
afterEach(async () => {
  for (const p of platforms.splice(0)) await p.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `ioc-${name}-`));
  dirs.push(dir);
  return dir;
}

describe('ioc backup and ioc restore', () => {
  it('copies consistently while the platform ingests; a restore serves every reading acknowledged before', async () => {
    const p1 = await startTestPlatform();
    platforms.push(p1);
    const device = await p1.connectDevice('air-benhvien');
    const start = Date.now() - 120_000;
    const before = Array.from({ length: 300 }, (_, i) => ({ ts: start + i * 100, pm25: i % 200 }));
    for (let i = 0; i < before.length; i += 50)
      await publishAcked(device, 'ioc/air/air-benhvien/readings', JSON.stringify(before.slice(i, i + 50)));

    // ingest goes on during the backup
    let publishing = true;
    let extra = 0;
    const during = (async () => {
      while (publishing) {
        await publishAcked(
          device,
          'ioc/air/air-benhvien/readings',
          JSON.stringify({ ts: start + 40_000 + extra * 10, pm25: 1 }),
        );
        extra++;
      }
    })();
    const out = join(tempDir('backup'), 'copy');
    const backup = capture();
    expect(await runCli(['backup', '--data-dir', p1.dataDir, '--out', out], backup.io)).toBe(0);
    publishing = false;
    await during;
    expect(backup.text()).toMatch(/backed up \d+ files/);
    expect(readdirSync(out)).toEqual(expect.arrayContaining(['ioc.sqlite', 'log', 'auth.json', 'ioc-backup.json']));

    // never under a running platform
    const busy = capture();
    expect(await runCli(['restore', '--from', out, '--data-dir', p1.dataDir, '--force'], busy.io)).toBe(1);
    expect(busy.text()).toMatch(/is running on/);

    const restored = join(tempDir('restored'), 'data');
    expect(await runCli(['restore', '--from', out, '--data-dir', restored], capture().io)).toBe(0);
    const again = capture();
    expect(await runCli(['restore', '--from', out, '--data-dir', restored], again.io)).toBe(1);
    expect(again.text()).toMatch(/not empty/);

    // the audit key is kept apart from data backups (docs/operations.md): the operator puts it back beside
    // the restored directory, or the platform refuses to start on a keyed audit log it cannot verify
    copyFileSync(`${p1.dataDir}.audit.key`, `${restored}.audit.key`);
    const password = p1.devicePassword('air-benhvien');
    await p1.stop();
    platforms.splice(0);
    const p2 = await startTestPlatform({ dataDir: restored });
    platforms.push(p2);
    const res = await p2.request(
      'GET',
      `/api/sensors/air-benhvien/readings?metric=pm25&from=${start}&to=${start + 30_000}`,
    );
    const points = (res.json as { points: Array<{ ts: number; value: number }> }).points;
    expect(points).toEqual(before.map((r) => ({ ts: r.ts, value: r.pm25 })));
    // the credentials came back too: the device's own password opens a session on the restored platform
    const client = await mqtt.connectAsync(p2.mqttUrl, {
      username: 'air-benhvien',
      password,
      reconnectPeriod: 0,
      clientId: 'air-benhvien-backup-test',
    });
    await client.endAsync();
  }, 60_000);

  it('refuses a damaged backup before touching the data directory', async () => {
    const p = await startTestPlatform();
    platforms.push(p);
    const out = join(tempDir('backup'), 'copy');
    expect(await runCli(['backup', '--data-dir', p.dataDir, '--out', out], capture().io)).toBe(0);
    const target = tempDir('target');
    writeFileSync(join(target, 'keep.txt'), 'mine');
    const auth = join(out, 'auth.json');
    writeFileSync(auth, readFileSync(auth, 'utf8').replace(/.$/s, ' '));
    const damaged = capture();
    expect(await runCli(['restore', '--from', out, '--data-dir', target, '--force'], damaged.io)).toBe(1);
    expect(damaged.text()).toMatch(/auth\.json in the backup is missing or damaged/);
    expect(readdirSync(target)).toEqual(['keep.txt']);
    expect(existsSync(`${target}.before-restore`)).toBe(false);
  }, 60_000);
});
