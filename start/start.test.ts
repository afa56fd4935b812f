import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnPlatform, type PlatformProcess } from '../test-support/platform-process.ts';

// The rest of the suite runs the sources; this is the one place that runs what `npm start` runs: the build in
// dist/ (made here first, as `npm install` / `npm run build` makes it), its SQLite worker, the simulators it carries.
const ROOT = fileURLToPath(new URL('..', import.meta.url));
let built: { status: number | null; output: string } | undefined;
function buildOnce(): void {
  if (!built) {
    const run = spawnSync(process.execPath, ['start/build.mjs'], { cwd: ROOT, encoding: 'utf8' });
    built = { status: run.status, output: `${run.stdout}${run.stderr}` };
  }
  expect(built.status, built.output).toBe(0);
}

describe('npm start: the platform from dist/', () => {
  let dataDir: string;
  let p: PlatformProcess;
  beforeAll(async () => {
    buildOnce();
    dataDir = mkdtempSync(join(tmpdir(), 'ioc-start-'));
    p = await spawnPlatform({ IOC_DATA_DIR: dataDir, IOC_DEMO: '1' }, 120_000, 'npm start');
  }, 130_000);
  afterAll(() => {
    p?.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs dist/main.js and logs one line per listener before "platform ready"', () => {
    const log = p.output.join('');
    const ready = log.indexOf('platform ready');
    for (const line of [
      'MQTT broker listening on mqtt://',
      'MQTT over WebSocket listening on ws://',
      'HTTP API listening on http://',
    ]) {
      const at = log.indexOf(line);
      expect(at, line).toBeGreaterThan(-1);
      expect(at, line).toBeLessThan(ready);
    }
  });

  it('answers health, the OpenAPI document, the docs page and the console', async () => {
    const health = await fetch(`${p.httpUrl}/api/health`);
    expect(await health.json()).toMatchObject({
      status: 'ok',
      broker: { ready: true },
      store: { engine: 'embedded', ready: true },
    });
    const openapi = (await (await fetch(`${p.httpUrl}/api/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(['/api/health', '/api/sensors/{id}/readings']));
    const docs = await fetch(`${p.httpUrl}/docs/`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toMatch(/swagger/i);
    // swagger-ui's files, from its package in node_modules (loaded on the first visit to /docs)
    const script = await fetch(`${p.httpUrl}/docs/static/swagger-ui-bundle.js`);
    expect(script.status).toBe(200);
    expect((await script.text()).length).toBeGreaterThan(100_000);
    const page = await fetch(`${p.httpUrl}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<div id="app">/);
  });

  it('plays the demo fleet: its readings reach the embedded store through the built worker', async () => {
    const token = (
      JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8')) as { operator: { token: string } }
    ).operator.token;
    let readings: unknown[] = [];
    for (let i = 0; i < 60 && readings.length === 0; i++) {
      const res = await fetch(`${p.httpUrl}/api/readings/latest?kind=air`, {
        headers: { authorization: `Bearer ${token}` },
      });
      readings = ((await res.json()) as { readings: unknown[] }).readings;
      if (readings.length === 0) await new Promise((r) => setTimeout(r, 250));
    }
    expect(readings.length).toBeGreaterThan(0);
    expect(p.output.join('')).not.toMatch(/demo fleet could not start/);
  }, 30_000);

  it('stops cleanly on SIGTERM', async () => {
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(p.output.join('')).toMatch(/"msg":"stopped"/);
  }, 30_000);
});

describe('npm start: error stacks', () => {
  it('name the TypeScript sources, not the build (node --enable-source-maps)', async () => {
    buildOnce();
    const dir = mkdtempSync(join(tmpdir(), 'ioc-start-'));
    try {
      writeFileSync(join(dir, 'a-file'), '');
      // a data directory under a file: mkdir fails inside startPlatform, and main.ts prints the stack
      const failed = await spawnPlatform({ IOC_DATA_DIR: join(dir, 'a-file', 'data') }, 120_000, 'npm start').then(
        () => '',
        (err: Error) => err.message,
      );
      expect(failed).toMatch(/ENOTDIR/);
      expect(failed).toMatch(/at startPlatform \(.*platform\.ts:\d+:\d+\)/);
      expect(failed).not.toMatch(/dist\/main\.js/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 130_000);
});
