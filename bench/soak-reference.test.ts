import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHistogram } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { emptyCounters, SoakDevice } from './soak-devices.ts';
import { type ReferenceBroker, startReference } from './soak-reference-start.ts';

/** The soak's same-run baseline: a real process, a real socket, its file on disk. */
let dir: string | undefined;
let reference: ReferenceBroker | undefined;
afterEach(async () => {
  await reference?.stop();
  reference = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('soak reference broker', () => {
  it('acknowledges QoS 1 readings once they are in its file, and removes the file when stopped', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ioc-reference-test-'));
    reference = await startReference(dir);
    const url = new URL(reference.url);
    const counters = emptyCounters();
    const latency = createHistogram();
    const spec = { sensorId: 'reference-0', kind: 'air', username: 'any', password: 'any' };
    const device = new SoakDevice(spec, 0, { host: url.hostname, port: Number(url.port) }, counters, latency);
    await device.connect();
    const from = Date.now();
    for (let i = 0; i < 20; i++) device.publish(from + i);
    await device.stop(5000);
    expect(counters).toMatchObject({ published: 20, acked: 20, failed: 0, skipped: 0, strayAcks: 0 });
    expect(latency.count).toBe(20);
    const [own] = readdirSync(dir);
    const written = readFileSync(join(dir, own!, 'log'), 'utf8');
    expect(written.match(/"pm25":/g)).toHaveLength(20);
    expect(written).toContain(`"ts":${from + 19},`);
    await reference.stop();
    reference = undefined;
    expect(readdirSync(dir)).toEqual([]);
  });
});
