import type { Clock } from '../../core/clock.ts';

/**
 * Failed sign-ins, counted in a fixed window under three keys, so that guessing costs the attacker time
 * and the platform no argon2 work, while nobody can lock a person out by guessing under their name:
 * - the pair (account, address): `maxFailuresPerAccount` from one address refuses that address for that
 *   account only; the owner at their own desk is not affected by a flood from elsewhere;
 * - the address: `maxFailuresPerAddress` across accounts (one address spraying many names);
 * - the account across every address: `maxFailuresPerAccountAllAddresses`, much higher, refuses addresses
 *   the account has never signed in from (a botnet spreading guesses over many addresses), but not the
 *   addresses it signed in from within `knownAddressMs`: the owner keeps getting in.
 * A success from an address clears that pair, gives back the attempt counted for it, and remembers the
 * address as known for the account. It does not clear the address (one good password must not reset the
 * guesses made from there against other accounts) nor the account-wide count (the flood goes on).
 */
export type LoginLimit = 'account_address' | 'address' | 'account';

export type LoginVerdict =
  | { readonly waitMs: 0 }
  /** `first`: the first refusal of this key in its window, the one worth a log line */
  | { readonly waitMs: number; readonly limit: LoginLimit; readonly first: boolean };

export interface LoginLimiter {
  /**
   * Starts an attempt: over a limit, how long to wait; else the attempt counts as a failure at once,
   * before the password is checked, so attempts sent in parallel cannot all slip under the limit while
   * their argon2 checks run. `succeeded` gives it back.
   */
  attempt(account: string, address: string): LoginVerdict;
  succeeded(account: string, address: string): void;
}

export interface LoginLimits {
  maxFailuresPerAccount: number;
  maxFailuresPerAddress: number;
  maxFailuresPerAccountAllAddresses: number;
  windowMs: number;
  knownAddressMs: number;
  maxKeys?: number;
}

interface Window { count: number; resetAt: number; refused: boolean }

/** A Map bounded in size: expired entries go first, then the oldest, so a flood of keys cannot grow it. */
class BoundedWindows<V extends { resetAt: number }> {
  private readonly map = new Map<string, V>();
  constructor(private readonly maxKeys: number) {}
  get(key: string, now: number): V | undefined {
    const v = this.map.get(key);
    if (v && v.resetAt <= now) {
      this.map.delete(key);
      return undefined;
    }
    return v;
  }
  set(key: string, value: V, now: number): void {
    if (this.map.size >= this.maxKeys) {
      for (const [k, v] of this.map) if (v.resetAt <= now) this.map.delete(k);
      if (this.map.size >= this.maxKeys) this.map.delete(this.map.keys().next().value!);
    }
    this.map.delete(key);
    this.map.set(key, value);
  }
  delete(key: string): void {
    this.map.delete(key);
  }
}

export function createLoginLimiter(limits: LoginLimits, clock: Clock): LoginLimiter {
  const maxKeys = limits.maxKeys ?? 100_000;
  const windows = new BoundedWindows<Window>(maxKeys);
  // addresses each account signed in from: filled only by correct passwords, so a flood cannot evict them
  const known = new BoundedWindows<{ resetAt: number }>(maxKeys);
  const pairKey = (account: string, address: string) => `p\u0000${account}\u0000${address}`;
  const bump = (key: string, now: number) => {
    const w = windows.get(key, now);
    if (w) w.count++;
    else windows.set(key, { count: 1, resetAt: now + limits.windowMs, refused: false }, now);
  };
  const over = (key: string, max: number, now: number): Window | undefined => {
    const w = windows.get(key, now);
    return w && w.count >= max ? w : undefined;
  };
  return {
    attempt(account, address) {
      const now = clock.now();
      const pair = pairKey(account, address);
      const checks: [string, number, LoginLimit][] = [
        [pair, limits.maxFailuresPerAccount, 'account_address'],
        [`ip\u0000${address}`, limits.maxFailuresPerAddress, 'address'],
      ];
      const anyAddress = limits.maxFailuresPerAccountAllAddresses;
      if (!known.get(pair, now)) checks.push([`a\u0000${account}`, anyAddress, 'account']);
      for (const [key, max, limit] of checks) {
        const w = over(key, max, now);
        if (!w) continue;
        const first = !w.refused;
        w.refused = true;
        return { waitMs: w.resetAt - now, limit, first };
      }
      bump(pair, now);
      bump(`ip\u0000${address}`, now);
      bump(`a\u0000${account}`, now);
      return { waitMs: 0 };
    },
    succeeded(account, address) {
      const now = clock.now();
      const pair = pairKey(account, address);
      windows.delete(pair);
      known.set(pair, { resetAt: now + limits.knownAddressMs }, now);
      for (const key of [`ip\u0000${address}`, `a\u0000${account}`]) {
        const w = windows.get(key, now);
        if (w && w.count > 0) w.count--;
      }
    },
  };
}
