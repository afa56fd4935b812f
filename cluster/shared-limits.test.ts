import { describe, expect, it } from 'vitest';
import { captureLogs } from '../test-support/log-capture.ts';
import type { TestPlatform } from '../test-support/platform-harness.ts';
import type { RedisServer } from '../test-support/redis-server.ts';
import { twoClusterNodes, waitFor } from './cluster-test-kit.ts';

/**
 * Issue 17 item 3: behind HAProxy's round robin a guesser's attempts land on every node in turn. With the counts
 * kept by each node, N nodes gave N times the guesses; in Redis, guesses spread over two nodes are limited as on
 * one. Two nodes in one process on a real Redis and InfluxDB, real HTTP sockets; and with Redis stopped
 * (SIGSTOP: nothing answers) each node's own limit still holds, logged once.
 */
describe('sign-in and provisioning limits are the cluster’s, not each node’s', () => {
  let redis: RedisServer;
  let a: TestPlatform;
  let b: TestPlatform;
  const logs = captureLogs();
  const limits = { maxFailuresPerAccount: 4, maxFailuresPerAddress: 10 };
  twoClusterNodes(
    'sharedlimits',
    (na, nb, r) => {
      a = na;
      b = nb;
      redis = r;
    },
    { loggerOfA: logs.logger, overrides: { accounts: limits }, partitions: 4 },
  );

  const signIn = (node: TestPlatform, username: string, password: string) =>
    node.request('POST', '/api/session', { token: null, body: { username, password } });
  const account = async (name: string) => {
    const password = `mật-khẩu-${name}-đủ-dài`;
    const made = await a.request('POST', '/api/accounts', {
      token: a.adminToken,
      body: { name, role: 'viewer', password },
    });
    expect(made.status, made.text).toBe(201);
    await waitFor(`${name} on node B`, () =>
      b.accounts.file.accounts.some((x) => x.name === name) ? true : undefined,
    );
    return password;
  };

  it('limits wrong passwords spread over both nodes as on one: the fifth gets 429 on either node', async () => {
    const password = await account('giam-sat-1');
    // four wrong guesses, alternating nodes: two per node, under each node's own limit of four
    const guesses = [];
    for (const node of [a, b, a, b]) guesses.push((await signIn(node, 'giam-sat-1', 'đoán-sai')).status);
    expect(guesses).toEqual([401, 401, 401, 401]);
    const fifth = await signIn(a, 'giam-sat-1', 'đoán-sai');
    expect(fifth.status, fifth.text).toBe(429);
    expect(Number(fifth.headers.get('retry-after'))).toBeGreaterThan(0);
    // the right password too, from this address, on the other node: the limit is the pair's, wherever it lands
    const right = await signIn(b, 'giam-sat-1', password);
    expect(right.status, right.text).toBe(429);
    expect(right.json).toMatchObject({ code: 'too_many_attempts' });
  });

  it('limits failed provisioning claims spread over both nodes as on one', async () => {
    // the address has failures from the sign-ins above only in the sign-in counts: claims count on their own
    const statuses = [];
    for (let i = 0; i < limits.maxFailuresPerAddress; i++) {
      const node = i % 2 === 0 ? a : b;
      const res = await node.request('POST', '/api/provision', { token: null, body: { code: `SAI-${i}-ABCD-EFGH` } });
      statuses.push(res.status);
    }
    expect(statuses.filter((s) => s === 403)).toHaveLength(limits.maxFailuresPerAddress);
    const next = await b.request('POST', '/api/provision', { token: null, body: { code: 'SAI-X-ABCD-EFGH' } });
    expect(next.status, next.text).toBe(429);
  });

  it("with Redis not answering, each node's own limit still holds (fail closed), said once", async () => {
    const password = await account('giam-sat-2');
    const pid = redis.pid()!;
    process.kill(pid, 'SIGSTOP');
    const statuses: number[] = [];
    try {
      for (let i = 0; i < limits.maxFailuresPerAccount + 1; i++)
        statuses.push((await signIn(a, 'giam-sat-2', 'đoán-sai')).status);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    expect(statuses).toEqual([401, 401, 401, 401, 429]);
    const said = logs.lines.filter((l) => String(l.msg).includes("this node's own limits decide"));
    expect(said).toHaveLength(1);
    expect(JSON.stringify(said)).not.toContain('redis://');
    // Redis back: its count holds what reached it, and the owner of the account is still refused from here
    expect((await signIn(a, 'giam-sat-2', password)).status).toBe(429);
  }, 60_000);
});
