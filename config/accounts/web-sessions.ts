import type { Clock } from '../../core/clock.ts';
import type { Role } from './auth-file.ts';
import type { Principal } from './principal.ts';
import { digest, newSecret } from './secrets.ts';

/**
 * Console sign-ins: a random id in an httpOnly cookie, kept here by its digest with the account, the role
 * and the password stamp it was made under. Each request re-checks the account (live-auth isCurrent), so
 * disabling it or resetting its password ends the session at once. Kept in memory: a restart signs
 * everybody out, which is the safe direction. In a cluster the sessions are also kept in a shared store
 * (Redis: cluster/redis-web-sessions.ts), so a sign-in on one node holds on every node and a sign-out on one
 * ends it on all; this memory is then each node's cache of it.
 */
export interface WebSession {
  readonly account: string;
  readonly role: Role;
  readonly passwordSetAt: string;
  readonly expiresAt: number;
}

/** Where a cluster's nodes find each other's sessions, by key (the digest of the cookie value). */
export interface SharedSessionStore {
  save(key: string, session: WebSession, ttlMs: number): Promise<void>;
  load(key: string): Promise<WebSession | undefined>;
  remove(key: string): Promise<void>;
  /** the sessions of `account` the store holds, by key (to end those a revocation left there) */
  sessionsOf(account: string): Promise<Array<[key: string, session: WebSession]>>;
}

export interface WebSessions {
  /** `stored`: settles once the shared store has it (in a cluster); never rejects */
  create(account: string, role: Role, passwordSetAt: string): { id: string; expiresAt: number; stored: Promise<void> };
  /** brings a session another node made into this node's memory, before the request is checked */
  load(id: string): Promise<void>;
  /** the principal of a cookie value, or undefined when unknown or expired */
  principal(id: string): Principal | undefined;
  /** signs out here and, in a cluster, on every node (settles once the shared store dropped it) */
  end(id: string): Promise<void>;
  /** drops this node's copy (the session ended on another node) */
  forget(key: string): void;
  /** the keys this node holds (checked against the shared store after a lost connection) */
  keys(): string[];
  /** whether the session with this key (a principal's credential id) is still signed in and unexpired */
  isLive(key: string): boolean;
  /** drops sessions the predicate rejects (after a reload) and the expired ones */
  prune(keep: (principal: Principal) => boolean): void;
  /**
   * In a cluster, ends in the shared store the sessions of `accounts` (those whose entry just changed) that
   * `keep` rejects, whichever node made them: a copy left there would come back to life on a node that loads
   * it once the account does (enabled again, its role given back). Settles when done; never rejects.
   */
  revoke(accounts: readonly string[], keep: (session: WebSession) => boolean): Promise<void>;
  readonly size: number;
}

export function createWebSessions(deps: {
  clock: Clock;
  ttlMs: number;
  maxSessions?: number;
  shared?: SharedSessionStore;
  /** where a failed write to the shared store is told (without the key) */
  onSharedError?: (err: Error, what: string) => void;
}): WebSessions {
  const sessions = new Map<string, WebSession>();
  const max = deps.maxSessions ?? 10_000;
  const toPrincipal = (s: WebSession, key: string): Principal => ({
    role: s.role,
    name: s.account,
    credential: { scheme: 'session', id: key, passwordSetAt: s.passwordSetAt },
  });

  const shared = deps.shared;
  const settle = (work: Promise<void> | undefined, what: string): Promise<void> =>
    (work ?? Promise.resolve()).catch((err: Error) => deps.onSharedError?.(err, what));
  const remember = (key: string, s: WebSession) => {
    if (sessions.size >= max) prune(() => true);
    // still full of live sessions: the oldest goes (Map keeps insertion order), memory stays bounded
    if (sessions.size >= max) sessions.delete(sessions.keys().next().value!);
    sessions.set(key, s);
  };
  const prune = (keep: (p: Principal) => boolean) => {
    const now = deps.clock.now();
    for (const [key, s] of sessions) if (s.expiresAt <= now || !keep(toPrincipal(s, key))) sessions.delete(key);
  };
  return {
    create(account, role, passwordSetAt) {
      const id = newSecret();
      const expiresAt = deps.clock.now() + deps.ttlMs;
      const session = { account, role, passwordSetAt, expiresAt };
      remember(digest(id), session);
      return { id, expiresAt, stored: settle(shared?.save(digest(id), session, deps.ttlMs), 'save') };
    },
    async load(id) {
      const key = digest(id);
      if (!shared || sessions.has(key)) return;
      const found = await shared.load(key).catch((err: Error) => {
        deps.onSharedError?.(err, 'load');
        return undefined;
      });
      if (found && found.expiresAt > deps.clock.now() && !sessions.has(key)) remember(key, found);
    },
    principal(id) {
      const key = digest(id);
      const s = sessions.get(key);
      if (!s) return undefined;
      if (s.expiresAt <= deps.clock.now()) {
        sessions.delete(key);
        return undefined;
      }
      return toPrincipal(s, key);
    },
    end: (id) => {
      sessions.delete(digest(id));
      return settle(shared?.remove(digest(id)), 'remove');
    },
    forget: (key) => {
      sessions.delete(key);
    },
    keys: () => [...sessions.keys()],
    async revoke(accounts, keep) {
      if (!shared) return;
      for (const account of accounts) {
        const found = await shared.sessionsOf(account).catch((err: Error) => {
          deps.onSharedError?.(err, 'revoke');
          return [];
        });
        for (const [key, session] of found) {
          if (keep(session)) continue;
          sessions.delete(key);
          await settle(shared.remove(key), 'revoke');
        }
      }
    },
    isLive: (key) => (sessions.get(key)?.expiresAt ?? 0) > deps.clock.now(),
    prune,
    get size() {
      return sessions.size;
    },
  };
}
