import { addressKey } from '../../core/address-key.ts';
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

/**
 * What the sign-in route asks: the node's own limiter, or in a cluster the one that counts in Redis for every node
 * (cluster/shared-limits.ts), which answers asynchronously.
 */
export interface LoginGate {
  attempt(account: string, address: string): LoginVerdict | Promise<LoginVerdict>;
  succeeded(account: string, address: string): void | Promise<void>;
}

export interface LoginLimits {
  maxFailuresPerAccount: number;
  maxFailuresPerAddress: number;
  maxFailuresPerAccountAllAddresses: number;
  windowMs: number;
  knownAddressMs: number;
  maxKeys?: number;
}

interface Window {
  count: number;
  resetAt: number;
  refused: boolean;
}

/**
 * A Map bounded in size, so a flood of keys cannot grow it. Every entry of one map lives equally long and
 * `set` re-inserts, so insertion order is expiry order: when full, the first entry is the one to go (O(1);
 * a scan per set made each attempt cost O(maxKeys) once a flood had filled it).
 */
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
  set(key: string, value: V): void {
    this.map.delete(key);
    while (this.map.size >= this.maxKeys) this.map.delete(this.map.keys().next().value!);
    this.map.set(key, value);
  }
  delete(key: string): void {
    this.map.delete(key);
  }
}

// the address a limit counts (IPv6 by its /64): kept here too for the callers that import it from here
export { addressKey };

export function createLoginLimiter(limits: LoginLimits, clock: Clock): LoginLimiter {
  const maxKeys = limits.maxKeys ?? 100_000;
  const windows = new BoundedWindows<Window>(maxKeys);
  // account-wide counts apart: a flood of fresh (name, address) pairs must not evict the count of the
  // account it is really after
  const accountWindows = new BoundedWindows<Window>(maxKeys);
  // accounts at their limit move here: evicting one would take a flood of names each guessed as often
  const limitedAccounts = new BoundedWindows<Window>(maxKeys);
  // addresses each account signed in from: filled only by correct passwords, so a flood cannot evict them
  const known = new BoundedWindows<{ resetAt: number }>(maxKeys);
  const pairKey = (account: string, address: string) => `p\u0000${account}\u0000${addressKey(address)}`;
  const mapOf = (key: string, now: number) => {
    if (!key.startsWith('a\u0000')) return windows;
    return limitedAccounts.get(key, now) ? limitedAccounts : accountWindows;
  };
  const bump = (key: string, now: number) => {
    const map = mapOf(key, now);
    const w = map.get(key, now);
    if (!w) return map.set(key, { count: 1, resetAt: now + limits.windowMs, refused: false });
    w.count++;
    if (map === accountWindows && w.count >= limits.maxFailuresPerAccountAllAddresses) {
      accountWindows.delete(key);
      limitedAccounts.set(key, w);
    }
  };
  const over = (key: string, max: number, now: number): Window | undefined => {
    const w = mapOf(key, now).get(key, now);
    return w && w.count >= max ? w : undefined;
  };
  return {
    attempt(account, address) {
      const now = clock.now();
      const pair = pairKey(account, address);
      const checks: [string, number, LoginLimit][] = [[pair, limits.maxFailuresPerAccount, 'account_address']];
      // a person at an address they signed in from before is limited by their own pair only: guesses at
      // other names from the same office address, or at their name from elsewhere, cannot lock them out
      if (!known.get(pair, now)) {
        checks.push([`ip\u0000${addressKey(address)}`, limits.maxFailuresPerAddress, 'address']);
        checks.push([`a\u0000${account}`, limits.maxFailuresPerAccountAllAddresses, 'account']);
      }
      for (const [key, max, limit] of checks) {
        const w = over(key, max, now);
        if (!w) continue;
        const first = !w.refused;
        w.refused = true;
        return { waitMs: w.resetAt - now, limit, first };
      }
      bump(pair, now);
      bump(`ip\u0000${addressKey(address)}`, now);
      bump(`a\u0000${account}`, now);
      return { waitMs: 0 };
    },
    succeeded(account, address) {
      const now = clock.now();
      const pair = pairKey(account, address);
      windows.delete(pair);
      known.set(pair, { resetAt: now + limits.knownAddressMs });
      for (const key of [`ip\u0000${addressKey(address)}`, `a\u0000${account}`]) {
        const w = mapOf(key, now).get(key, now);
        if (w && w.count > 0) w.count--;
      }
    },
  };
}
