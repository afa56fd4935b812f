import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditDirOf } from '../audit/audit-files.ts';
import { queryAudit } from '../audit/audit-query.ts';
import { startTestPlatform, type TestPlatform } from '../test-support/platform-harness.ts';

/** The silences and agencies API over real HTTP: access, validation naming the field, audit, OpenAPI. */
// each test opens a real store (and restarts it): generous on a shared, loaded machine
describe('silences and agencies API', { timeout: 180_000 }, () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await startTestPlatform();
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it('lets viewers read, operators add and end silences; refuses bad input by name and changes nothing', async () => {
    const viewer = { token: platform.credentials!.viewer!.token };
    expect((await platform.request('GET', '/api/silences', viewer)).status).toBe(200);
    const body = { match: { sensorId: ['water-kimlong'] }, reason: 'thay pin', endsAt: Date.now() + 3_600_000 };
    expect((await platform.request('POST', '/api/silences', { ...viewer, body })).status).toBe(403);
    const badCron = await platform.request('POST', '/api/silences', {
      body: { match: { district: ['Kim Long'] }, reason: 'x', cron: '0 25 * * *', durationMinutes: 30 },
    });
    expect(badCron).toMatchObject({ status: 400, json: { code: 'invalid_silence' } });
    expect((badCron.json as { message: string }).message).toMatch(/^cron: invalid cron expression/);
    const noEnd = await platform.request('POST', '/api/silences', {
      body: { match: { sensorId: ['x'] }, reason: 'x' },
    });
    expect(noEnd).toMatchObject({
      status: 400,
      json: { message: 'endsAt: an ad hoc silence needs endsAt (or give cron and durationMinutes)' },
    });
    expect((await platform.request('POST', '/api/silences', { body: 'not json' })).status).toBe(400);
    // a mistyped year must not hide a district's alerts for a lifetime: ad hoc silences last at most 366 days
    for (const extra of [{}, { startsAt: Date.now() }]) {
      const forEver = await platform.request('POST', '/api/silences', {
        body: { match: { district: ['Kim Long'] }, reason: 'x', endsAt: Date.now() + 400 * 86_400_000, ...extra },
      });
      expect(forEver).toMatchObject({
        status: 400,
        json: { message: 'endsAt: an ad hoc silence lasts at most 366 days (endsAt - startsAt)' },
      });
    }
    expect(((await platform.request('GET', '/api/silences')).json as { silences: unknown[] }).silences).toEqual([]);

    const created = await platform.request('POST', '/api/silences', { body });
    expect(created).toMatchObject({ status: 201, json: { reason: 'thay pin', createdBy: 'operator', active: true } });
    const id = (created.json as { id: string }).id;
    expect(
      (
        (await platform.request('GET', '/api/silences?active=true')).json as { silences: Array<{ id: string }> }
      ).silences.map((s) => s.id),
    ).toEqual([id]);
    expect((await platform.request('DELETE', `/api/silences/${id}`)).json).toMatchObject({
      active: false,
      endedBy: 'operator',
    });
    expect((await platform.request('DELETE', `/api/silences/${id}`)).status).toBe(409);
    expect((await platform.request('DELETE', '/api/silences/no-such')).status).toBe(404);
    const audit = queryAudit(auditDirOf(platform.dataDir), { action: ['silence.create', 'silence.end'] }, 10).entries;
    expect(audit.map((e) => [e.action, e.target])).toEqual([
      ['silence.end', id],
      ['silence.create', id],
    ]);
  });

  it('lists agencies with who I am among them, never a webhook address or secret', async () => {
    const res = await platform.request('GET', '/api/agencies');
    expect(res.json).toMatchObject({ dutyDesk: 'ioc-duty', me: { name: 'operator', iocDuty: true, agencies: [] } });
    const agencies = (res.json as { agencies: Array<{ id: string; district?: string }> }).agencies;
    expect(agencies.find((a) => a.id === 'ubnd-kim-long')).toMatchObject({ district: 'Kim Long' });
    expect(res.text).not.toMatch(/secret|https?:\/\//);
    const viewer = await platform.request('GET', '/api/agencies', { token: platform.credentials!.viewer!.token });
    expect(viewer.json).toMatchObject({ me: { name: 'viewer', iocDuty: false } });
  });

  it('documents the workflow routes in the OpenAPI document', async () => {
    const doc = (await platform.request('GET', '/api/openapi.json')).json as { paths: Record<string, unknown> };
    for (const path of [
      '/api/agencies',
      '/api/silences',
      '/api/silences/{id}',
      '/api/alerts/{id}/start',
      '/api/alerts/{id}/assign',
      '/api/alerts/{id}/steps/{stepId}',
      '/api/alerts/{id}/sop',
    ]) {
      expect(doc.paths, path).toHaveProperty([path]);
    }
  });
});
