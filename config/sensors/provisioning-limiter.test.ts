import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../core/clock.ts';
import { addressKey } from '../accounts/login-limiter.ts';
import { createProvisioningLimiter } from './provisioning-limiter.ts';

const WINDOW = 60_000;

describe('the provisioning limiter', () => {
  it('counts IPv6 senders by their /64: rotating addresses within it does not reset the count', () => {
    const clock = createManualClock(0);
    const limiter = createProvisioningLimiter({ maxFailures: 3, windowMs: WINDOW }, clock);
    limiter.failed('2001:db8:1:2::1');
    limiter.failed('2001:db8:1:2:ffff::9');
    limiter.failed('2001:0db8:0001:0002:aaaa:bbbb:cccc:dddd');
    expect(limiter.check('2001:db8:1:2::77').waitMs).toBe(WINDOW);
    expect(limiter.check('2001:db8:1:3::1').waitMs).toBe(0); // the next /64 is someone else
    expect(limiter.check('::ffff:10.0.0.1').waitMs).toBe(0);
  });

  it('keeps a limited address limited while a flood of fresh addresses fills the table', () => {
    const clock = createManualClock(0);
    const limiter = createProvisioningLimiter({ maxFailures: 2, windowMs: WINDOW, maxKeys: 10 }, clock);
    limiter.failed('10.0.0.1');
    limiter.failed('10.0.0.1');
    for (let i = 0; i < 100; i++) limiter.failed(`10.1.0.${i}`);
    expect(limiter.check('10.0.0.1')).toMatchObject({ first: true });
    expect(limiter.check('10.0.0.1')).toMatchObject({ first: false });
  });

  it('refuses exactly the addresses with maxFailures failures in their window (model, fixed seed)', () => {
    const address = fc.constantFrom('10.0.0.1', '10.0.0.2', '2001:db8::1', '2001:db8::2', '2001:db8:0:1::1');
    const step = fc.oneof(
      fc.record({ op: fc.constant('fail' as const), address }),
      fc.record({ op: fc.constant('check' as const), address }),
      fc.record({ op: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: WINDOW / 2 }) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 80 }), (steps) => {
        const clock = createManualClock(0);
        const limiter = createProvisioningLimiter({ maxFailures: 3, windowMs: WINDOW }, clock);
        // the model: per /64, the failures of the window that began with the first failure
        const windows = new Map<string, { start: number; count: number }>();
        const current = (key: string) => {
          const w = windows.get(key);
          return w && clock.now() < w.start + WINDOW ? w : undefined;
        };
        for (const s of steps) {
          if (s.op === 'wait') clock.advance(s.ms);
          else if (s.op === 'fail') {
            const key = addressKey(s.address);
            const w = current(key) ?? { start: clock.now(), count: 0 };
            if (w.count < 3) w.count += 1; // failures are not counted while limited (they cannot happen)
            windows.set(key, w);
            limiter.failed(s.address);
          } else {
            const w = current(addressKey(s.address));
            const limited = w !== undefined && w.count >= 3;
            expect(limiter.check(s.address).waitMs).toBe(limited ? w.start + WINDOW - clock.now() : 0);
          }
        }
      }),
      { seed: 12, numRuns: 300 },
    );
  });
});
