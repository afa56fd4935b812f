import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLogs } from '../test-support/log-capture.ts';
import { startTestPlatform, type TestPlatform } from '../test-support/platform-harness.ts';

/** POST /api/session over a real socket from a chosen loopback address (127.0.0.0/8 is all local). */
function signInFrom(
  p: TestPlatform,
  from: string,
  username: string,
  password: string,
): Promise<{ status: number; retryAfter?: string; body: string }> {
  const url = new URL('/api/session', p.httpUrl);
  const body = JSON.stringify({ username, password });
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        localAddress: from,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => {
          text += c.toString('utf8');
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            retryAfter: res.headers['retry-after'] as string | undefined,
            body: text,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const counter = async (p: TestPlatform, reason: string): Promise<number> => {
  const text = (await p.request('GET', '/metrics')).text;
  return Number(new RegExp(`ioc_login_failures_total\\{reason="${reason}"\\} (\\d+)`).exec(text)?.[1] ?? NaN);
};

describe('nobody can lock a person out by guessing under their name (issue 12, attacker review item 1)', () => {
  let platform: TestPlatform;
  const logs = captureLogs();
  beforeAll(async () => {
    platform = await startTestPlatform({
      logger: logs.logger,
      overrides: { accounts: { maxFailuresPerAccount: 5, maxFailuresPerAccountAllAddresses: 12 } },
    });
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it('limits a flood from other addresses while the owner signs in from their usual one', async () => {
    const { username, password } = platform.credentials!.operator;
    // the owner's usual address: they signed in from it before
    expect((await signInFrom(platform, '127.0.0.1', username, password)).status).toBe(200);

    // one attacker address: 5 guesses checked, then 429 for this account from there, however many more
    const first = [];
    for (let i = 0; i < 15; i++) first.push((await signInFrom(platform, '127.0.0.2', username, `guess-a-${i}`)).status);
    expect(first.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(new Set(first.slice(5))).toEqual(new Set([429]));
    // the attacker's right guess from there waits too: the pair is limited, not only wrong passwords
    const pairLimited = await signInFrom(platform, '127.0.0.2', username, password);
    expect(pairLimited.status).toBe(429);
    expect(JSON.parse(pairLimited.body)).toMatchObject({
      code: 'too_many_attempts',
      message: expect.stringMatching(/from this address/),
    });
    expect(Number(pairLimited.retryAfter)).toBeGreaterThan(0);

    // spread over more addresses: past 12 failures for the account, new addresses are refused before any check
    for (const from of ['127.0.0.3', '127.0.0.4']) {
      for (let i = 0; i < 5; i++) await signInFrom(platform, from, username, `guess-b-${i}`);
    }
    const spread = await signInFrom(platform, '127.0.0.5', username, 'guess-c');
    expect(spread.status).toBe(429);
    expect(JSON.parse(spread.body).message).toMatch(/has not signed in from/);

    // the owner, at their usual address, still gets in, again and again, with the right password
    for (let i = 0; i < 3; i++) expect((await signInFrom(platform, '127.0.0.1', username, password)).status).toBe(200);
    // and a wrong password of theirs is still checked (401, not a lockout)
    expect((await signInFrom(platform, '127.0.0.1', username, 'typo')).status).toBe(401);
    expect((await signInFrom(platform, '127.0.0.1', username, password)).status).toBe(200);

    // the platform is unchanged: the account is enabled, its token works, nothing was reset
    expect((await platform.request('GET', '/api/session')).status).toBe(200);
    const accounts = (await platform.request('GET', '/api/accounts', { token: platform.adminToken })).json as {
      accounts: { name: string; disabled: boolean }[];
    };
    expect(accounts.accounts.find((a) => a.name === username)?.disabled).toBe(false);
  });

  it('logs each limited key once, never a password, and counts every refusal', async () => {
    const limited = logs.lines.filter((l) => l.msg === 'sign-in refused' && l.reason === 'rate_limited');
    // one line for the pair at 127.0.0.2 (many refusals), one for the account (reached at 127.0.0.4's third guess)
    expect(limited.map((l) => [l.from, l.limit])).toEqual([
      ['127.0.0.2', 'account_address'],
      ['127.0.0.4', 'account'],
    ]);
    expect(await counter(platform, 'rate_limited')).toBeGreaterThanOrEqual(12);
    expect(logs.text()).not.toMatch(/guess-|typo/);
    expect(logs.text()).not.toContain(platform.credentials!.operator.password);
  });
});
