import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from './audit-entry.ts';
import { createManualClock } from '../core/clock.ts';
import { captureLogs } from '../test-support/log-capture.ts';
import { startTestPlatform, type TestPlatform } from '../test-support/platform-harness.ts';

/**
 * Attacker review item 4, through real HTTP: auth failures over `audit.authFailuresPerMinute` per address
 * are held back from the audit log, but never silently: each window that held some back leaves one
 * `audit.suppressed` entry saying how many, of what, between when and when.
 */
describe('suppressed audit entries leave a summary', () => {
  let p: TestPlatform;
  const clock = createManualClock(Date.now());
  const logs = captureLogs('warn');
  beforeAll(async () => {
    p = await startTestPlatform({ clock, logger: logs.logger, overrides: { audit: { authFailuresPerMinute: 3 } } });
  });
  afterAll(async () => {
    await p?.stop();
  });

  const entries = async (action: string): Promise<AuditEntry[]> =>
    (
      (await p.request('GET', `/api/audit?limit=1000&action=${action}`, { token: p.adminToken })).json as {
        entries: AuditEntry[];
      }
    ).entries;
  const badToken = async () =>
    (await fetch(`${p.httpUrl}/api/sensors`, { headers: { authorization: 'Bearer not-a-token' } })).status;

  it('logs 3 failures a minute, then one entry counting the 7 held back, with their first and last time', async () => {
    const t0 = clock.now();
    for (let i = 0; i < 10; i++) {
      expect(await badToken()).toBe(401);
      clock.advance(1000);
    }
    expect((await entries('auth.failure')).filter((e) => e.target === 'GET /api/sensors')).toHaveLength(3);
    expect(await entries('audit.suppressed')).toHaveLength(0);
    // the window ends on the clock: the summary is written without waiting for another failure
    clock.advance(60_000);
    await expect.poll(async () => (await entries('audit.suppressed')).length).toBe(1);
    const [summary] = await entries('audit.suppressed');
    expect(summary).toMatchObject({
      address: '127.0.0.1',
      target: 'auth.failure',
      outcome: 'failure',
      details: { suppressed: 7, action: 'auth.failure' },
    });
    expect(summary!.details!.from).toBe(new Date(t0 + 3000).toISOString());
    expect(summary!.details!.to).toBe(new Date(t0 + 9000).toISOString());
    expect(String(summary!.details!.summary)).toMatch(/^7 similar auth.failure entries suppressed between /);
    // the log said it 3 times (not 10), and the chain still verifies with the summary in it
    expect(logs.lines.filter((l) => l.msg === 'HTTP request refused: credentials')).toHaveLength(3);
    expect((await p.request('GET', '/api/audit/verify', { token: p.adminToken })).json).toMatchObject({ ok: true });
    // a quiet window writes nothing more
    clock.advance(120_000);
    expect(await entries('audit.suppressed')).toHaveLength(1);
  });
});
