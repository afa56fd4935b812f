import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { publishAcked, startTestPlatform } from '../test-support/platform-harness.ts';

const root = mkdtempSync(join(tmpdir(), 'ioc-modes-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function walk(dir: string): Array<{ path: string; mode: number; dir: boolean }> {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    const entry = { path, mode: statSync(path).mode & 0o777, dir: e.isDirectory() };
    return e.isDirectory() ? [entry, ...walk(path)] : [entry];
  });
}

describe('data at rest', () => {
  it('makes the data directory 0700 and all it writes in it 0600 (folders 0700), even over an open one', async () => {
    const dataDir = join(root, 'data');
    mkdirSync(dataDir);
    chmodSync(dataDir, 0o755);
    const p = await startTestPlatform({ dataDir });
    const device = await p.connectDevice('air-ngomon');
    await publishAcked(device, 'ioc/air/air-ngomon/readings', JSON.stringify({ pm25: 500 }));
    await p.feeder.checkpoint();
    await p.stop();
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    const entries = walk(dataDir);
    // commit log segments, checkpoint, SQLite and its WAL, credentials and the alert journal at least
    expect(entries.length).toBeGreaterThanOrEqual(5);
    for (const e of entries) expect([e.path, e.mode.toString(8)]).toEqual([e.path, e.dir ? '700' : '600']);
  });
});
