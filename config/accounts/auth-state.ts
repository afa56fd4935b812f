import type { AccountEntry, AuthFile, TokenEntry } from './auth-file.ts';
import type { Principal } from './principal.ts';
import { makeHash, matchesHash, newSecret, splitToken } from './secrets.ts';

/**
 * One validated auth.json, frozen, with the lookups every door needs. Keyed by what clients send: Maps,
 * so "constructor" or "__proto__" is just an unknown name. A reload builds a new one and swaps it in.
 */
export interface AuthState {
  verifyDevice(username: string, password: string): Principal | undefined;
  /** a device's secret entry: its hash (what a certificate session is bound to) and when it was rotated */
  device(sensorId: string): { readonly hash: string; readonly rotatedAt?: string } | undefined;
  /** an API token; `now` decides expiry */
  verifyToken(token: string, now: number): Principal | undefined;
  account(name: string): AccountEntry | undefined;
  tokensOf(account: string): readonly TokenEntry[];
  /** false once the credential a principal logged in with was revoked, rotated, disabled or re-roled */
  isCurrent(principal: Principal, now: number): boolean;
  readonly file: AuthFile;
  readonly deviceCount: number;
  readonly tokenCount: number;
}

const UNKNOWN_DEVICE = makeHash(newSecret());

export function createAuthState(file: AuthFile): AuthState {
  const devices = new Map(Object.entries(file.devices));
  const accounts = new Map(file.accounts.map((a) => [a.name, a]));
  const tokens = new Map(file.tokens.map((t) => [t.id, t]));

  const usable = (t: TokenEntry, now: number): AccountEntry | undefined => {
    if (t.expiresAt !== null && Date.parse(t.expiresAt) <= now) return undefined;
    const account = accounts.get(t.account);
    return account && !account.disabled ? account : undefined;
  };
  const tokenPrincipal = (t: TokenEntry, account: AccountEntry): Principal => ({
    role: account.role,
    name: account.name,
    credential: { scheme: 'token', id: t.id },
  });

  return {
    file,
    deviceCount: devices.size,
    tokenCount: tokens.size,
    device: (sensorId) => devices.get(sensorId),
    verifyDevice(username, password) {
      // an unknown name costs the same hash as a known one: timing does not tell which devices exist
      const entry = devices.get(username);
      if (!entry) matchesHash(UNKNOWN_DEVICE, password);
      return entry && matchesHash(entry, password)
        ? { role: 'device', name: username, sensorId: username, credential: { scheme: 'device', hash: entry.hash } }
        : undefined;
    },
    verifyToken(token, now) {
      const split = splitToken(token);
      // tokens made before ids existed (auth.json version 1) have no "<id>." prefix: few, so scanned
      const candidates = split ? [tokens.get(split.id)] : file.tokens;
      const secret = split ? split.secret : token;
      for (const t of candidates) {
        if (!t || !matchesHash(t, secret)) continue;
        const account = usable(t, now);
        return account ? tokenPrincipal(t, account) : undefined;
      }
      return undefined;
    },
    account: (name) => accounts.get(name),
    tokensOf: (account) => file.tokens.filter((t) => t.account === account),
    isCurrent(principal, now) {
      const c = principal.credential;
      if (!c || c.scheme === 'insecure') return true;
      if (c.scheme === 'device') return devices.get(principal.name)?.hash === c.hash;
      const account = accounts.get(principal.name);
      if (!account || account.disabled || account.role !== principal.role) return false;
      if (c.scheme === 'session') return account.passwordSetAt === c.passwordSetAt;
      const t = tokens.get(c.id);
      return t !== undefined && usable(t, now) !== undefined;
    },
  };
}
