import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HUE_DIR } from '../alerts/workflow/workflow-test-kit.ts';
import { captureLogs } from '../test-support/log-capture.ts';
import { publishAcked, startTestPlatform, type TestPlatform } from '../test-support/platform-harness.ts';

/**
 * The workflow's rule type is `ruleType` (docs/names.md); `ruleKind`, its name before the rename, still works
 * everywhere it was used: a city's operations.yaml (one warning at start), a silence's match and the KPI
 * grouping over HTTP (answered with `Deprecation` and `Warning` headers, like the rules API's `kind`).
 * The platform runs on a copy of Huế's folder whose operations.yaml still says `ruleKind`.
 */
describe("the workflow's ruleType, and ruleKind as its deprecated name", { timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-rule-type-'));
  const logs = captureLogs('warn');
  let platform: TestPlatform;

  beforeAll(async () => {
    const cityDir = join(dir, 'hue');
    cpSync(HUE_DIR, cityDir, { recursive: true });
    const file = join(cityDir, 'operations.yaml');
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('match: { ruleType: [device-health] }');
    writeFileSync(file, text.replaceAll('ruleType:', 'ruleKind:'));
    platform = await startTestPlatform({ overrides: { city: join(cityDir, 'city.yaml') }, logger: logs.logger });
    // a flood alert at level I in Kim Long (a threshold rule) for the KPI grouping
    const device = await platform.connectDevice('water-kimlong');
    await publishAcked(device, 'ioc/water/water-kimlong/readings', JSON.stringify({ waterLevel: 1.2 }));
    await platform.alerts.idle();
  });
  afterAll(async () => {
    await platform?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads an operations.yaml that says ruleKind, routes by it, warns once at start naming file and routes', () => {
    const warnings = logs.lines.filter((l) => String(l.msg).includes('ruleKind is deprecated'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toMatch(/operations\.yaml: routing match ruleKind is deprecated: use ruleType/);
    expect(warnings[0]!.msg).toContain('"device-health", "camera-crowd"');
    const route = platform.operations.ops.routing.find((r) => r.id === 'device-health');
    expect(route?.match).toEqual({ ruleType: ['device-health'] });
  });

  it('takes a silence matching ruleType; match.ruleKind is taken as ruleType, with deprecation headers', async () => {
    const endsAt = Date.now() + 3_600_000;
    const now = await platform.request('POST', '/api/silences', {
      body: { match: { ruleType: ['noData'], district: ['Kim Long'] }, reason: 'thay nguồn', endsAt },
    });
    expect(now).toMatchObject({ status: 201, json: { match: { ruleType: ['noData'], district: ['Kim Long'] } } });
    expect(now.headers.get('deprecation')).toBeNull();
    expect(now.headers.get('warning')).toBeNull();

    const old = await platform.request('POST', '/api/silences', {
      body: { match: { ruleKind: ['noData'] }, reason: 'máy khách cũ', endsAt },
    });
    expect(old).toMatchObject({ status: 201, json: { match: { ruleType: ['noData'] } } });
    expect((old.json as { match: object }).match).not.toHaveProperty('ruleKind');
    expect(old.headers.get('deprecation')).toBe('true');
    const warning = old.headers.get('warning');
    expect(warning).toMatch(/^299 - "match\.ruleKind is deprecated for a silence: use match\.ruleType /);

    const count = async () =>
      ((await platform.request('GET', '/api/silences')).json as { silences: unknown[] }).silences.length;
    const before = await count();
    const both = await platform.request('POST', '/api/silences', {
      body: { match: { ruleKind: ['noData'], ruleType: ['threshold'] }, reason: 'x', endsAt },
    });
    expect(both).toMatchObject({ status: 400, json: { code: 'invalid_silence' } });
    expect((both.json as { message: string }).message).toBe(
      'match: ruleKind (deprecated) ["noData"] and ruleType ["threshold"] disagree: keep only ruleType',
    );
    expect(await count()).toBe(before);
  });

  it('takes a silence by sensor kind, and refuses a kind the city does not have by name', async () => {
    const endsAt = Date.now() + 3_600_000;
    const byKind = await platform.request('POST', '/api/silences', {
      body: { match: { sensorKind: ['air'] }, reason: 'hiệu chuẩn', endsAt },
    });
    expect(byKind).toMatchObject({ status: 201, json: { match: { sensorKind: ['air'] }, active: true } });
    const unknown = await platform.request('POST', '/api/silences', {
      body: { match: { sensorKind: ['submarine'] }, reason: 'x', endsAt },
    });
    expect(unknown).toMatchObject({ status: 400, json: { code: 'invalid_silence' } });
    const message = (unknown.json as { message: string }).message;
    expect(message).toMatch(/^match\.sensorKind: unknown sensor kind "submarine" \(the city's kinds: .*water/);
  });

  it('groups processing times by ruleType; groupBy=ruleKind answers the same, with deprecation headers', async () => {
    const path = (by: string) => `/api/kpi/handling?groupBy=${by}`;
    const now = await platform.request('GET', path('ruleType'));
    expect(now).toMatchObject({ status: 200, json: { groupBy: 'ruleType' } });
    const groupsNow = (now.json as { groups: Array<{ key: string; alerts: number }> }).groups;
    expect(groupsNow).toContainEqual(expect.objectContaining({ key: 'threshold', alerts: 1 }));
    expect(now.headers.get('deprecation')).toBeNull();

    const old = await platform.request('GET', path('ruleKind'));
    expect(old.status).toBe(200);
    const { groupBy, groups } = old.json as { groupBy: string; groups: unknown[] };
    expect({ groupBy, groups }).toEqual({ groupBy: 'ruleType', groups: (now.json as { groups: unknown[] }).groups });
    expect(old.headers.get('deprecation')).toBe('true');
    expect(old.headers.get('warning')).toMatch(/^299 - "groupBy=ruleKind is deprecated: use groupBy=ruleType/);
    expect((await platform.request('GET', path('sensorKind'))).status).toBe(400);
  });
});
