import type { Clock } from '../../core/clock.ts';
import { addressKey } from '../accounts/login-limiter.ts';

/**
 * Failed provisioning claims per source address (IPv6 by its /64, as sign-ins are counted), in a fixed
 * window. What it is for: codes are 60 random bits, so guessing one is hopeless; what a flood of wrong codes
 * costs is log lines and audit records, and this bounds those per address.
 *
 * Only failures count. A field technician provisioning a van-load of devices from one address, or from a
 * carrier's shared address, claims valid codes all morning and is never limited by them. Once an address
 * has `maxFailures` failures in the window, every claim from it is refused until the window ends, a valid
 * code included and before the code is looked at: answering a valid code there would make the limit an
 * oracle (the guesser keeps guessing and learns which guess was right), and the refused code is not spent,
 * so the technician claims it when the window ends (Retry-After says when) or from another network.
 * A success does not clear the address's failures: codes are one-time, and the failures were made anyway.
 */
export interface ProvisioningLimiter {
  /** before a claim: 0, or how long the address waits (`first`: the first refusal of its window, to log) */
  check(address: string): { readonly waitMs: 0 } | { readonly waitMs: number; readonly first: boolean };
  /** a claim from the address was refused (unknown, used or expired code) */
  failed(address: string): void;
}

/**
 * What the provisioning route asks: this node's own limiter, or in a cluster the shared one
 * (cluster/shared-limits.ts).
 */
export interface ProvisioningGate {
  check(address: string): ProvisioningVerdict | Promise<ProvisioningVerdict>;
  failed(address: string): void | Promise<void>;
}

export type ProvisioningVerdict = ReturnType<ProvisioningLimiter['check']>;

export interface ProvisioningLimits {
  maxFailures: number;
  windowMs: number;
  /** addresses tracked at once; a flood of fresh addresses evicts the oldest counts, never a limited one */
  maxKeys?: number;
}

interface Window {
  count: number;
  resetAt: number;
  refused: boolean;
}

export function createProvisioningLimiter(limits: ProvisioningLimits, clock: Clock): ProvisioningLimiter {
  const maxKeys = limits.maxKeys ?? 100_000;
  // counting addresses apart from limited ones: filling the first with fresh addresses cannot free a limited one
  const counting = new Map<string, Window>();
  const limited = new Map<string, Window>();
  const live = (map: Map<string, Window>, key: string, now: number): Window | undefined => {
    const w = map.get(key);
    if (w && w.resetAt <= now) {
      map.delete(key);
      return undefined;
    }
    return w;
  };
  // every window lasts as long, so insertion order is expiry order: the first entry is the one to go
  const insert = (map: Map<string, Window>, key: string, w: Window): void => {
    while (map.size >= maxKeys) map.delete(map.keys().next().value!);
    map.set(key, w);
  };
  return {
    check(address) {
      const now = clock.now();
      const w = live(limited, addressKey(address), now);
      if (!w) return { waitMs: 0 };
      const first = !w.refused;
      w.refused = true;
      return { waitMs: w.resetAt - now, first };
    },
    failed(address) {
      const now = clock.now();
      const key = addressKey(address);
      if (live(limited, key, now)) return;
      const w = live(counting, key, now) ?? { count: 0, resetAt: now + limits.windowMs, refused: false };
      w.count += 1;
      if (w.count >= limits.maxFailures) {
        counting.delete(key);
        insert(limited, key, w);
      } else if (w.count === 1) insert(counting, key, w);
    },
  };
}
