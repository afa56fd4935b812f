import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { TestPlatform } from '../test-support/platform-harness.ts';
import { accountMadeOn, twoClusterNodes, waitFor } from './cluster-test-kit.ts';

/**
 * Review of the shared state (cluster/shared-state.ts, cluster/redis-web-sessions.ts), attacked over real HTTP
 * on two nodes and a real Redis:
 * - a console session revoked by disabling its account stays ended when the account is enabled again (on one
 *   node the prune forgets it for good; the Redis copy must go too, or any node loads it back);
 * - one entry in Redis that a node cannot take (malformed, another version's shape) must not make it refuse
 *   every other change of a resync, a revoked token among them.
 */
describe('revocations hold across the cluster', () => {
  let a: TestPlatform;
  let b: TestPlatform;
  let redis: Redis | undefined;
  twoClusterNodes('revocation', (na, nb) => {
    a = na;
    b = nb;
  });
  afterAll(async () => {
    await redis?.quit();
  });

  const accountOnA = (name: string) => accountMadeOn(a, b, name);

  const sessionStatus = async (node: TestPlatform, cookie: string) =>
    (await fetch(`${node.httpUrl}/api/session`, { headers: { cookie } })).status;

  it('a session ended by disabling its account does not come back when the account is enabled again', async () => {
    const { password, token } = await accountOnA('duty-thu');
    const res = await fetch(`${a.httpUrl}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'duty-thu', password }),
    });
    expect(res.status).toBe(200);
    const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
    expect(await sessionStatus(b, cookie)).toBe(200);
    const patch = (disabled: boolean) =>
      a.request('PATCH', '/api/accounts/duty-thu', { token: a.adminToken, body: { disabled } });
    expect((await patch(true)).status).toBe(200);
    // the cookie is not used meanwhile (a request with it would end it: api/auth.ts); its holder just waits
    await waitFor('node B refusing the disabled account', async () =>
      (await b.request('GET', '/api/session', { token })).status === 401 ? true : undefined,
    );
    expect((await patch(false)).status).toBe(200);
    await waitFor('node B accepting the token again', async () =>
      (await b.request('GET', '/api/session', { token })).status === 200 ? true : undefined,
    );
    expect(await sessionStatus(b, cookie)).toBe(401);
    expect(await sessionStatus(a, cookie)).toBe(401);
  });

  it('a resync with one entry a node cannot take still applies the revocation beside it', async () => {
    const { token, tokenId } = await accountOnA('duty-vy');
    const prefix = b.config.cluster.keyPrefix;
    redis = new Redis(b.config.cluster.redis!);
    const hash = `${prefix}shared:auth`;
    // what a node missed while its connection was down: a revoked token, beside an entry it cannot read
    await redis.hset(hash, 'account:zz-poison', '{"name":"zz-poison","shape":"of another version"}');
    await redis.hdel(hash, `token:${tokenId}`);
    // a notice far ahead: the nodes see a gap and take the whole hash (a resync)
    await redis.publish(`${hash}:changes`, '999999 {}');
    await waitFor('node B refusing the revoked token', async () =>
      (await b.request('GET', '/api/session', { token })).status === 401 ? true : undefined,
    );
    // the nodes still serve: the admin is known, the unreadable entry is not taken
    expect((await b.request('GET', '/api/session', { token: b.adminToken })).status).toBe(200);
    expect(b.accounts.account('zz-poison')).toBeUndefined();
  });
});
