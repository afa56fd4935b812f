import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../core/clock.ts';
import { addressKey, createLoginLimiter, type LoginLimits } from './login-limiter.ts';

const LIMITS: LoginLimits = {
  maxFailuresPerAccount: 3,
  maxFailuresPerAddress: 5,
  maxFailuresPerAccountAllAddresses: 8,
  windowMs: 60_000,
  knownAddressMs: 86_400_000,
};

describe('login limiter', () => {
  it('limits a pair (account, address) and an address across accounts, until the window passes', () => {
    const clock = createManualClock();
    const limiter = createLoginLimiter(LIMITS, clock);
    for (let i = 0; i < 3; i++) expect(limiter.attempt('an', '10.0.0.1').waitMs).toBe(0);
    expect(limiter.attempt('an', '10.0.0.1')).toEqual({ waitMs: 60_000, limit: 'account_address', first: true });
    expect(limiter.attempt('an', '10.0.0.1')).toMatchObject({ first: false });
    // the same account from another address, and another account from this one, still try
    expect(limiter.attempt('an', '10.0.0.9').waitMs).toBe(0);
    expect(limiter.attempt('binh', '10.0.0.1').waitMs).toBe(0);
    expect(limiter.attempt('chi', '10.0.0.1').waitMs).toBe(0);
    expect(limiter.attempt('dung', '10.0.0.1')).toMatchObject({ limit: 'address' }); // 5 from this address
    clock.advance(60_000);
    expect(limiter.attempt('an', '10.0.0.1').waitMs).toBe(0);
  });

  it('a flood from many addresses refuses new addresses, never one the account signed in from', () => {
    const clock = createManualClock();
    const limiter = createLoginLimiter(LIMITS, clock);
    limiter.attempt('an', '10.0.0.1');
    limiter.succeeded('an', '10.0.0.1');
    for (let i = 0; i < 8; i++) expect(limiter.attempt('an', `192.0.2.${i}`).waitMs).toBe(0);
    expect(limiter.attempt('an', '192.0.2.100')).toMatchObject({ limit: 'account', first: true });
    // the owner signs in again and again from the known address while the flood goes on
    for (let i = 0; i < 5; i++) {
      expect(limiter.attempt('an', '10.0.0.1').waitMs).toBe(0);
      limiter.succeeded('an', '10.0.0.1');
    }
  });

  it("a success clears its pair and gives back its attempt, not the address's other guesses", () => {
    const clock = createManualClock();
    const limiter = createLoginLimiter(LIMITS, clock);
    limiter.attempt('an', '10.0.0.1');
    limiter.attempt('an', '10.0.0.1');
    limiter.attempt('an', '10.0.0.1');
    limiter.succeeded('an', '10.0.0.1');
    expect(limiter.attempt('an', '10.0.0.1').waitMs).toBe(0);
    limiter.attempt('binh', '10.0.0.1');
    limiter.attempt('binh', '10.0.0.1');
    expect(limiter.attempt('chi', '10.0.0.1')).toMatchObject({ limit: 'address' });
  });

  it('stays bounded and never confuses keys (property, fixed seed)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string(), fc.string()), { maxLength: 300 }), (pairs) => {
        const clock = createManualClock();
        const limiter = createLoginLimiter({ ...LIMITS, maxKeys: 16 }, clock);
        for (const [a, ip] of pairs) limiter.attempt(a, ip);
        // a name or address from outside never reaches an object's prototype, and a fresh pair is free
        expect(limiter.attempt('constructor', '__proto__').waitMs).toBe(0);
      }),
      { seed: 12, numRuns: 100 },
    );
  });

  it('guesses at other names from the office address cannot lock out a person who signed in from it', () => {
    const clock = createManualClock();
    const limiter = createLoginLimiter(LIMITS, clock);
    expect(limiter.attempt('an', '10.0.0.1').waitMs).toBe(0);
    limiter.succeeded('an', '10.0.0.1');
    for (let i = 0; i < 50; i++) limiter.attempt(`nobody${i}`, '10.0.0.1');
    expect(limiter.attempt('binh', '10.0.0.1')).toMatchObject({ limit: 'address' }); // strangers: limited
    expect(limiter.attempt('an', '10.0.0.1').waitMs).toBe(0); // the known pair: only its own count
  });

  it('a flood of fresh names and addresses does not evict the count of the account it is after', () => {
    const clock = createManualClock();
    const limiter = createLoginLimiter({ ...LIMITS, maxKeys: 50 }, clock);
    for (let i = 0; i < 8; i++) limiter.attempt('admin', `10.1.0.${i}`);
    expect(limiter.attempt('admin', '10.2.0.1')).toMatchObject({ limit: 'account' });
    for (let i = 0; i < 500; i++) limiter.attempt(`fresh${i}`, `10.3.${i >> 8}.${i & 255}`);
    expect(limiter.attempt('admin', '10.2.0.2')).toMatchObject({ limit: 'account' });
  });

  it('counts IPv6 by /64 and IPv4-mapped addresses as IPv4', () => {
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe(addressKey('2001:0db8:0001:0002:ffff:1:2:3'));
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(addressKey('10.0.0.1')).toBe('10.0.0.1');
    const clock = createManualClock();
    const limiter = createLoginLimiter(LIMITS, clock);
    for (let i = 0; i < 5; i++) limiter.attempt(`n${i}`, `2001:db8:1:2::${i + 1}`);
    expect(limiter.attempt('n9', '2001:db8:1:2::ffff')).toMatchObject({ limit: 'address' });
  });
});
