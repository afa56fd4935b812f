import type { Clock } from '../core/clock.ts';

/**
 * The budget of a device: token buckets per account (publishes, and bytes incl. large payloads, shared by
 * all its connections) and per connection (bytes). A publish over a budget is not refused: it is charged
 * (the bucket goes into debt) and `held` until the debt is paid, which holds its PUBACK and, because Aedes
 * reads a connection's next packets only once the current ones are handled, stops the broker from reading
 * and parsing that connection meanwhile (TCP then slows the sender). Only a publish that would wait longer
 * than `maxHoldMs` is `refused` (not stored; the device is told); after `abusiveAfter` refusals without
 * calming down the device is `abusive` and its connection is closed. The count of refusals is reset only
 * once the account's publish bucket has filled up again.
 */
export type RateVerdict =
  | { outcome: 'ok' }
  | { outcome: 'held'; ms: number }
  | { outcome: 'refused' }
  | { outcome: 'abusive' };

export interface RateLimits {
  readonly ratePerSecond: number;
  readonly burst: number;
  readonly bytesPerSecond: number;
  readonly byteBurst: number;
  readonly connectionBytesPerSecond: number;
  readonly maxHoldMs: number;
  readonly abusiveAfter: number;
}

/** A token bucket that may go into debt: `tokens` below 0 is what the holder still has to wait for. */
class Bucket {
  private tokens: number;
  private at: number;
  constructor(
    private readonly rate: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.at = now;
  }
  refill(now: number): void {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) / 1000) * this.rate);
    this.at = now;
  }
  /** ms until `cost` more would be paid for */
  waitFor(cost: number): number {
    const after = this.tokens - cost;
    return after >= 0 ? 0 : (-after / this.rate) * 1000;
  }
  charge(cost: number): void {
    this.tokens -= cost;
  }
  nearlyFull(): boolean {
    return this.tokens >= this.burst - 1;
  }
}

interface AccountBudget {
  publishes: Bucket;
  bytes: Bucket;
  refusedInRow: number;
}

/** The common verdict, one object for all (take runs for every publish). */
const OK: RateVerdict = Object.freeze({ outcome: 'ok' });

/** What an account used since the last report (cluster mode: cluster/shared-broker-limits.ts). */
export interface AccountUsage {
  readonly account: string;
  readonly publishes: number;
  readonly bytes: number;
}

export class PublishRateLimiter {
  private readonly accounts = new Map<string, AccountBudget>();
  private readonly connections = new WeakMap<object, Bucket>();
  /** publishes and bytes charged per account since the last report; only in cluster mode (shareUsage) */
  private usage: Map<string, [number, number]> | undefined;

  constructor(
    private readonly limits: RateLimits,
    private readonly clock: Clock,
  ) {}

  /**
   * The same budget for a request that cannot be held (HTTP ingest): charged when it fits now, else
   * refused without charging, with the time until it would fit (the answer's Retry-After).
   */
  takeNow(account: string, connection: object, bytes: number): { ok: true } | { ok: false; retryAfterMs: number } {
    const { budget, own } = this.budgetOf(account, connection);
    const wait = Math.max(budget.publishes.waitFor(1), budget.bytes.waitFor(bytes), own.waitFor(bytes));
    if (wait > 0) return { ok: false, retryAfterMs: Math.ceil(wait) };
    budget.publishes.charge(1);
    budget.bytes.charge(bytes);
    own.charge(bytes);
    if (this.usage) this.tally(account, bytes);
    return { ok: true };
  }

  /** Starts counting what each account uses, for the other nodes of a cluster (takeUsage, chargeRemote). */
  shareUsage(): void {
    this.usage ??= new Map();
  }

  /**
   * What accounts used since the last call, those at or above either floor (a fleet's quiet devices are not
   * sent every second); the count starts again.
   */
  takeUsage(publishFloor: number, byteFloor: number): AccountUsage[] {
    const out: AccountUsage[] = [];
    if (!this.usage) return out;
    for (const [account, [publishes, bytes]] of this.usage) {
      if (publishes >= publishFloor || bytes >= byteFloor) out.push({ account, publishes, bytes });
    }
    this.usage.clear();
    return out;
  }

  /**
   * Charges what `account` used on another node to its budget here (it may go into debt: what it sends here
   * then waits, or is refused past the hold), so that a device spread over nodes has one budget, not one each.
   */
  chargeRemote(account: string, publishes: number, bytes: number): void {
    const now = this.clock.now();
    const budget = this.accountBudget(account, now);
    budget.publishes.refill(now);
    budget.bytes.refill(now);
    budget.publishes.charge(publishes);
    budget.bytes.charge(bytes);
  }

  private tally(account: string, bytes: number): void {
    const t = this.usage!.get(account);
    if (t) {
      t[0]++;
      t[1] += bytes;
    } else this.usage!.set(account, [1, bytes]);
  }

  /** The budget kept for `account`, a full one made the first time. */
  private accountBudget(account: string, now: number): AccountBudget {
    let budget = this.accounts.get(account);
    if (!budget) {
      const L = this.limits;
      budget = {
        publishes: new Bucket(L.ratePerSecond, L.burst, now),
        bytes: new Bucket(L.bytesPerSecond, L.byteBurst, now),
        refusedInRow: 0,
      };
      this.accounts.set(account, budget);
    }
    return budget;
  }

  private budgetOf(account: string, connection: object): { budget: AccountBudget; own: Bucket } {
    const now = this.clock.now();
    const L = this.limits;
    const budget = this.accountBudget(account, now);
    let own = this.connections.get(connection);
    if (!own) {
      own = new Bucket(L.connectionBytesPerSecond, L.byteBurst, now);
      this.connections.set(connection, own);
    }
    for (const b of [budget.publishes, budget.bytes, own]) b.refill(now);
    return { budget, own };
  }

  /**
   * An integration account's publish: each message it carries is charged to the device it is for
   * (ingest/device-charge.ts), not to the integration; its connection still pays for the bytes, and is held
   * over that budget like a device's (refused beyond `maxHoldMs`).
   */
  takeConnection(connection: object, bytes: number): RateVerdict {
    const now = this.clock.now();
    let own = this.connections.get(connection);
    if (!own) {
      own = new Bucket(this.limits.connectionBytesPerSecond, this.limits.byteBurst, now);
      this.connections.set(connection, own);
    }
    own.refill(now);
    const wait = own.waitFor(bytes);
    if (wait > this.limits.maxHoldMs) return { outcome: 'refused' };
    own.charge(bytes);
    return wait > 0 ? { outcome: 'held', ms: Math.ceil(wait) } : { outcome: 'ok' };
  }

  /** Charges one publish of `bytes` to `account` and `connection`, or refuses it. */
  take(account: string, connection: object, bytes: number): RateVerdict {
    const now = this.clock.now();
    const L = this.limits;
    const budget = this.accountBudget(account, now);
    let own = this.connections.get(connection);
    if (!own) {
      // one connection may use the account's burst, but not more than its own share of the rate
      own = new Bucket(L.connectionBytesPerSecond, L.byteBurst, now);
      this.connections.set(connection, own);
    }
    budget.publishes.refill(now);
    budget.bytes.refill(now);
    own.refill(now);
    // a device far beyond the rate gets a turn now and then, which must not wipe its record
    if (budget.publishes.nearlyFull()) budget.refusedInRow = 0;
    const wait = Math.max(budget.publishes.waitFor(1), budget.bytes.waitFor(bytes), own.waitFor(bytes));
    if (wait > L.maxHoldMs) {
      budget.refusedInRow++;
      return budget.refusedInRow >= L.abusiveAfter ? { outcome: 'abusive' } : { outcome: 'refused' };
    }
    budget.publishes.charge(1);
    budget.bytes.charge(bytes);
    own.charge(bytes);
    if (this.usage) this.tally(account, bytes);
    return wait > 0 ? { outcome: 'held', ms: Math.ceil(wait) } : OK;
  }
}
