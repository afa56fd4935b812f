import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { SqliteStore } from '../../store/sqlite/sqlite-store.ts';
import type { CliIo } from '../cli-command.ts';
import { runCli } from '../ioc.ts';

function capture(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (t) => stdout.push(t), err: (t) => stderr.push(t) };
}

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 9, 10, 0, 0, 0);
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ioc-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ioc rules check', () => {
  it('passes the shipped rules of Huế', async () => {
    const io = capture();
    expect(await runCli(['rules', 'check', 'config/cities/hue/rules'], io)).toBe(0);
    expect(io.stdout.filter((l) => l.includes('SUCCESS')).length).toBeGreaterThanOrEqual(6);
    expect(io.stderr).toEqual([]);
  });

  it('fails with errors naming the file, the rule and the field', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      stringify([
        {
          id: 'good',
          type: 'threshold',
          selector: { kinds: ['water'] },
          metric: 'waterLevel',
          above: 2,
          severity: 'high',
          category: 'naturalDisaster',
          subCategory: 'flood',
        },
        {
          id: 'typo',
          type: 'threshold',
          selector: { kinds: ['water'] },
          metric: 'waterLevel',
          above: 'two',
          severity: 'high',
          category: 'naturalDisaster',
          subCategory: 'flood',
        },
        {
          id: 'wrong-metric',
          type: 'threshold',
          selector: { kinds: ['air'] },
          metric: 'waterLevel',
          above: 2,
          severity: 'high',
          category: 'environment',
          subCategory: 'x',
        },
        {
          id: 'unknown-sensor',
          type: 'noData',
          selector: { sensorIds: ['air-nowhere'] },
          severity: 'low',
          category: 'environment',
          subCategory: 'deviceOffline',
        },
      ]),
    );
    const io = capture();
    expect(await runCli(['rules', 'check', file], io)).toBe(1);
    expect(io.stdout).toContain('  FAILED:');
    expect(io.stderr).toEqual([
      `${file}: rule "typo" (#2): above: Invalid input: expected number, received string`,
      expect.stringMatching(
        new RegExp(`^${file}: rule "wrong-metric" \\(#3\\): metric: kind air has no metric "waterLevel"`),
      ),
      `${file}: rule "unknown-sensor" (#4): selector.sensorIds.0: unknown sensor "air-nowhere"`,
    ]);
  });

  it('reports invalid YAML with its line and unknown commands with usage', async () => {
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, '- id: x\n  type: [threshold\n');
    const io = capture();
    expect(await runCli(['rules', 'check', file], io)).toBe(1);
    expect(io.stderr[0]).toMatch(new RegExp(`^${file}: line \\d+: invalid YAML`));
    expect(await runCli(['nope'], capture())).toBe(2);
  });
});

describe('ioc rules backtest', () => {
  it('replays stored history and prints what would have fired and when', async () => {
    const dataDir = join(dir, 'data');
    const store = await SqliteStore.open(join(dataDir, 'ioc.sqlite'));
    // Kim Long rises 0.5 m per hour from 0 to 4 m and falls back: crosses levels I (1.0), II (2.0), III (3.5)
    const level = (h: number) => (h <= 8 ? h * 0.5 : Math.max(0, 4 - (h - 8) * 0.5));
    await store.write(
      Array.from({ length: 17 * 6 }, (_, i) => ({
        measurement: 'water',
        tags: { sensorId: 'water-kimlong', kind: 'water', district: 'Kim Long' },
        fields: { waterLevel: Math.round(level(i / 6) * 100) / 100 },
        ts: T0 + (i * HOUR) / 6,
      })),
    );
    await store.close();
    const io = capture();
    const code = await runCli(
      [
        'rules',
        'backtest',
        'config/cities/hue/rules/flood-levels.yaml',
        '--from',
        new Date(T0).toISOString(),
        '--to',
        new Date(T0 + 20 * HOUR).toISOString(),
        '--data-dir',
        dataDir,
      ],
      io,
    );
    expect(io.stderr).toEqual([]);
    expect(code).toBe(0);
    const lines = io.stdout.join('\n');
    expect(lines).toContain('Replayed 102 readings');
    const events = io.stdout
      .filter((l) => /^\d{4}-\d\d-\d\d /.test(l))
      .map((l) => l.split(/\s+/).slice(0, 5).join(' '));
    // times in Huế (UTC+7): level I at 02:00 UTC -> 09:00, II at 04:00 -> 11:00, III at 07:00 -> 14:00
    expect(events).toEqual([
      '2026-10-10 09:00:00 firing medium flood-level-1',
      '2026-10-10 11:00:00 firing high flood-level-2',
      '2026-10-10 14:00:00 firing critical flood-level-3',
      // falls below 3.5 - 0.1 at 9h20 (3.33 m), below 1.9 at 12h20 (1.83 m), below 0.9 at 14h20 (0.83 m)
      '2026-10-10 16:20:00 resolved critical flood-level-3',
      '2026-10-10 19:20:00 resolved high flood-level-2',
      '2026-10-10 21:20:00 resolved medium flood-level-1',
    ]);
    expect(lines).toContain('Mực nước 1 m tại Trạm thủy văn Kim Long (sông Hương) vượt báo động I (1 m)');
    expect(lines).toContain('flood-level-3: fired 1 time(s)');
    expect(lines).toContain('0 alert(s) still open');
  });

  it('replays device status and camera events too', async () => {
    const dataDir = join(dir, 'data-cam');
    const store = await SqliteStore.open(join(dataDir, 'ioc.sqlite'));
    const tags = { sensorId: 'cam-dongba', kind: 'camera', district: 'Phú Xuân' };
    await store.write([
      { measurement: 'camera_events', tags, fields: { type: 'smokeFire', data: '{"confidence":0.9}' }, ts: T0 + HOUR },
      { measurement: 'device_status', tags, fields: { status: 'offline', source: 'will' }, ts: T0 + 2 * HOUR },
      { measurement: 'device_status', tags, fields: { status: 'online', source: 'device' }, ts: T0 + 3 * HOUR },
    ]);
    await store.close();
    const file = join(dir, 'camera-rules.yaml');
    writeFileSync(
      file,
      stringify([
        {
          id: 'smoke-fire',
          type: 'cameraEvent',
          selector: { sensorIds: ['cam-dongba'] },
          eventTypes: ['smokeFire'],
          window: '10m',
          severity: 'critical',
          category: 'security',
          subCategory: 'fire',
        },
        {
          id: 'camera-offline',
          type: 'noData',
          selector: { sensorIds: ['cam-dongba'] },
          offline: true,
          for: '2m',
          severity: 'low',
          category: 'security',
          subCategory: 'deviceOffline',
        },
      ]),
    );
    const io = capture();
    expect(
      await runCli(
        [
          'rules',
          'backtest',
          file,
          '--from',
          new Date(T0).toISOString(),
          '--to',
          new Date(T0 + 4 * HOUR).toISOString(),
          '--data-dir',
          dataDir,
          '--lang',
          'en',
        ],
        io,
      ),
    ).toBe(0);
    expect(io.stdout.join('\n')).toContain('Replayed 0 readings, 2 status changes and 1 camera events');
    const events = io.stdout
      .filter((l) => /^\d{4}-\d\d-\d\d /.test(l))
      .map((l) => l.split(/\s+/).slice(1, 5).join(' '));
    expect(events).toEqual([
      '08:00:00 firing critical smoke-fire',
      '08:10:00 resolved critical smoke-fire',
      '09:00:00 pending low camera-offline',
      '09:02:00 firing low camera-offline',
      '10:00:00 resolved low camera-offline',
    ]);
    expect(io.stdout.join('\n')).toContain('Device Camera chợ Đông Ba reported offline');
  });

  it('refuses bad times and a missing store with a clear message', async () => {
    const io = capture();
    expect(
      await runCli(
        [
          'rules',
          'backtest',
          'config/cities/hue/rules/flood-levels.yaml',
          '--from',
          'yesterday',
          '--to',
          '2026-10-02T00:00:00Z',
        ],
        io,
      ),
    ).toBe(1);
    expect(io.stderr[0]).toContain('--from needs an ISO-8601 time');
    const io2 = capture();
    expect(
      await runCli(
        [
          'rules',
          'backtest',
          'config/cities/hue/rules/flood-levels.yaml',
          '--from',
          '2026-10-01T00:00:00Z',
          '--to',
          '2026-10-02T00:00:00Z',
          '--data-dir',
          join(dir, 'empty'),
        ],
        io2,
      ),
    ).toBe(1);
    expect(io2.stderr[0]).toContain('no embedded store in');
  });
});
