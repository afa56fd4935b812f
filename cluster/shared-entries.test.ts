import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EntryChanges } from '../core/entry-diff.ts';
import { startRedis, type RedisServer } from '../test-support/redis-server.ts';
import { waitFor } from './cluster-test-kit.ts';
import { type ClusterSync, createClusterSync, type SharedHandle } from './shared-entries.ts';

/**
 * The mechanism under the cluster's shared accounts, registry and rules (shared-entries.ts) on a real Redis,
 * with documents kept in memory: seeding, following, a lost notice, concurrent changes.
 */
interface Node {
  readonly sync: ClusterSync;
  readonly entries: Map<string, string>;
  readonly handle: SharedHandle;
  /** a change made on this node: applied here, then published */
  change(key: string, value: string | null): void;
}

let redis: RedisServer;
let prefix = 0;
const running: ClusterSync[] = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterEach(async () => {
  while (running.length) await running.pop()!.stop();
});
afterAll(async () => {
  await redis?.dispose();
});

function makeNode(nodeId: string, keyPrefix: string, initial: Record<string, string>): Node {
  const entries = new Map(Object.entries(initial));
  const sync = createClusterSync({ redisUrl: redis.url, keyPrefix, nodeId, logger: pino({ level: 'silent' }) });
  running.push(sync);
  const handle = sync.share({
    name: 'doc',
    local: () => new Map(entries),
    apply: (changes: EntryChanges) => {
      for (const [key, value] of changes) {
        if (value === null) entries.delete(key);
        else entries.set(key, value);
      }
    },
  });
  return {
    sync,
    entries,
    handle,
    change(key, value) {
      if (value === null) entries.delete(key);
      else entries.set(key, value);
      handle.publish(new Map([[key, value]]));
    },
  };
}

const asObject = (m: ReadonlyMap<string, string>) => Object.fromEntries([...m].sort(([a], [b]) => a.localeCompare(b)));

describe('entries shared through Redis', () => {
  it('the first node seeds the cluster copy; a later node takes it whole, its own entries replaced', async () => {
    const p = `t${++prefix}:`;
    const a = makeNode('a', p, { 'device:x': '1', 'device:y': '2' });
    await a.sync.start();
    const b = makeNode('b', p, { 'device:x': 'stale', 'device:z': 'only-here' });
    await b.sync.start();
    expect(asObject(b.entries)).toEqual({ 'device:x': '1', 'device:y': '2' });
    expect(asObject(a.entries)).toEqual({ 'device:x': '1', 'device:y': '2' });
  });

  it("follows another node's changes, removals included, and never sends them back", async () => {
    const p = `t${++prefix}:`;
    const a = makeNode('a', p, { k: '1' });
    await a.sync.start();
    const b = makeNode('b', p, {});
    await b.sync.start();
    a.change('k', '2');
    a.change('n', 'new');
    await waitFor('b has both changes', () => (b.entries.get('k') === '2' && b.entries.has('n') ? true : undefined));
    a.change('n', null);
    await waitFor('b dropped n', () => (b.entries.has('n') ? undefined : true));
    const probe = new Redis(redis.url);
    try {
      // three changes, three versions: b's applying them published nothing of its own
      expect(await probe.get(`${p}shared:doc:version`)).toBe('3');
      expect(await probe.hgetall(`${p}shared:doc`)).toEqual({ k: '2' });
    } finally {
      probe.disconnect();
    }
  });

  it('a notice lost in between (a gap in the versions) makes the node take the whole copy again', async () => {
    const p = `t${++prefix}:`;
    const a = makeNode('a', p, { k: '1' });
    await a.sync.start();
    const b = makeNode('b', p, {});
    await b.sync.start();
    const probe = new Redis(redis.url);
    try {
      // a change whose notice b never hears: written and counted, not published
      await probe.hset(`${p}shared:doc`, 'lost', 'x');
      await probe.incr(`${p}shared:doc:version`);
    } finally {
      probe.disconnect();
    }
    a.change('k', '2');
    await waitFor('b has the lost change too', () => (b.entries.get('lost') === 'x' ? true : undefined));
    expect(asObject(b.entries)).toEqual({ k: '2', lost: 'x' });
  });

  it('two nodes changing the same entries at once end with the same copy as Redis', async () => {
    const p = `t${++prefix}:`;
    const a = makeNode('a', p, {});
    await a.sync.start();
    const b = makeNode('b', p, {});
    await b.sync.start();
    for (let i = 0; i < 50; i++) {
      a.change(`k${i % 5}`, `a${i}`);
      b.change(`k${i % 5}`, `b${i}`);
    }
    await Promise.all([a.handle.flushed(), b.handle.flushed()]);
    const probe = new Redis(redis.url);
    try {
      const truth = JSON.stringify(asObject(new Map(Object.entries(await probe.hgetall(`${p}shared:doc`)))));
      expect(Object.keys(JSON.parse(truth) as object)).toEqual(['k0', 'k1', 'k2', 'k3', 'k4']);
      await waitFor('both nodes hold what Redis holds', () =>
        JSON.stringify(asObject(a.entries)) === truth && JSON.stringify(asObject(b.entries)) === truth
          ? true
          : undefined,
      );
    } finally {
      probe.disconnect();
    }
  });

  it('a swap sets an entry only if Redis still holds the expected value: of two at once, one wins', async () => {
    const p = `t${++prefix}:`;
    const a = makeNode('a', p, { code: 'unused' });
    await a.sync.start();
    const b = makeNode('b', p, {});
    await b.sync.start();
    for (let round = 0; round < 20; round++) {
      const before = (await a.handle.read('code'))!;
      const won = await Promise.all([
        a.handle.swap('code', before, `a${round}`),
        b.handle.swap('code', before, `b${round}`),
      ]);
      expect(won.filter(Boolean)).toHaveLength(1);
      const winner = won[0] ? `a${round}` : `b${round}`;
      expect(await b.handle.read('code')).toBe(winner);
      // every node applies it from the notice, the winner too
      await waitFor('both nodes holding the winner', () =>
        a.entries.get('code') === winner && b.entries.get('code') === winner ? true : undefined,
      );
    }
    // a swap from a stale value changes nothing
    expect(await a.handle.swap('code', 'unused', 'again')).toBe(false);
    expect(await b.handle.read('code')).toBe(a.entries.get('code'));
    expect(await a.handle.read('absent')).toBeUndefined();
  });
});
