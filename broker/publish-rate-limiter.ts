import type { Clock } from '../config/clock.ts';

/**
 * A token bucket per device account (shared by all its connections): `ratePerSecond` sustained,
 * `burst` at once, so a device flushing a backlog after an outage is not refused. A publish without a
 * token is `refused` (not stored; the device is told); after `abusiveAfter` refusals without calming down the device
 * is `abusive` and its connection is closed;
 * the count is reset only when its bucket has filled up again.
 */
export type RateVerdict = 'ok' | 'refused' | 'abusive';

export interface RateLimits {
  readonly ratePerSecond: number;
  readonly burst: number;
  readonly abusiveAfter: number;
}

interface Bucket { tokens: number; at: number; refusedInRow: number }

export class PublishRateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly limits: RateLimits, private readonly clock: Clock) {}

  take(account: string): RateVerdict {
    const now = this.clock.now();
    let bucket = this.buckets.get(account);
    if (!bucket) {
      bucket = { tokens: this.limits.burst, at: now, refusedInRow: 0 };
      this.buckets.set(account, bucket);
    }
    bucket.tokens = Math.min(this.limits.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.limits.ratePerSecond);
    bucket.at = now;
    // the count of refusals starts again only once the device has calmed down (its bucket full again): a
    // device far beyond the rate gets a token now and then, which must not wipe its record
    if (bucket.tokens >= this.limits.burst - 1) bucket.refusedInRow = 0;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 'ok';
    }
    bucket.refusedInRow++;
    return bucket.refusedInRow >= this.limits.abusiveAfter ? 'abusive' : 'refused';
  }
}
