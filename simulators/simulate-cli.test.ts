import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../cli/ioc.ts';
import { startTestPlatform, type TestPlatform } from '../test-support/platform-harness.ts';

// Each test stops its platform as its last step; afterEach only catches the ones a failure left running.
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function platformWith(): Promise<TestPlatform> {
  const p = await startTestPlatform();
  cleanup.push(() => p.stop());
  return p;
}

const scenarioText = (extra: string) => `name: t\ntitle: { vi: "Thử", en: "Test" }\nseed: 9\n${extra}`;

function captureIo() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) }, out, err };
}

describe('ioc simulate', () => {
  it('plays a scenario against the platform, prints a summary and exits 0', async () => {
    const p = await platformWith();
    const { io, out, err } = captureIo();
    const code = await runCli(
      [
        'simulate',
        '--scenario',
        'pollution-episode',
        '--devices',
        '3',
        '--speed',
        '43200',
        '--interval',
        '30m',
        '--broker',
        p.mqttUrl,
        '--credentials',
        join(p.dataDir, 'credentials.json'),
      ],
      io,
    );
    expect(err.join('\n')).toContain('pollution-episode: 3 devices');
    expect(code).toBe(0);
    expect(out.join('\n')).toMatch(/144 readings sent .*144 acknowledged, 0 rejected, 0 not acknowledged/);
    await p.stop();
  }, 60_000);

  it('exits 1 when the platform rejects readings, and 2 on usage errors', async () => {
    const p = await platformWith();
    const dir = mkdtempSync(join(tmpdir(), 'ioc-scn-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'old.yaml');
    writeFileSync(
      file,
      scenarioText(
        'start: "2020-10-10T00:00:00Z"\nduration: 30m\ninterval: 10m\nspeed: 3600\nsensors: { sensors: [air-ngomon] }',
      ),
    );
    const rejected = captureIo();
    expect(
      await runCli(
        ['simulate', '--scenario', file, '--broker', p.mqttUrl, '--credentials', join(p.dataDir, 'credentials.json')],
        rejected.io,
      ),
    ).toBe(1);
    expect(rejected.out.join('\n')).toMatch(/3 rejected/);
    // the clock it prints is the city's (Asia/Ho_Chi_Minh, UTC+07:00): the scenario ran 00:00 to 00:30 UTC
    expect(rejected.out.join('\n')).toMatch(
      /simulated 2020-10-10 07:00 \(Asia\/Ho_Chi_Minh\) to 2020-10-10 07:30 \(Asia\/Ho_Chi_Minh\)/,
    );
    expect(rejected.out.join('\n')).not.toMatch(/2020-10-10[ T]00:[0-3]0|UTC|GMT/);
    expect(rejected.err.join('\n')).toMatch(/ioc\/\+\/\+\/errors/);
    const usage = captureIo();
    expect(await runCli(['simulate', '--scenario', 'hue-flood', '--speed', 'fast'], usage.io)).toBe(2);
    expect(usage.err.join('\n')).toMatch(/--speed must be a positive number, got "fast"/);
    const tooMany = captureIo();
    expect(
      await runCli(['simulate', '--scenario', 'hue-flood', '--devices', '500', '--password', 'x'], tooMany.io),
    ).toBe(2);
    expect(tooMany.err.join('\n')).toMatch(/selects 9 sensors .*--write-fleet-city/);
    await p.stop();
  }, 60_000);
});
