import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../core/clock.ts';
import { createLoginLimiter } from './login-limiter.ts';

describe('login limiter', () => {
  it('blocks an account after its failures and an address after its own, until the window passes', () => {
    const clock = createManualClock();
    const limiter = createLoginLimiter({ maxFailuresPerAccount: 3, maxFailuresPerAddress: 5, windowMs: 60_000 }, clock);
    for (let i = 0; i < 3; i++) limiter.failed('an', '10.0.0.1');
    expect(limiter.blockedFor('an', '10.0.0.9')).toBe(60_000);
    expect(limiter.blockedFor('binh', '10.0.0.1')).toBe(0);
    limiter.failed('binh', '10.0.0.1');
    limiter.failed('chi', '10.0.0.1');
    expect(limiter.blockedFor('dung', '10.0.0.1')).toBeGreaterThan(0); // 5 from this address, across accounts
    clock.advance(30_000);
    expect(limiter.blockedFor('an', '10.0.0.9')).toBe(30_000);
    clock.advance(30_000);
    expect(limiter.blockedFor('an', '10.0.0.1')).toBe(0);
  });

  it('a success clears the account but not the address, and keys stay bounded', () => {
    const clock = createManualClock();
    const limiter = createLoginLimiter({ maxFailuresPerAccount: 2, maxFailuresPerAddress: 3, windowMs: 60_000, maxKeys: 10 }, clock);
    limiter.failed('an', '10.0.0.1');
    limiter.failed('an', '10.0.0.1');
    limiter.succeeded('an');
    expect(limiter.blockedFor('an', '10.0.0.2')).toBe(0);
    limiter.failed('binh', '10.0.0.1');
    expect(limiter.blockedFor('an', '10.0.0.1')).toBeGreaterThan(0);
    for (let i = 0; i < 1000; i++) limiter.failed(`u${i}`, `10.1.${i >> 8}.${i & 255}`);
    expect(limiter.blockedFor('constructor', '__proto__')).toBe(0);
  });
});
