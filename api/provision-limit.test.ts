import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../core/clock.ts';
import { captureLogs } from '../test-support/log-capture.ts';
import { startTestPlatform, type TestPlatform } from '../test-support/platform-harness.ts';

/**
 * The provisioning limiter through real HTTP, as a technician in the field and a guesser at the same door
 * would meet it: failures limit the address, successes never do.
 */
describe('provisioning claims are limited by failed attempts per address', () => {
  const WINDOW_MS = 15 * 60_000;
  const clock = createManualClock(Date.now());
  const logs = captureLogs('warn');
  let platform: TestPlatform;
  const admin = (method: string, path: string, body?: unknown) =>
    platform.request(method, path, { token: platform.adminToken, body });
  const claim = (code: string) => platform.request('POST', '/api/provision', { token: null, body: { code } });
  const issue = async (): Promise<string> => {
    const issued = await admin('POST', '/api/sensors/air-van/provisioning-codes', { expiresInMinutes: 120 });
    expect(issued.status).toBe(201);
    return (issued.json as { code: string }).code;
  };
  const wrong = (i: number) => `ZZZZ-ZZZZ-Z${'23456789'[i % 8]}${'23456789'[Math.floor(i / 8) % 8]}Z`;
  const metric = async (reason: string): Promise<number> => {
    const text = (await platform.request('GET', '/metrics', { token: platform.adminToken })).text;
    return Number(new RegExp(`ioc_provisioning_refusals_total\\{reason="${reason}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
  };
  const limitLines = () => logs.lines.filter((l) => String(l.msg).startsWith('provisioning codes refused: too many'));

  beforeAll(async () => {
    platform = await startTestPlatform({
      clock,
      logger: logs.logger,
      overrides: { accounts: { maxFailuresPerAddress: 3, failureWindowMinutes: WINDOW_MS / 60_000 } },
    });
    const created = await admin('POST', '/api/sensors', {
      id: 'air-van',
      kind: 'air',
      name: 'Trạm lắp từ xe',
      lat: 16.46,
      lon: 107.59,
      district: 'Phú Xuân',
    });
    expect(created.status).toBe(201);
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it('never limits successes: a technician claims many valid codes from one address', async () => {
    for (let i = 0; i < 8; i++) expect((await claim(await issue())).status).toBe(200);
    expect(await metric('rate_limited')).toBe(0);
  });

  it('refuses every claim from an address past its failures, valid code unspent, until the window ends', async () => {
    const code = await issue();
    for (let i = 0; i < 3; i++) expect((await claim(wrong(i))).status).toBe(403);
    const limited = await claim(wrong(3));
    expect(limited.status).toBe(429);
    expect(limited.json).toMatchObject({ code: 'too_many_attempts' });
    // the right code too: otherwise a guesser would learn which guess was right while "limited"
    const valid = await claim(code);
    expect(valid.status).toBe(429);
    for (let i = 4; i < 10; i++) expect((await claim(wrong(i))).status).toBe(429);
    expect(await metric('rate_limited')).toBe(8);
    expect(await metric('unknown')).toBe(3); // refused before the code was looked at: no more "unknown"
    expect(limitLines()).toHaveLength(1); // logged once per limited window, not per refusal
    expect(limitLines()[0]).toMatchObject({ range: '127.0.0.1' });
    expect(logs.text()).not.toContain(code);

    clock.advance(WINDOW_MS - 60_000);
    const still = await claim(code);
    expect(still.status).toBe(429);
    clock.advance(60_001);
    // the window is over; the code refused meanwhile was not spent
    expect((await claim(code)).status).toBe(200);
  });

  it('does not clear failures on a success: a guesser with one code of their own gains nothing', async () => {
    clock.advance(WINDOW_MS + 1);
    const before = limitLines().length;
    expect((await claim(wrong(20))).status).toBe(403);
    expect((await claim(wrong(21))).status).toBe(403);
    expect((await claim(await issue())).status).toBe(200);
    expect((await claim(wrong(22))).status).toBe(403);
    expect((await claim(await issue())).status).toBe(429);
    expect(limitLines()).toHaveLength(before + 1); // a new window, a new line
  });
});
