import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startTestPlatform, tryConnect } from '../../test-support/platform-harness.ts';
import { runCli } from '../ioc.ts';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) }, out, err };
}

describe('ioc sensors', () => {
  it('imports a CSV (dry run: every problem by line, exit 1, nothing changed); unknown sensors exit 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ioc-cli-sensors-'));
    try {
      expect(await runCli(['credentials', 'init', '--data-dir', dir], capture().io)).toBe(0);
      const bad = join(dir, 'bad.csv');
      writeFileSync(
        bad,
        'id,kind,name,lat,lon,district\nair-new1,air,A,16.46,107.59,Phú Xuân\n' +
          'air-b,smoke,B,16.46,107.59,Phú Xuân\nair-c,air,C,1,1,Phú Xuân\n',
      );
      const dry = capture();
      expect(await runCli(['sensors', 'import', bad, '--dry-run', '--data-dir', dir], dry.io)).toBe(1);
      expect(dry.err.join('\n')).toMatch(/line 3 \(air-b\): kind: unknown kind "smoke"/);
      expect(dry.err.join('\n')).toMatch(/line 4 \(air-c\): lat\/lon: 1, 1 is outside/);
      expect(dry.err.at(-1)).toMatch(/2 problems in 3 rows: nothing imported/);
      const list = capture();
      await runCli(['sensors', 'list', '--data-dir', dir], list.io);
      expect(list.out.join('\n')).not.toContain('air-new1');

      const good = join(dir, 'good.csv');
      writeFileSync(good, 'id,kind,name,lat,lon,district\nair-new1,air,A,16.46,107.59,Phú Xuân\n');
      const real = capture();
      expect(await runCli(['sensors', 'import', good, '--data-dir', dir], real.io)).toBe(0);
      expect(real.out.join('\n')).toMatch(/secret air-new1 \S{40,}/);
      expect(JSON.parse(readFileSync(join(dir, 'auth.json'), 'utf8')).devices['air-new1']).toBeDefined();

      for (const args of [
        ['show', 'nope'],
        ['disable', 'nope'],
        ['enable', 'nope'],
        ['delete', 'nope'],
        ['disable', '__proto__'],
      ]) {
        const c = capture();
        expect(await runCli(['sensors', ...args, '--data-dir', dir], c.io), args.join(' ')).toBe(1);
        expect(c.err.join('\n')).toMatch(/no sensor "(nope|__proto__)" in the registry/);
      }
      // a sensor deleted from the registry is unknown to every command, though the city's YAML still lists it
      expect(await runCli(['sensors', 'delete', 'air-ngomon', '--data-dir', dir], capture().io)).toBe(0);
      const rotate = capture();
      expect(await runCli(['credentials', 'device', 'air-ngomon', '--data-dir', dir], rotate.io)).toBe(1);
      expect(rotate.err.join('\n')).toMatch(/no sensor "air-ngomon"/);
      expect(await runCli(['credentials', 'device', 'air-new1', '--data-dir', dir], capture().io)).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a running platform follows the command line: a sensor disabled with ioc is disconnected at once', async () => {
    const platform = await startTestPlatform();
    try {
      const device = await tryConnect(platform.mqttUrl, {
        username: 'air-dongba',
        password: platform.devicePassword('air-dongba'),
        clientId: 'air-dongba',
      });
      expect(device.ok).toBe(true);
      const closed = new Promise<void>((resolve) => device.client!.once('close', () => resolve()));
      expect(await runCli(['sensors', 'disable', 'air-dongba', '--data-dir', platform.dataDir], capture().io)).toBe(0);
      await closed;
      expect((await platform.request('GET', '/api/sensors/air-dongba')).status).toBe(404);
      expect(await runCli(['sensors', 'enable', 'air-dongba', '--data-dir', platform.dataDir], capture().io)).toBe(0);
      await expect.poll(async () => (await platform.request('GET', '/api/sensors/air-dongba')).status).toBe(200);
    } finally {
      await platform.stop();
    }
  });
});
