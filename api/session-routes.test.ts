import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLogs } from '../test-support/log-capture.ts';
import { startTestPlatform, type TestPlatform } from '../test-support/platform-harness.ts';

/** The session cookie of a Set-Cookie header, as a browser would send it back. */
function cookieOf(setCookie: string | null): string {
  const pair = setCookie?.split(';')[0];
  if (!pair?.startsWith('ioc_session=')) throw new Error(`no session cookie in ${setCookie}`);
  return pair;
}

async function signIn(p: TestPlatform, username: string, password: string) {
  const res = await fetch(`${p.httpUrl}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  return {
    status: res.status,
    setCookie: res.headers.get('set-cookie'),
    json: (await res.json()) as Record<string, unknown>,
    retryAfter: res.headers.get('retry-after'),
  };
}

const failures = async (p: TestPlatform, reason: string): Promise<number> => {
  const text = (await p.request('GET', '/metrics')).text;
  return Number(new RegExp(`ioc_login_failures_total\\{reason="${reason}"\\} (\\d+)`).exec(text)?.[1] ?? NaN);
};

describe('console sign-in with a session cookie', () => {
  let platform: TestPlatform;
  const logs = captureLogs();
  beforeAll(async () => {
    platform = await startTestPlatform({ logger: logs.logger });
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it('signs a viewer in with an httpOnly SameSite=Strict cookie, says who is signed in, and signs out', async () => {
    const viewer = platform.credentials!.viewer!;
    const ok = await signIn(platform, viewer.username, viewer.password);
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ name: 'viewer', role: 'viewer', via: 'session' });
    expect(ok.setCookie).toMatch(/HttpOnly/i);
    expect(ok.setCookie).toMatch(/SameSite=Strict/i);
    expect(ok.setCookie).toMatch(/Path=\//);
    expect(ok.setCookie).not.toMatch(/Secure/); // plain HTTP on loopback: a Secure cookie would never come back
    const cookie = cookieOf(ok.setCookie);

    const me = await platform.request('GET', '/api/session', { token: null, headers: { cookie } });
    expect(me).toMatchObject({ status: 200, json: { name: 'viewer', role: 'viewer', via: 'session' } });
    expect((await platform.request('GET', '/api/alerts', { token: null, headers: { cookie } })).status).toBe(200);
    // a viewer reads; acknowledging, resolving and rule changes are refused
    const ack = await platform.request('POST', '/api/alerts/x/ack', { token: null, headers: { cookie }, body: {} });
    expect(ack).toMatchObject({ status: 403, json: { code: 'role_required' } });
    expect((await platform.request('POST', '/api/rules', { token: null, headers: { cookie }, body: {} })).status).toBe(
      403,
    );

    expect((await platform.request('DELETE', '/api/session', { token: null, headers: { cookie } })).status).toBe(204);
    expect((await platform.request('GET', '/api/session', { token: null, headers: { cookie } })).status).toBe(401);
  });

  it('answers a token holder too: GET /api/session names the account behind the token', async () => {
    expect(await platform.request('GET', '/api/session')).toMatchObject({
      status: 200,
      json: { name: 'operator', role: 'operator', via: 'token' },
    });
    expect(await platform.request('GET', '/api/session', { token: platform.adminToken })).toMatchObject({
      json: { name: 'admin', role: 'admin' },
    });
  });

  it('refuses wrong passwords alike, logs and counts them, then limits the account', async () => {
    const before = await failures(platform, 'bad_password');
    const unknownBefore = await failures(platform, 'unknown_account');
    const wrong = await signIn(platform, 'operator', 'not-the-password');
    expect(wrong).toMatchObject({ status: 401, json: { code: 'bad_credentials' } });
    expect(wrong.setCookie).toBeNull();
    const unknown = await signIn(platform, 'constructor', 'whatever-it-is');
    expect(unknown).toMatchObject({ status: 401, json: { code: 'bad_credentials', message: wrong.json.message } });
    expect(await failures(platform, 'bad_password')).toBe(before + 1);
    expect(await failures(platform, 'unknown_account')).toBe(unknownBefore + 1);
    const refusals = logs.lines.filter((l) => l.msg === 'sign-in refused');
    expect(refusals.map((l) => [l.username, l.reason])).toEqual([
      ['operator', 'bad_password'],
      ['constructor', 'unknown_account'],
    ]);
    expect(refusals[0]!.from).toBe('127.0.0.1');
    expect(logs.text()).not.toContain('not-the-password');
    expect(logs.text()).not.toContain('whatever-it-is');

    // default limit: 5 failures per account in 15 minutes; then even the right password waits
    for (let i = 0; i < 4; i++) expect((await signIn(platform, 'operator', `guess-number-${i}`)).status).toBe(401);
    const limited = await signIn(platform, 'operator', platform.credentials!.operator.password);
    expect(limited).toMatchObject({ status: 429, json: { code: 'too_many_attempts' } });
    expect(Number(limited.retryAfter)).toBeGreaterThan(0);
    expect(await failures(platform, 'rate_limited')).toBeGreaterThanOrEqual(1);
    // another account from the same address is not locked out by the operator's count
    const admin = platform.credentials!.admin;
    expect((await signIn(platform, admin.username, admin.password)).status).toBe(200);
    // and the API token of the locked account still works: the limit is on guessing passwords
    expect((await platform.request('GET', '/api/sensors')).status).toBe(200);
  });

  it('counts attempts sent in parallel before checking passwords: 20 at once get 5 checks, 15 refusals', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => signIn(platform, 'viewer', `parallel-guess-${i}`)),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(15);
  });

  it('rejects malformed sign-in bodies with a clear 400 and no cookie', async () => {
    const res = await fetch(`${platform.httpUrl}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'x'.repeat(300) }),
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(((await res.json()) as { message: string }).message).toMatch(/password/);
  });
});
