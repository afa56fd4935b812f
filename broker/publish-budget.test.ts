import { describe, expect, it } from 'vitest';
import { createManualClock } from '../core/clock.ts';
import { AbusePenalties } from './abuse-penalty.ts';
import { ConnectionLimits } from './connection-limits.ts';
import { PublishRateLimiter, type RateLimits } from './publish-rate-limiter.ts';

/** Pure logic of the device budget and the abuse back-off, in simulated time. */
const limits: RateLimits = {
  ratePerSecond: 10,
  burst: 5,
  bytesPerSecond: 1000,
  byteBurst: 2000,
  connectionBytesPerSecond: 500,
  maxHoldMs: 3000,
  abusiveAfter: 3,
};

describe('publish budget', () => {
  it('holds a publish over the rate for the time its token takes, instead of refusing it', () => {
    const clock = createManualClock();
    const r = new PublishRateLimiter(limits, clock);
    const conn = {};
    for (let i = 0; i < 5; i++) expect(r.take('a', conn, 10)).toEqual({ outcome: 'ok' });
    expect(r.take('a', conn, 10)).toEqual({ outcome: 'held', ms: 100 });
    expect(r.take('a', conn, 10)).toEqual({ outcome: 'held', ms: 200 });
    clock.advance(200);
    expect(r.take('a', conn, 10)).toEqual({ outcome: 'held', ms: 100 });
  });

  it('charges bytes per account and per connection; the connection budget is its own', () => {
    const clock = createManualClock();
    const r = new PublishRateLimiter(limits, clock);
    const one = {};
    const two = {};
    expect(r.take('a', one, 1500)).toEqual({ outcome: 'ok' });
    // the account has 500 bytes left, the new connection its whole burst: the account decides
    expect(r.take('a', two, 1000)).toEqual({ outcome: 'held', ms: 500 });
    // connection one would wait 1000 ms (500 short at 500/s), the account 1500 ms (1500 short at 1000/s)
    expect(r.take('a', one, 1000)).toEqual({ outcome: 'held', ms: 1500 });
  });

  it('refuses what would wait longer than the hold, and calls the device abusive after enough in a row', () => {
    const clock = createManualClock();
    const r = new PublishRateLimiter(limits, clock);
    const conn = {};
    expect(r.take('a', conn, 2000)).toEqual({ outcome: 'ok' });
    expect(r.take('a', conn, 1500)).toEqual({ outcome: 'held', ms: 3000 });
    expect(r.take('a', conn, 100)).toEqual({ outcome: 'refused' });
    expect(r.take('a', conn, 100)).toEqual({ outcome: 'refused' });
    expect(r.take('a', conn, 100)).toEqual({ outcome: 'abusive' });
    // another account is untouched
    expect(r.take('b', {}, 100)).toEqual({ outcome: 'ok' });
  });
});

describe('abuse penalties', () => {
  it('doubles the penalty at each new abuse up to the maximum, and forgets after a quiet maximum', () => {
    const clock = createManualClock();
    const p = new AbusePenalties({ baseMs: 10_000, maxMs: 40_000 }, clock);
    expect(p.active('k')).toBeUndefined();
    expect(p.punish('k').ms).toBe(10_000);
    expect(p.active('k')).toBeDefined();
    clock.advance(10_000);
    expect(p.active('k')).toBeUndefined();
    expect(p.punish('k').ms).toBe(20_000);
    expect(p.punish('k').ms).toBe(40_000);
    expect(p.punish('k').ms).toBe(40_000);
    clock.advance(40_000 + 40_001);
    expect(p.punish('k').ms).toBe(10_000);
  });

  it('takes a penalty another node started, keeps a longer one of its own, and doubles from it at a new abuse', () => {
    const clock = createManualClock();
    const p = new AbusePenalties({ baseMs: 10_000, maxMs: 40_000 }, clock);
    p.adopt('k', 7_000, 10_000);
    expect(p.active('k')?.until).toBe(clock.now() + 7_000);
    clock.advance(7_000);
    expect(p.active('k')).toBeUndefined();
    // abused again here: the other node's penalty counts as the last one
    expect(p.punish('k').ms).toBe(20_000);
    p.adopt('k', 5_000, 10_000);
    expect(p.active('k')?.until).toBe(clock.now() + 20_000);
  });
});

describe('device budget usage shared between nodes', () => {
  it('reports accounts over a floor, starts counting again, and charges another node’s usage as debt', () => {
    const clock = createManualClock();
    const here = new PublishRateLimiter(limits, clock);
    expect(here.takeUsage(1, 1)).toEqual([]);
    here.shareUsage();
    const conn = {};
    for (let i = 0; i < 3; i++) here.take('busy', conn, 10);
    here.take('quiet', {}, 10);
    expect(here.takeUsage(2, 1000)).toEqual([{ account: 'busy', publishes: 3, bytes: 30 }]);
    expect(here.takeUsage(1, 1)).toEqual([]);
    // another node used the whole burst (5) of 'busy': the next publish here waits for the rate (10/s)
    const there = new PublishRateLimiter(limits, clock);
    there.chargeRemote('busy', 5, 50);
    expect(there.take('busy', {}, 10)).toEqual({ outcome: 'held', ms: 100 });
  });
});

describe('connection limits with what other nodes report', () => {
  const remote = (sockets: number, connections: number) => ({ sockets: () => sockets, connections: () => connections });

  it('adds the other nodes’ sockets and connections to this node’s own before admitting one more', () => {
    const limits = new ConnectionLimits({ connectionsPerAccount: 3, connectionsPerAddress: 4 }, remote(3, 2));
    expect(limits.openSocket('10.0.0.1')).toBe(true);
    expect(limits.openSocket('10.0.0.1')).toBe(false);
    expect(limits.admit('account:a', {}, 'a-1')).toBe(true);
    expect(limits.admit('account:a', {}, 'a-2')).toBe(false);
  });

  it('reports addresses and accounts at or above the floors, connections counted per client id', () => {
    const limits = new ConnectionLimits({ connectionsPerAccount: 8, connectionsPerAddress: 100 });
    for (let i = 0; i < 3; i++) limits.openSocket('10.0.0.1');
    limits.openSocket('10.0.0.2');
    limits.admit('account:a', {}, 'a-1');
    limits.admit('account:a', {}, 'a-1');
    limits.admit('account:a', {}, 'a-2');
    limits.admit('device:d', {}, 'd');
    expect(limits.report(2, 2)).toEqual({
      addresses: [['10.0.0.1', 3]],
      accounts: [['account:a', { 'a-1': 2, 'a-2': 1 }]],
    });
  });
});
