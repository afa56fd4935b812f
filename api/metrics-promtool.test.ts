import { spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishAcked, startTestPlatform, type TestPlatform } from '../test-support/platform-harness.ts';

/**
 * Issue 14 item 8: `promtool check metrics` (Prometheus' own linter, Debian package `prometheus`) finds
 * nothing to say about /metrics. metrics-conventions.test.ts checks the same naming rules in plain code
 * everywhere; this runs the real tool where it is installed and is skipped, saying so, where it is not.
 */
const promtool = spawnSync('promtool', ['--version']).error ? undefined : 'promtool';

function checkMetrics(text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(promtool!, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => {
      output += c.toString('utf8');
    });
    child.stderr.on('data', (c: Buffer) => {
      output += c.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
    child.stdin.end(text);
  });
}

const title = promtool ? '' : ' (skipped: no promtool here; `apt-get install prometheus` brings it)';
describe.skipIf(!promtool)(`/metrics under promtool check metrics${title}`, () => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await startTestPlatform();
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('has no problem to report, with something in every family', async () => {
    const device = await p.connectDevice('air-ngomon');
    await publishAcked(device, 'ioc/air/air-ngomon/readings', JSON.stringify({ pm25: 12 }));
    // a refused reading and a refused login fill the refusal families too
    await publishAcked(device, 'ioc/air/air-ngomon/readings', JSON.stringify({ pm25: 'lots' }));
    await device.endAsync();
    await p.request('GET', '/api/alerts', { token: 'wrong' });
    const text = (await p.request('GET', '/metrics', { token: p.adminToken })).text;
    expect(text).toMatch(/^# TYPE \S+_total counter$/m);
    const { code, output } = await checkMetrics(text);
    expect(output.trim()).toBe('');
    expect(code).toBe(0);
  }, 30_000);

  it('is a check that can fail: a gauge named _total is reported', async () => {
    const { code, output } = await checkMetrics('# HELP bad_total a gauge\n# TYPE bad_total gauge\nbad_total 1\n');
    expect(code).toBe(3);
    expect(output).toMatch(/bad_total/);
  });
});
