import type { Clock } from '../../core/clock.ts';

/**
 * Failed sign-ins, counted per account and per source address in a fixed window. Either key over its
 * limit refuses the next attempt before any password is checked, so guessing costs the attacker time and
 * costs the platform no argon2 work. A success clears the account's count (not the address's: one good
 * password from an address must not reset the guesses made from it against other accounts).
 */
export interface LoginLimiter {
  /** milliseconds until the next attempt is allowed, or 0 */
  blockedFor(account: string, address: string): number;
  /**
   * Starts an attempt: the milliseconds to wait when over a limit, else 0 and the attempt counts as a
   * failure at once, before the password is checked, so attempts sent in parallel cannot all slip
   * under the limit while their argon2 checks run. `succeeded` gives it back.
   */
  attempt(account: string, address: string): number;
  failed(account: string, address: string): void;
  /** clears the account's count; with `address`, gives back the attempt `attempt` counted for it */
  succeeded(account: string, address?: string): void;
}

export interface LoginLimits { maxFailuresPerAccount: number; maxFailuresPerAddress: number; windowMs: number; maxKeys?: number }

export function createLoginLimiter(limits: LoginLimits, clock: Clock): LoginLimiter {
  const windows = new Map<string, { count: number; resetAt: number }>();
  const maxKeys = limits.maxKeys ?? 100_000;
  const over = (key: string, max: number): number => {
    const w = windows.get(key);
    if (!w) return 0;
    const now = clock.now();
    if (w.resetAt <= now) {
      windows.delete(key);
      return 0;
    }
    return w.count >= max ? w.resetAt - now : 0;
  };
  const bump = (key: string) => {
    const now = clock.now();
    const w = windows.get(key);
    if (w && w.resetAt > now) {
      w.count++;
      return;
    }
    if (windows.size >= maxKeys) {
      for (const [k, v] of windows) if (v.resetAt <= now) windows.delete(k);
      // a flood of distinct keys: forget the oldest rather than grow without bound
      if (windows.size >= maxKeys) windows.delete(windows.keys().next().value!);
    }
    windows.set(key, { count: 1, resetAt: now + limits.windowMs });
  };
  return {
    blockedFor: (account, address) => Math.max(over(`a:${account}`, limits.maxFailuresPerAccount), over(`ip:${address}`, limits.maxFailuresPerAddress)),
    failed(account, address) {
      bump(`a:${account}`);
      bump(`ip:${address}`);
    },
    attempt(account, address) {
      const wait = Math.max(over(`a:${account}`, limits.maxFailuresPerAccount), over(`ip:${address}`, limits.maxFailuresPerAddress));
      if (wait > 0) return wait;
      bump(`a:${account}`);
      bump(`ip:${address}`);
      return 0;
    },
    succeeded(account, address) {
      windows.delete(`a:${account}`);
      const w = address === undefined ? undefined : windows.get(`ip:${address}`);
      if (w && w.count > 0) w.count--;
    },
  };
}
